package capture

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/pipes"
)

// newPipe returns a pipe for one of the app's streams: a read end the relay
// reads through Go's poller, and a blocking write end for the child.
func newPipe() (r, w *os.File, err error) {
	var p [2]int
	// O_CLOEXEC (pipe2(2)): no other child, such as an ssh shell, may
	// inherit an end and hold the app's stream open.
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	// 1 MiB: the app blocks far less often and the relay gets full reads,
	// which pays for the relay's extra work (BenchmarkRelaySmallCap vs
	// BenchmarkBarePipe). Best effort: a smaller pipe only costs throughput.
	pipes.Grow(uintptr(p[0]))
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
