package tarcp

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"strconv"
	"strings"
)

// extractor extracts one archive into a directory.
type extractor struct {
	root      *os.Root
	f         *failures
	samePerm  bool
	sameOwner bool
	umask     fs.FileMode
	dirModes  []dirMode // applied after the contents, last first
	buf       []byte
}

type dirMode struct {
	name string
	mode fs.FileMode
}

// extract reads an archive from r into x.dir: `tar -xmf - [-C DIR]`.
func extract(x extraction, r io.Reader, stderr io.Writer) int {
	f := &failures{w: stderr}
	root, err := os.OpenRoot(x.dir)
	if err != nil {
		f.fail("%s: Cannot open: %v", x.dir, unwrap(err))
		return f.status()
	}
	defer root.Close()
	isRoot := euid() == 0
	e := &extractor{root: root, f: f, samePerm: isRoot && !x.noSamePerm, sameOwner: isRoot && !x.noSameOwn,
		umask: umask(), buf: make([]byte, 32<<10)}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.fail("archive: %v", err)
			break
		}
		e.member(hdr, tr)
	}
	for i := len(e.dirModes) - 1; i >= 0; i-- {
		d := e.dirModes[i]
		if fi, err := root.Lstat(d.name); err == nil && fi.IsDir() {
			if err := root.Chmod(d.name, d.mode); err != nil {
				f.fail("%s: Cannot change mode: %v", d.name, unwrap(err))
			}
		}
	}
	return f.status()
}

// member extracts one member, or refuses it with a message.
func (e *extractor) member(hdr *tar.Header, r io.Reader) {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return
	}
	name, why := e.check(hdr)
	if why != "" {
		e.f.fail("%s: refused: %s", hdr.Name, why)
		return
	}
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			e.dirModes = append(e.dirModes, dirMode{".", e.mode(hdr)})
		}
		return
	}
	if dir := path.Dir(name); dir != "." {
		if err := e.root.MkdirAll(dir, 0o777); err != nil {
			e.f.fail("%s: Cannot mkdir: %v", hdr.Name, unwrap(err))
			return
		}
	}
	var err error
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = e.dir(name, hdr)
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		err = e.file(name, hdr, r)
	case tar.TypeSymlink:
		if err = e.replace(name); err == nil {
			err = e.root.Symlink(hdr.Linkname, name)
		}
	case tar.TypeLink:
		if err = e.replace(name); err == nil {
			err = e.root.Link(path.Clean(hdr.Linkname), name)
		}
	}
	if err == nil && e.sameOwner && hdr.Typeflag != tar.TypeReg {
		uid, gid := e.owner(hdr)
		if err := e.root.Lchown(name, uid, gid); err != nil {
			e.chownFailed(hdr.Name, uid, gid, err)
		}
	}
	if err != nil {
		e.f.fail("%s: Cannot extract: %v", hdr.Name, unwrap(err))
	}
}

// check cleans a member's name and says why it is refused ("" when not).
func (e *extractor) check(hdr *tar.Header) (string, string) {
	name, why := checkName(hdr.Name)
	if why != "" {
		return "", why
	}
	if why := e.parentsReal(name); why != "" {
		return "", why
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
	case tar.TypeSymlink:
		why = e.checkSymlink(name, hdr.Linkname)
	case tar.TypeLink:
		why = e.checkHardLink(hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		why = "device files are not extracted"
	case tar.TypeFifo:
		why = "fifos are not extracted"
	default:
		why = "member type " + strconv.QuoteRune(rune(hdr.Typeflag)) + " is not extracted"
	}
	if name == "." && hdr.Typeflag != tar.TypeDir && why == "" {
		why = "only a directory may be named ."
	}
	return name, why
}

// checkName refuses absolute names and names with a ".." component, and
// returns the name cleaned.
func checkName(name string) (string, string) {
	switch {
	case name == "":
		return "", "empty name"
	case strings.HasPrefix(name, "/"):
		return "", "absolute name"
	}
	for _, p := range strings.Split(name, "/") {
		if p == ".." {
			return "", "name has a \"..\" component"
		}
	}
	return path.Clean(name), ""
}

// parentsReal refuses a name whose parent directories, as far as they
// exist in DIR, are not all real directories.
func (e *extractor) parentsReal(name string) string {
	dir := path.Dir(name)
	if dir == "." {
		return ""
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := e.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return ""
		case err != nil:
			return "parent " + p + ": " + unwrap(err).Error()
		case fi.Mode()&fs.ModeSymlink != 0:
			return "parent " + p + " is a symbolic link"
		case !fi.IsDir():
			return "parent " + p + " is not a directory"
		}
	}
	return ""
}

// checkSymlink refuses a link whose target could lead out of DIR.
func (e *extractor) checkSymlink(name, target string) string {
	if target == "" {
		return "empty link target"
	}
	if strings.HasPrefix(target, "/") {
		return "link target " + strconv.Quote(target) + " is absolute"
	}
	named := false
	for _, p := range strings.Split(target, "/") {
		switch {
		case p == ".." && named:
			return "link target " + strconv.Quote(target) + " has \"..\" after a name"
		case p != ".." && p != "." && p != "":
			named = true
		}
	}
	joined := path.Join(path.Dir(name), target)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return "link target " + strconv.Quote(target) + " points outside the directory"
	}
	if _, err := e.root.Stat(joined); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "link target " + strconv.Quote(target) + " does not resolve inside the directory: " + unwrap(err).Error()
	}
	return ""
}

// checkHardLink refuses a hard link to anything but a regular file
// already inside DIR.
func (e *extractor) checkHardLink(target string) string {
	clean, why := checkName(target)
	if why != "" {
		return "hard link target " + strconv.Quote(target) + ": " + why
	}
	if why := e.parentsReal(clean); why != "" {
		return "hard link target " + strconv.Quote(target) + ": " + why
	}
	fi, err := e.root.Lstat(clean)
	switch {
	case err != nil:
		return "hard link target " + strconv.Quote(target) + " is not in the directory"
	case !fi.Mode().IsRegular():
		return "hard link target " + strconv.Quote(target) + " is not a regular file"
	}
	return ""
}

// replace removes what is at name unless it is a directory, so that a new
// member never writes through a link or into a file shared with another
// name.
func (e *extractor) replace(name string) error {
	fi, err := e.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("a directory is in the way")
	}
	return e.root.Remove(name)
}

func (e *extractor) dir(name string, hdr *tar.Header) error {
	fi, err := e.root.Lstat(name)
	switch {
	case err == nil && fi.IsDir():
	case err == nil:
		if err := e.root.Remove(name); err != nil {
			return err
		}
		fallthrough
	default:
		if err := e.root.Mkdir(name, 0o700); err != nil {
			return err
		}
	}
	e.dirModes = append(e.dirModes, dirMode{name, e.mode(hdr)})
	return nil
}

func (e *extractor) file(name string, hdr *tar.Header, r io.Reader) error {
	if err := e.replace(name); err != nil {
		return err
	}
	f, err := e.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.CopyBuffer(f, r, e.buf); err != nil {
		return err
	}
	if e.sameOwner {
		uid, gid := e.owner(hdr)
		if err := f.Chown(uid, gid); err != nil {
			e.chownFailed(hdr.Name, uid, gid, err)
		}
	}
	if err := f.Chmod(e.mode(hdr)); err != nil {
		return err
	}
	return f.Close()
}

// chownFailed reports an owner that could not be given (root without
// CAP_CHOWN, as in a container with few capabilities): the member stays,
// with the extracting user's owner, as GNU tar leaves it.
func (e *extractor) chownFailed(name string, uid, gid int, err error) {
	e.f.fail("%s: Cannot change ownership to uid %d, gid %d: %v", name, uid, gid, unwrap(err))
}

// mode is the permission a member gets: the archive's bits (without setuid
// and setgid) when permissions are kept, else those less the umask.
func (e *extractor) mode(hdr *tar.Header) fs.FileMode {
	m := fs.FileMode(hdr.Mode & 0o777)
	if hdr.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	if !e.samePerm {
		m &^= e.umask
	}
	return m
}

// owner is the uid and gid a member gets with --same-owner: by name when
// the name exists here, else by number.
func (e *extractor) owner(hdr *tar.Header) (int, int) {
	uid, gid := hdr.Uid, hdr.Gid
	if hdr.Uname != "" {
		if u, err := user.Lookup(hdr.Uname); err == nil {
			if n, err := strconv.Atoi(u.Uid); err == nil {
				uid = n
			}
		}
	}
	if hdr.Gname != "" {
		if g, err := user.LookupGroup(hdr.Gname); err == nil {
			if n, err := strconv.Atoi(g.Gid); err == nil {
				gid = n
			}
		}
	}
	return uid, gid
}

// umask is the process's umask, from /proc/self/status (022 when unknown).
func umask() fs.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return fs.FileMode(n)
				}
			}
		}
	}
	return 0o022
}
