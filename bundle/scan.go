package bundle

import (
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/runrec"
)

// SmallFileMax is the largest "other" file of a run dir that goes into the
// bundle (1 MiB): thread dumps, hs_err files, run.json and output.log go in
// whatever their size (output.log is bounded by --log-max-bytes), heap dumps
// only with WithHeap, core dumps never; anything else larger than this is
// listed in SUMMARY.txt with its size.
const SmallFileMax = 1 << 20

// Bounds on what one run dir can make the bundle hold in memory (the list
// of left-out files and the MANIFEST lines grow with the number of files).
const (
	maxDepth   = 4    // subdirectories below runs/<N>/
	maxEntries = 2000 // entries read per run dir, subdirs included
)

// kind classifies a file of a run dir as run.json's artifact list does
// (runrec.KindOf), with run.json itself as "run".
func kind(name string) string {
	if name == runrec.RunFile {
		return "run"
	}
	return runrec.KindOf(name)
}

// verdict says whether a regular file goes in, and why not when it does not.
func verdict(name string, size int64, withHeap bool) (bool, string) {
	switch kind(name) {
	case "run", "output", "hs-err", "thread-dump":
		return true, ""
	case "heap-dump":
		if withHeap {
			return true, ""
		}
		return false, "heap dump; --with-heap includes it"
	case "core":
		return false, "core dump; never bundled (copy it with kubectl cp or sftp)"
	}
	if size > SmallFileMax {
		return false, fmt.Sprintf("larger than %s", human(SmallFileMax))
	}
	return true, ""
}

// openDirAt opens name below the directory fd parent as a directory, and
// fails (ELOOP or ENOTDIR) when it is a symbolic link or not a directory.
func openDirAt(parent int, name string) (*os.File, error) {
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openFileAt opens a regular file below parent without following a link
// and without blocking on a fifo that replaced it.
func openFileAt(parent int, name string) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, st, err
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, st, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, st, fmt.Errorf("not a regular file")
	}
	return os.NewFile(uintptr(fd), name), st, nil
}

// names lists a directory's entries, sorted, at most limit of them.
func names(f *os.File, limit int) ([]string, bool, error) {
	var out []string
	more := false
	for {
		batch, err := f.Readdirnames(256)
		out = append(out, batch...)
		if len(out) > limit {
			out, more = out[:limit], true
			break
		}
		if err != nil || len(batch) == 0 {
			break
		}
	}
	slices.Sort(out)
	return out, more, nil
}

// lstatAt describes name below parent without following a link.
func lstatAt(parent int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// typeName names a file type that is not bundled.
func typeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return fmt.Sprintf("file type %#o", mode&unix.S_IFMT)
}

// readlinkAt reads a link's target without following it.
func readlinkAt(parent int, name string) string {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(parent, name, buf)
	if err != nil {
		return "?"
	}
	return string(buf[:n])
}

// fileMode is the tar mode of a regular file: its permission bits only.
func fileMode(st unix.Stat_t) int64 { return int64(st.Mode & 0o777) }
