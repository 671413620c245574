package image

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// JREPackage is Debian's JRE-only package: java and the JVM, none of the JDK's tools
// (jcmd, jstack, jmap), like the eclipse-temurin -jre and distroless images.
const JREPackage = "openjdk-17-jre-headless"

// Bind is one read-only bind mount: the host's Source at Destination in the container.
type Bind struct{ Source, Destination string }

// Binds are HostJDK's mounts, each at its own path.
func (j JDK) Binds() []Bind {
	var b []Bind
	for _, m := range j.Mounts {
		b = append(b, Bind{m, m})
	}
	return b
}

// JREBinds are the mounts of a JRE-only runtime: HostJDK's, except that JAVA_HOME is a
// copy of just the files JREPackage installs there (hard links where the file system
// allows), made once under cacheRoot and reused. Only Debian has the package list
// (dpkg-query); elsewhere it fails.
func JREBinds(cacheRoot string) ([]Bind, error) {
	jdk, err := HostJDK()
	if err != nil {
		return nil, err
	}
	version, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", JREPackage).Output()
	if err != nil {
		return nil, fmt.Errorf("cannot find the version of %s (install it with apt): %w", JREPackage, err)
	}
	tree := filepath.Join(cacheRoot, "holdfast-jre-"+strings.NewReplacer("/", "_", ":", "_", "~", "_").Replace(string(version)))
	if _, err := os.Stat(filepath.Join(tree, "bin", "java")); err != nil {
		if err := buildJRE(jdk.Home, cacheRoot, tree); err != nil {
			return nil, err
		}
	}
	binds := []Bind{{tree, jdk.Home}}
	for _, m := range jdk.Mounts {
		if m != filepath.Dir(jdk.Home) {
			binds = append(binds, Bind{m, m})
		}
	}
	return binds, nil
}

// buildJRE copies the files of JREPackage under home into tree, through a temp dir
// renamed into place (a concurrent builder's copy wins).
func buildJRE(home, cacheRoot, tree string) error {
	list, err := exec.Command("dpkg-query", "-L", JREPackage).Output()
	if err != nil {
		return fmt.Errorf("cannot list the files of %s: %w", JREPackage, err)
	}
	tmp, err := os.MkdirTemp(cacheRoot, "holdfast-jre-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, p := range strings.Split(string(list), "\n") {
		rel, ok := strings.CutPrefix(p, home+"/")
		if !ok {
			continue
		}
		if err := copyEntry(p, filepath.Join(tmp, rel)); err != nil {
			return fmt.Errorf("cannot copy %s: %w", p, err)
		}
	}
	if err := os.Rename(tmp, tree); err != nil {
		if _, serr := os.Stat(filepath.Join(tree, "bin", "java")); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

// copyEntry copies one file, link or directory (not its contents) from src to dst.
func copyEntry(src, dst string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		return os.MkdirAll(dst, fi.Mode().Perm())
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	}
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
