package image

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxPath is the static busybox of Debian's busybox-static package.
const BusyboxPath = "/bin/busybox"

// JDK is the host JDK a BusyboxBase container runs: the image carries no JVM, so these
// host directories are bind-mounted read-only at the same paths (runc mounts, or
// hostPath volumes in a pod).
type JDK struct {
	Home   string   // JAVA_HOME, symlinks resolved: /usr/lib/jvm/java-17-openjdk-amd64
	Interp string   // the ELF interpreter java asks for: /lib64/ld-linux-x86-64.so.2
	Mounts []string // host directories to bind read-only, sorted
}

// HostJDK finds the JDK of `java` on PATH and the host directories it needs: the JVM
// directory, the multiarch library directory of the dynamic loader (libc, libz), and the
// /etc directories its lib/ symlinks into (Debian's lib/jvm.cfg is a symlink into
// /etc/java-17-openjdk: without it java does not start; lib/security/cacerts points into
// /etc/ssl/certs/java).
func HostJDK() (JDK, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return JDK{}, fmt.Errorf("cannot find java on PATH (install openjdk-17-jdk-headless): %w", err)
	}
	if java, err = filepath.EvalSymlinks(java); err != nil {
		return JDK{}, fmt.Errorf("cannot resolve java: %w", err)
	}
	jdk := JDK{Home: filepath.Dir(filepath.Dir(java))}
	f, err := elf.Open(java)
	if err != nil {
		return JDK{}, fmt.Errorf("cannot read %s: %w", java, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return JDK{}, fmt.Errorf("cannot read the interpreter of %s: %w", java, err)
			}
			jdk.Interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if jdk.Interp == "" {
		return JDK{}, fmt.Errorf("cannot use %s: it names no ELF interpreter", java)
	}
	loader, err := filepath.EvalSymlinks(jdk.Interp)
	if err != nil {
		return JDK{}, fmt.Errorf("cannot resolve %s: %w", jdk.Interp, err)
	}
	mounts := []string{filepath.Dir(jdk.Home), filepath.Dir(loader)}
	for _, rel := range []string{"lib/jvm.cfg", "lib/security/cacerts"} {
		target, err := filepath.EvalSymlinks(filepath.Join(jdk.Home, rel))
		if err != nil {
			if rel == "lib/jvm.cfg" {
				return JDK{}, fmt.Errorf("cannot resolve the JDK's %s: %w", rel, err)
			}
			continue
		}
		if dir := filepath.Dir(target); !underAny(dir, mounts) {
			mounts = append(mounts, dir)
		}
	}
	slices.Sort(mounts)
	jdk.Mounts = slices.Compact(mounts)
	return jdk, nil
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// Env is the environment a BusyboxBase image sets, as a JRE image does.
func (j JDK) Env() []string {
	return []string{
		"PATH=" + j.Home + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"JAVA_HOME=" + j.Home,
	}
}

var busybox struct {
	once sync.Once
	img  v1.Image
	err  error
}

// BusyboxBase is a minimal base image standing in for a JRE image: busybox-static with
// its applets as symlinks, a merged-/usr layout (/bin, /sbin, /lib, /lib64 are symlinks
// into /usr, as on Debian 12), the host JDK's ELF interpreter linked to where the host
// has it, passwd/group/hosts, empty mount points for the JDK directories, and Env with
// PATH and JAVA_HOME of the host JDK. Built once per process; the image is immutable.
func BusyboxBase() (v1.Image, error) {
	busybox.once.Do(func() { busybox.img, busybox.err = buildBusyboxBase() })
	return busybox.img, busybox.err
}

func buildBusyboxBase() (v1.Image, error) {
	jdk, err := HostJDK()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("cannot list the applets of %s (install busybox-static): %w", BusyboxPath, err)
	}
	w := newLayerWriter()
	for _, l := range [][2]string{{"/bin", "usr/bin"}, {"/sbin", "usr/sbin"}, {"/lib", "usr/lib"}, {"/lib64", "usr/lib64"}} {
		if err := w.symlink(l[0], l[1]); err != nil {
			return nil, err
		}
	}
	dirs := []struct {
		p    string
		mode os.FileMode
	}{
		{"/usr/bin", 0o755}, {"/usr/sbin", 0o755}, {"/usr/lib", 0o755}, {"/usr/lib64", 0o755},
		{"/usr/local/bin", 0o755}, {"/etc", 0o755}, {"/root", 0o700}, {"/home", 0o755},
		{"/tmp", 0o777 | os.ModeSticky}, {"/var/tmp", 0o777 | os.ModeSticky}, {"/run", 0o755},
		{"/proc", 0o555}, {"/sys", 0o555}, {"/dev", 0o755},
	}
	for _, d := range dirs {
		if err := w.dir(d.p, d.mode, 0, 0); err != nil {
			return nil, err
		}
	}
	for _, m := range jdk.Mounts {
		if err := w.mountPoint(m); err != nil {
			return nil, err
		}
	}
	if err := w.hostFile("/usr/bin/busybox", BusyboxPath, 0o755, 0, 0); err != nil {
		return nil, err
	}
	for _, applet := range strings.Fields(string(out)) {
		p := usrMerged("/" + applet)
		if p == "/usr/bin/busybox" || w.seen[p] {
			continue
		}
		if err := w.symlink(p, "/usr/bin/busybox"); err != nil {
			return nil, err
		}
	}
	// java names its loader by an absolute path (/lib64/ld-linux-x86-64.so.2); link it to
	// the host's real file, which the library mount provides.
	loader, err := filepath.EvalSymlinks(jdk.Interp)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve %s: %w", jdk.Interp, err)
	}
	if p := usrMerged(jdk.Interp); p != loader && !w.seen[p] {
		if err := w.symlink(p, loader); err != nil {
			return nil, err
		}
	}
	etc := map[string]string{
		"/etc/passwd":        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"/etc/group":         "root:x:0:\nnogroup:x:65534:\n",
		"/etc/hosts":         "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	}
	for _, p := range sortedKeys(etc) {
		if err := w.file(p, []byte(etc[p]), 0o644, 0, 0); err != nil {
			return nil, err
		}
	}
	layer, err := w.layer()
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, fmt.Errorf("cannot add the busybox layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("cannot read the busybox config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Env = jdk.Env()
	cf.Config.Cmd = []string{"sh"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("cannot set the busybox config: %w", err)
	}
	return img, nil
}

// mountPoint adds an empty directory at an absolute host path, through the merged-/usr
// layout (a mount point must not be reached through one of the top-level symlinks).
func (w *layerWriter) mountPoint(p string) error {
	p = usrMerged(p)
	if w.seen[p] {
		return nil
	}
	return w.dir(p, 0o755, 0, 0)
}

// usrMerged maps /bin/x, /sbin/x, /lib/x and /lib64/x to their /usr places, where the
// base keeps real directories.
func usrMerged(p string) string {
	p = path.Clean(p)
	for _, top := range []string{"/bin", "/sbin", "/lib", "/lib64"} {
		if p == top || strings.HasPrefix(p, top+"/") {
			return "/usr" + p
		}
	}
	return p
}
