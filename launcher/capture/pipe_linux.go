package capture

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is what F_SETPIPE_SZ asks for each of the app's pipes: 1 MiB is
// the unprivileged limit (/proc/sys/fs/pipe-max-size). Against the default
// 64 KiB the app blocks far less often and the relay gets full reads, which
// pays for the relay's extra work (BenchmarkRelaySmallCap vs
// BenchmarkBarePipe).
const pipeSize = 1 << 20

// newPipe returns a pipe for one of the app's streams: a read end the relay
// reads through Go's poller, and a blocking write end for the child.
func newPipe() (r, w *os.File, err error) {
	var p [2]int
	// O_CLOEXEC (pipe2(2)): no other child, such as an ssh shell, may
	// inherit an end and hold the app's stream open.
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	// Best effort: a smaller pipe only costs throughput.
	_, _ = unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, pipeSize)
	// O_NONBLOCK belongs to the open file description, and each end has its
	// own: the read end goes to the poller (no thread blocks in read(2)
	// while the app is quiet), the child's end stays blocking, as a shell's
	// pipe is.
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, nil, err
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}

// defaultPipeSize is the size of a pipe nobody has sized: 16 pages.
const defaultPipeSize = 64 << 10

// growConsolePipe grows f to pipeSize when f is a pipe of the kernel's
// default size, as holdfast's stdout and stderr are under a container
// runtime (containerd's shim reads a FIFO) or a shell. The relay writes up to
// a pipe's worth of the app's output at a time; into 64 KiB it blocks after
// every 64 KiB and is woken again each time the reader frees a page, and
// those hand-offs are most of what the relay costs beyond cat's copy
// (docs/benchmarks.md, "Relay CPU per GiB against cat"). A pipe someone
// sized is left as it is, as is anything that is not a pipe. Best effort:
// past /proc/sys/fs/pipe-user-pages-soft an unprivileged holdfast gets
// EPERM and keeps the default. The pages are allocated only while output
// waits for the reader, and charged to the writer's memory cgroup.
func growConsolePipe(f *os.File) {
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
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n == defaultPipeSize {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		}
	})
}

// pipeBytes returns how many bytes the pipe p holds, 0 when it cannot
// tell. FIONREAD is the ioctl; x/sys names it TIOCINQ (same number).
func pipeBytes(p *os.File) int {
	rc, err := p.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ)
	})
	return max(n, 0)
}

// prefault maps b's pages in with one madvise(MADV_POPULATE_WRITE) (Linux
// 5.14) and returns b. A new block is usually memory the kernel has not
// mapped yet, and the relay's reads into it would fault page by page:
// 16,384 faults for a run's default 64 MiB, a trap each, which on this
// project's virtual machine cost about 250 ms of CPU against 150 ms for
// the same pages populated in one call per block. Best effort: without
// it (an older kernel) the reads take the faults.
func prefault(b []byte) []byte {
	if len(b) > 0 {
		_ = unix.Madvise(b, unix.MADV_POPULATE_WRITE)
	}
	return b
}
