package launcher

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetParentDeathSignal asks the kernel to send sig to holdfast when its
// parent ends (PR_SET_PDEATHSIG, prctl(2); tini's -p). ppid is the parent
// holdfast saw at its start: when it is gone already, holdfast raises sig
// itself, so a parent that died before the call is not missed.
//
// The kernel keeps the setting per thread and clears it in forked
// children, so the app never inherits it. "Parent" is the thread that
// forked holdfast: a multi-threaded parent whose forking thread exits
// triggers it too (prctl(2)).
func SetParentDeathSignal(sig syscall.Signal, ppid int) error {
	// The setting belongs to the calling thread; the Go runtime never ends
	// a thread that no goroutine holds locked, so it outlives this call.
	runtime.LockOSThread()
	err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(sig), 0, 0, 0)
	runtime.UnlockOSThread()
	if err != nil {
		return err
	}
	if os.Getppid() != ppid {
		return unix.Kill(os.Getpid(), sig)
	}
	return nil
}
