package policystate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Fingerprint identifies what runs: the exact command line, the contents
// of its executable (argv[0], looked up in the PATH of env when it has no
// slash) and the contents of every argument that names a .jar or .war file.
// A new image (another JVM, another app jar) or another command line gives
// another fingerprint, and so a fresh budget. A file that cannot be read
// counts by its name and the error, so the same failure gives the same
// fingerprint.
func Fingerprint(argv, env []string) string {
	h := sha256.New()
	for _, a := range argv {
		fmt.Fprintf(h, "arg %d %s\x00", len(a), a)
	}
	if len(argv) > 0 {
		hashFile(h, "exe", lookPath(argv[0], env))
	}
	for _, a := range argv[1:] {
		if strings.HasSuffix(a, ".jar") || strings.HasSuffix(a, ".war") {
			hashFile(h, "jar", a)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// hashFile adds the contents of the regular file at path to h.
func hashFile(h io.Writer, what, path string) {
	fmt.Fprintf(h, "%s %s\x00", what, path)
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(h, "error %v\x00", err)
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		fmt.Fprintf(h, "not a regular file\x00")
		return
	}
	if _, err := io.Copy(h, f); err != nil {
		fmt.Fprintf(h, "error %v\x00", err)
	}
}

// lookPath finds name as execve(2) through the PATH of env would.
func lookPath(name string, env []string) string {
	if strings.Contains(name, "/") {
		return name
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}
