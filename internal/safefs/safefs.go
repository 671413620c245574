package safefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrLink is returned (wrapped) when a path holds a symbolic link.
var ErrLink = errors.New("is a symbolic link (not followed)")

// noOpenat2 is set once openat2 proved unavailable; tests set it to exercise
// the fallback.
var noOpenat2 atomic.Bool

// Dir is an open directory. Paths given to its methods are relative to it,
// use "/" as separator, and must stay beneath it.
type Dir struct {
	f *os.File
}

// OpenRoot opens the directory at path, following links in path itself: the
// root is named by the operator. Everything beneath it is opened with Dir's
// methods.
func OpenRoot(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{f: os.NewFile(uintptr(fd), path)}, nil
}

// OpenParent opens the directory that holds path (following links up to it,
// as OpenRoot) and returns it with path's final component, for a file whose
// last component must not be a link.
func OpenParent(path string) (*Dir, string, error) {
	base := filepath.Base(path)
	if base == "." || base == "/" || base == ".." {
		return nil, "", fmt.Errorf("%s: not a file path", path)
	}
	d, err := OpenRoot(filepath.Dir(path))
	return d, base, err
}

// Name is the directory's path, for messages.
func (d *Dir) Name() string { return d.f.Name() }

// Fd is the directory's descriptor.
func (d *Dir) Fd() int { return int(d.f.Fd()) }

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

// Stat returns the directory's own metadata.
func (d *Dir) Stat() (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstat(d.Fd(), &st)
	return st, err
}

func (d *Dir) path(rel string) string { return filepath.Join(d.f.Name(), rel) }

func (d *Dir) pathErr(op, rel string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		err = fmt.Errorf("%w: %w", ErrLink, err)
	}
	return &fs.PathError{Op: op, Path: d.path(rel), Err: err}
}

// clean checks rel: relative, no "..", not empty.
func clean(rel string) ([]string, error) {
	if rel == "" || strings.HasPrefix(rel, "/") {
		return nil, fmt.Errorf("want a relative path, got %q", rel)
	}
	var parts []string
	for _, p := range strings.Split(rel, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return nil, fmt.Errorf("path %q climbs out", rel)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		parts = []string{"."}
	}
	return parts, nil
}

// openat opens rel beneath d with flags (O_CLOEXEC and O_NOFOLLOW added).
func (d *Dir) openat(rel string, flags int, mode uint32) (int, error) {
	parts, err := clean(rel)
	if err != nil {
		return -1, err
	}
	flags |= unix.O_CLOEXEC | unix.O_NOFOLLOW
	if !noOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
		if flags&unix.O_CREAT != 0 {
			how.Mode = uint64(mode)
		}
		for {
			fd, err := unix.Openat2(d.Fd(), strings.Join(parts, "/"), &how)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err == unix.ENOSYS || err == unix.EPERM && flags&unix.O_CREAT == 0 {
				// EPERM: a seccomp filter that refuses openat2 (older
				// container runtimes did); a real EPERM comes back below.
				noOpenat2.Store(true)
				break
			}
			return fd, err
		}
	}
	return d.walk(parts, flags, mode)
}

// walk is the fallback of openat: one component at a time, O_NOFOLLOW each.
func (d *Dir) walk(parts []string, flags int, mode uint32) (int, error) {
	dirfd := d.Fd()
	for i, p := range parts {
		last := i == len(parts)-1
		fl, m := unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(0)
		if last {
			fl, m = flags, mode
		}
		fd, err := openatRetry(dirfd, p, fl, m)
		if dirfd != d.Fd() {
			unix.Close(dirfd)
		}
		if err != nil {
			return -1, err
		}
		dirfd = fd
	}
	return dirfd, nil
}

func openatRetry(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// OpenDir opens the directory rel beneath d.
func (d *Dir) OpenDir(rel string) (*Dir, error) {
	fd, err := d.openat(rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err == unix.ENOTDIR {
		// O_DIRECTORY|O_NOFOLLOW on a link says ENOTDIR: name the link.
		if st, lerr := d.Lstat(rel); lerr == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			err = unix.ELOOP
		}
	}
	if err != nil {
		return nil, d.pathErr("open", rel, err)
	}
	return &Dir{f: os.NewFile(uintptr(fd), d.path(rel))}, nil
}

// parent opens the directory that holds rel and returns its final name.
func (d *Dir) parent(rel string) (*Dir, string, error) {
	parts, err := clean(rel)
	if err != nil {
		return nil, "", err
	}
	name := parts[len(parts)-1]
	if name == "." {
		return nil, "", fmt.Errorf("path %q names no entry", rel)
	}
	if len(parts) == 1 {
		return d, name, nil
	}
	p, err := d.OpenDir(strings.Join(parts[:len(parts)-1], "/"))
	return p, name, err
}

func (d *Dir) release(p *Dir) {
	if p != d && p != nil {
		p.Close()
	}
}

// Mkdir creates the directory rel with mode (less the umask). An existing
// entry is fs.ErrExist, whatever it is.
func (d *Dir) Mkdir(rel string, mode os.FileMode) error {
	p, name, err := d.parent(rel)
	if err != nil {
		return d.pathErr("mkdir", rel, err)
	}
	defer d.release(p)
	if err := unix.Mkdirat(p.Fd(), name, uint32(mode.Perm())); err != nil {
		return d.pathErr("mkdir", rel, err)
	}
	return nil
}

// MkdirOpen opens the directory rel, creating it with mode first when it
// does not exist.
func (d *Dir) MkdirOpen(rel string, mode os.FileMode) (*Dir, error) {
	if err := d.Mkdir(rel, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return d.OpenDir(rel)
}

// Open opens the existing regular file rel for reading. A FIFO or device
// is refused without blocking.
func (d *Dir) Open(rel string) (*os.File, error) {
	return d.OpenFile(rel, os.O_RDONLY, 0)
}

// OpenFile opens the regular file rel. flag is os.O_* as for os.OpenFile:
// with O_CREATE|O_EXCL the file is new; with O_TRUNC the file is truncated
// only after it proved to be a regular file (never a FIFO, device or
// directory that another user left there).
func (d *Dir) OpenFile(rel string, flag int, mode os.FileMode) (*os.File, error) {
	trunc := flag&os.O_TRUNC != 0
	flags := (flag &^ os.O_TRUNC) | unix.O_NONBLOCK
	fd, err := d.openat(rel, flags, uint32(mode.Perm()))
	if err != nil {
		return nil, d.pathErr("open", rel, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, d.pathErr("stat", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, d.pathErr("open", rel, errors.New("not a regular file"))
	}
	// Regular files ignore O_NONBLOCK for I/O, but clear it anyway.
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	if trunc {
		if err := unix.Ftruncate(fd, 0); err != nil {
			unix.Close(fd)
			return nil, d.pathErr("truncate", rel, err)
		}
	}
	return os.NewFile(uintptr(fd), d.path(rel)), nil
}

// ReadFile reads the regular file rel.
func (d *Dir) ReadFile(rel string) ([]byte, error) {
	f, err := d.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Lstat returns the metadata of the entry rel itself (a link is not
// followed).
func (d *Dir) Lstat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	p, name, err := d.parent(rel)
	if err != nil {
		return st, d.pathErr("lstat", rel, err)
	}
	defer d.release(p)
	if err := unix.Fstatat(p.Fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, d.pathErr("lstat", rel, err)
	}
	return st, nil
}

// Rename renames oldRel to newRel, both beneath d (rename(2) replaces a link
// at newRel, never what it points to).
func (d *Dir) Rename(oldRel, newRel string) error {
	op, oname, err := d.parent(oldRel)
	if err != nil {
		return d.pathErr("rename", oldRel, err)
	}
	defer d.release(op)
	np, nname, err := d.parent(newRel)
	if err != nil {
		return d.pathErr("rename", newRel, err)
	}
	defer d.release(np)
	if err := unix.Renameat(op.Fd(), oname, np.Fd(), nname); err != nil {
		return d.pathErr("rename", oldRel, err)
	}
	return nil
}

// Remove removes the entry rel: a file, a link (not what it points to) or an
// empty directory.
func (d *Dir) Remove(rel string) error {
	p, name, err := d.parent(rel)
	if err != nil {
		return d.pathErr("remove", rel, err)
	}
	defer d.release(p)
	err = unix.Unlinkat(p.Fd(), name, 0)
	if err == unix.EISDIR || err == unix.EPERM {
		if err2 := unix.Unlinkat(p.Fd(), name, unix.AT_REMOVEDIR); err2 != unix.ENOTDIR {
			err = err2
		}
	}
	if err != nil {
		return d.pathErr("remove", rel, err)
	}
	return nil
}

// Entry is one name in a directory with its lstat type.
type Entry struct {
	Name string
	Mode uint32 // st_mode of the entry itself (S_IFLNK for a link)
	Size int64
}

// IsDir reports a real directory (never a link to one).
func (e Entry) IsDir() bool { return e.Mode&unix.S_IFMT == unix.S_IFDIR }

// IsRegular reports a regular file.
func (e Entry) IsRegular() bool { return e.Mode&unix.S_IFMT == unix.S_IFREG }

// IsLink reports a symbolic link.
func (e Entry) IsLink() bool { return e.Mode&unix.S_IFMT == unix.S_IFLNK }

// ReadDir lists d's entries with their lstat metadata, in directory order.
// An entry that vanishes meanwhile is left out.
func (d *Dir) ReadDir() ([]Entry, error) {
	// A fresh descriptor: reading moves the offset of the one kept.
	fd, err := openatRetry(d.Fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, d.pathErr("open", ".", err)
	}
	f := os.NewFile(uintptr(fd), d.f.Name())
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(names))
	for _, n := range names {
		var st unix.Stat_t
		if unix.Fstatat(d.Fd(), n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		out = append(out, Entry{Name: n, Mode: st.Mode, Size: st.Size})
	}
	return out, nil
}

// RemoveAll removes rel and, when it is a real directory, everything in it.
// Links are removed, never followed; only directories opened with O_NOFOLLOW
// are descended into, so nothing outside d is touched. A missing rel is no
// error.
func (d *Dir) RemoveAll(rel string) error {
	p, name, err := d.parent(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return d.pathErr("remove", rel, err)
	}
	defer d.release(p)
	return p.removeAll(name, 0)
}

// maxDepth bounds RemoveAll's recursion (and its open descriptors).
const maxDepth = 64

func (d *Dir) removeAll(name string, depth int) error {
	err := unix.Unlinkat(d.Fd(), name, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR && err != unix.EPERM {
		return d.pathErr("remove", name, err)
	}
	if depth >= maxDepth {
		return d.pathErr("remove", name, errors.New("too deep"))
	}
	sub, err := d.OpenDir(name) // O_NOFOLLOW|O_DIRECTORY: a link is never entered
	if err != nil {
		return err
	}
	var errs []error
	for range 8 { // entries added meanwhile get a few more passes
		entries, lerr := sub.ReadDir()
		if lerr != nil {
			errs = append(errs, lerr)
			break
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			if rerr := sub.removeAll(e.Name, depth+1); rerr != nil {
				errs = append(errs, rerr)
			}
		}
		if len(errs) > 0 {
			break
		}
	}
	sub.Close()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := unix.Unlinkat(d.Fd(), name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return d.pathErr("remove", name, err)
	}
	return nil
}

// Sync flushes the directory (its entries) to disk, as fsync(2).
func (d *Dir) Sync() error { return d.f.Sync() }
