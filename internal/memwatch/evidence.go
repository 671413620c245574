package memwatch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Evidence file names that SaveEvidence writes.
const (
	EvidenceStatus      = "status"
	EvidenceSmapsRollup = "smaps_rollup"
	EvidenceMemoryStat  = "memory.stat"
)

// maxEvidenceSize bounds each copied file.
const maxEvidenceSize = 1 << 20

// SaveEvidence copies /proc/<pid>/status, /proc/<pid>/smaps_rollup and the
// cgroup's memory.stat into dir, which must exist. Each file is created
// with O_CREAT|O_EXCL|O_NOFOLLOW relative to dir opened without following
// a symlink, so a symlink or file planted in dir is never written through
// or overwritten. It copies what it can and returns the names written and
// the errors of the others joined.
func SaveEvidence(dir string, pid int, cg Cgroup) ([]string, error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	proc := "/proc/" + strconv.Itoa(pid) + "/"
	sources := []struct{ name, src string }{
		{EvidenceStatus, proc + "status"},
		{EvidenceSmapsRollup, proc + "smaps_rollup"},
		{EvidenceMemoryStat, cg.StatPath()},
	}
	var written []string
	var errs []error
	for _, s := range sources {
		if err := copyInto(dfd, s.name, s.src); err != nil {
			errs = append(errs, fmt.Errorf("memwatch: evidence %s: %w", s.name, err))
			continue
		}
		written = append(written, filepath.Join(dir, s.name))
	}
	return written, errors.Join(errs...)
}

// copyInto copies at most maxEvidenceSize bytes of src to a new file name
// in the directory dfd.
func copyInto(dfd int, name, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	// Read first: a file vanished under a dying app leaves nothing behind.
	data, err := io.ReadAll(io.LimitReader(in, maxEvidenceSize))
	if err != nil {
		return err
	}
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: name, Err: err}
	}
	out := os.NewFile(uintptr(fd), name)
	if _, err := out.Write(data); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
