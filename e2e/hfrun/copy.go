package hfrun

import (
	"os"
	"syscall"
)

// CopyExecutable copies the program src to a new file dst (mode 0755) and syncs it.
// It writes under syscall.ForkLock, so no other test forks while the write fd is open:
// a child holding it would make an exec of dst fail with "text file busy". The sync
// matters to tests of paging: dirty page-cache pages cannot be paged out.
func CopyExecutable(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
