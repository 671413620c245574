// Package pipes sizes holdfast's pipes: the app's stdout and stderr, the
// sftp helper's and exec sessions' pipes, and holdfast's own stdout and
// stderr when they are pipes. One size for all, so that the relay's reads,
// the app's writes and the console's writes move the same amount per
// wake-up.
package pipes

import (
	"os"

	"golang.org/x/sys/unix"
)

// Size is what holdfast asks for each of its pipes: 1 MiB, the unprivileged
// limit (/proc/sys/fs/pipe-max-size). Against the default 64 KiB a writer
// blocks far less often and a reader gets full reads (docs/benchmarks.md).
const Size = 1 << 20

// Default is the size of a pipe nobody has sized: 16 pages.
const Default = 64 << 10

// Grow asks for fd, a pipe, to hold Size bytes. Best effort: past
// /proc/sys/fs/pipe-user-pages-soft an unprivileged process gets EPERM and
// keeps what it has, which only costs speed.
func Grow(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, Size) }

// GrowFile is Grow for a pipe holdfast made.
func GrowFile(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(Grow)
	}
}

// GrowDefault grows f only when it is a pipe of the kernel's Default size,
// as holdfast's stdout and stderr are under a container runtime
// (containerd's shim reads a FIFO) or a shell: a pipe someone sized is
// left as it is, as is anything that is not a pipe. The pages are allocated
// only while output waits for the reader, and charged to the writer's
// memory cgroup.
func GrowDefault(f *os.File) {
	if f == nil {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		var st unix.Stat_t
		if unix.Fstat(int(fd), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return
		}
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n == Default {
			Grow(fd)
		}
	})
}
