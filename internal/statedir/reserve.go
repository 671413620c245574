package statedir

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/safefs"
)

// ReserveName is the reserve file in the state dir.
const ReserveName = ".holdfast-reserve"

// ReserveSize is what the reserve holds back: room for a few run records
// (run.json is a few KiB; its artifact list is bounded) and run dirs.
const ReserveSize = 256 << 10

// Reserve is a preallocated file in the state dir that holds back space
// for run records: on a full disk, the records' writer releases it and
// retries, so the newest run's run.json is written even when the app's
// output took the rest. Safe for concurrent use.
type Reserve struct {
	dir  string // the state dir
	size int64

	mu sync.Mutex
}

// NewReserve returns the reserve of the state dir dir; Ensure creates it.
func NewReserve(dir string) *Reserve { return &Reserve{dir: dir, size: ReserveSize} }

// Ensure creates the reserve file when it is missing. On a disk without
// room for it, it leaves no partial file and returns the error.
func (r *Reserve) Ensure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := safefs.OpenRoot(r.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if st, err := d.Lstat(ReserveName); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Blocks*512 >= r.size {
		return nil
	}
	_ = d.Remove(ReserveName)
	f, err := d.OpenFile(ReserveName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = fill(f, r.size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = d.Remove(ReserveName)
		return err
	}
	return nil
}

// fill allocates size bytes: fallocate(2), or zeros where the file system
// has no fallocate.
func fill(f *os.File, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if err == nil || !errors.Is(err, unix.EOPNOTSUPP) {
		return err
	}
	_, err = f.Write(make([]byte, size))
	return err
}

// Release removes the reserve file, freeing its space, and reports whether
// there was one to free.
func (r *Reserve) Release() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := safefs.OpenRoot(r.dir)
	if err != nil {
		return false
	}
	defer d.Close()
	return d.Remove(ReserveName) == nil
}
