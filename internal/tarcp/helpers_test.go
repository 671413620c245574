package tarcp

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runMain runs Main with stdin and stdout on real pipes, as kubectl exec
// connects a container's tar.
func runMain(t *testing.T, argv []string, stdin []byte) (code int, stdout []byte, stderr string) {
	t.Helper()
	inR, inW, err := os.Pipe()
	must(t, err)
	outR, outW, err := os.Pipe()
	must(t, err)
	go func() {
		inW.Write(stdin)
		inW.Close()
	}()
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&out, outR)
		close(read)
	}()
	var errb bytes.Buffer
	code = Main(argv, inR, outW, &errb)
	inR.Close()
	outW.Close()
	<-read
	outR.Close()
	return code, out.Bytes(), errb.String()
}

// gnuTar runs GNU tar with args in dir, stdin from a pipe.
func gnuTar(t *testing.T, dir string, stdin []byte, args ...string) (code int, stdout []byte, stderr string) {
	t.Helper()
	cmd := exec.Command("tar", args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.Bytes(), errb.String()
	}
	must(t, err)
	return 0, out.Bytes(), errb.String()
}

// member is what a comparison looks at in one archive member.
type member struct {
	Name, Linkname, Uname, Gname string
	Type                         byte
	Mode                         int64
	Uid, Gid                     int
	Size, Mtime                  int64
	Devmajor, Devminor           int64
	Sum                          string
}

func members(t *testing.T, archive []byte) []member {
	t.Helper()
	var out []member
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		sum := sha256.New()
		io.Copy(sum, tr)
		out = append(out, member{Name: h.Name, Linkname: h.Linkname, Uname: h.Uname, Gname: h.Gname,
			Type: h.Typeflag, Mode: h.Mode, Uid: h.Uid, Gid: h.Gid, Size: h.Size, Mtime: h.ModTime.Unix(),
			Devmajor: h.Devmajor, Devminor: h.Devminor, Sum: hex.EncodeToString(sum.Sum(nil))[:16]})
	}
	// GNU tar writes a directory in readdir order, holdfast's in name
	// order; kubectl does not care. Hard links name the first member of
	// the order, so they are compared as a set of names.
	slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// node is one file of an extracted tree.
type node struct {
	Type       fs.FileMode
	Perm       fs.FileMode
	Uid, Gid   uint32
	Content    string
	Link       string
	Nlink      uint64
	RecentTime bool // mtime within the last hour (tar -m)
}

func tree(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		n := node{Type: fi.Mode().Type(), Perm: fi.Mode() & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid),
			Uid: st.Uid, Gid: st.Gid, RecentTime: time.Since(fi.ModTime()) < time.Hour}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			must(t, err)
			n.Content = string(b)
			n.Nlink = uint64(st.Nlink)
		case fi.Mode()&fs.ModeSymlink != 0:
			n.Link, _ = os.Readlink(p)
		}
		if fi.IsDir() {
			n.Uid, n.Gid = 0, 0 // the extraction dirs themselves are the test's
			if rel != "." {
				n.Uid, n.Gid = st.Uid, st.Gid
			}
		}
		out[rel] = n
		return nil
	}))
	return out
}

func diffTrees(a, b map[string]node) []string {
	var diffs []string
	for k, va := range a {
		if vb, ok := b[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only in the first", k))
		} else if va != vb {
			diffs = append(diffs, fmt.Sprintf("%s: %+v vs %+v", k, va, vb))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only in the second", k))
		}
	}
	slices.Sort(diffs)
	return diffs
}

// lutime sets the mtime of p without following a link.
func lutime(t *testing.T, p string, at time.Time) {
	t.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(at.UnixNano())}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
}

// makeSource builds the tree both tars archive: modes, an empty dir, a
// symlink, a dangling one, a hard link, a blank in a name, a name longer
// than 100 bytes, a fifo, a file of another owner, all with old mtimes.
func makeSource(t *testing.T, base string) string {
	t.Helper()
	a := filepath.Join(base, "src", "a")
	must(t, os.MkdirAll(filepath.Join(a, "sub", "deeper"), 0o755))
	must(t, os.Mkdir(filepath.Join(a, "empty"), 0o700))
	files := map[string]fs.FileMode{"f.txt": 0o640, "run.sh": 0o755, "sub/deep.log": 0o644,
		"with space.txt": 0o600, "sub/deeper/" + strings.Repeat("n", 120) + ".txt": 0o644, "open.txt": 0o666}
	for name, mode := range files {
		p := filepath.Join(a, name)
		must(t, os.WriteFile(p, []byte(strings.Repeat(name+"\n", 1+len(name)*37)), mode))
		must(t, os.Chmod(p, mode))
	}
	must(t, os.Symlink("f.txt", filepath.Join(a, "link")))
	must(t, os.Symlink("no/such/file", filepath.Join(a, "dangling")))
	must(t, os.Link(filepath.Join(a, "f.txt"), filepath.Join(a, "hard")))
	must(t, syscall.Mkfifo(filepath.Join(a, "fifo"), 0o644))
	if os.Geteuid() == 0 {
		must(t, os.Lchown(filepath.Join(a, "run.sh"), 1234, 2345))
	}
	old := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	must(t, filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			lutime(t, p, old)
		}
		return err
	}))
	for _, d := range []string{"sub/deeper", "sub", "empty", "."} {
		lutime(t, filepath.Join(a, d), old.Add(time.Hour))
	}
	return a
}
