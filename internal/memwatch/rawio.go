package memwatch

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Sampler's reads and writes are raw system calls: they do not tell
// the Go scheduler that the thread enters the kernel. The usual path
// (entersyscall) wakes the runtime's sysmon thread when it sleeps, and
// sysmon then polls every 20 µs until every P is idle again: a few more
// wakeups a second for each sample. The calls are short and never wait
// for a device: a read at offset 0 of a cgroup or /proc file that the
// kernel generates, and a write of 48 bytes into the page cache.

// rawPread is pread(2) on f without the scheduler's syscall hooks.
func rawPread(f *os.File, b []byte, off int64) (int, error) {
	return rawIO(unix.SYS_PREAD64, f, b, off)
}

// rawPwrite is pwrite(2) on f without the scheduler's syscall hooks.
func rawPwrite(f *os.File, b []byte, off int64) (int, error) {
	return rawIO(unix.SYS_PWRITE64, f, b, off)
}

func rawIO(trap uintptr, f *os.File, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n uintptr
	var errno unix.Errno
	cerr := rc.Control(func(fd uintptr) {
		n, _, errno = unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(off), 0, 0)
	})
	if cerr != nil {
		return 0, cerr
	}
	if errno != 0 {
		return 0, &os.PathError{Op: "pread/pwrite", Path: f.Name(), Err: errno}
	}
	return int(n), nil
}
