package launcher

import (
	"os"

	"golang.org/x/sys/unix"
)

// reapOne reaps one exited child without blocking; ok is false when none is
// left to reap (0 from WNOHANG, or ECHILD).
func reapOne() (Status, bool) {
	for {
		var ws unix.WaitStatus
		// wait4(-1, WNOHANG): any child, never block; wait(2).
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return Status{}, false
		}
		return StatusFromWait(pid, ws), true
	}
}

// BecomeSubreaper makes orphaned descendants reparent to this process when
// it is not PID 1, so it can reap them (PR_SET_CHILD_SUBREAPER, prctl(2)).
// PID 1 needs nothing: orphans reparent to it already.
func BecomeSubreaper() (isPID1 bool, err error) {
	if os.Getpid() == 1 {
		return true, nil
	}
	return false, unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
