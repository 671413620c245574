package launcher

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// ResetInheritedSigmask re-executes holdfast with an empty signal mask when
// it was started with signals blocked. Blocked signals survive fork and exec
// (sigprocmask(2)), and the Go runtime copies the mask it started with into
// every thread, so children would inherit it; tini resets the child's mask
// for the same reason. execve(2) keeps the calling thread's mask, so
// clearing it on this thread first gives the new image an empty one.
//
// It returns only when nothing was blocked or the re-exec failed.
func ResetInheritedSigmask() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cur unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &cur); err != nil {
		return err
	}
	if cur == (unix.Sigset_t{}) {
		return nil
	}
	var empty unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &empty, nil); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, os.Environ())
}
