package launcher

import (
	"errors"
	"io/fs"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/exitdesc"
)

// Exit codes holdfast itself chooses. The app's own code passes through.
const (
	// ExitUsage is for bad flags or configuration (sysexits' EX_USAGE is 64,
	// but tini, Go's flag package and the contract use 2).
	ExitUsage = 2
	// ExitCannotExec: the command exists but cannot be executed (POSIX shells,
	// bash(1) "EXIT STATUS", tini).
	ExitCannotExec = 126
	// ExitNotFound: the command was not found (same sources).
	ExitNotFound = 127
	// ExitSignalBase + N is the code for a death by signal N (shell convention).
	ExitSignalBase = 128
)

// Status is how a child ended, decoded from its wait status.
type Status struct {
	Pid        int
	Exited     bool           // normal exit; Code holds the exit code
	Code       int            // exit code when Exited
	Signal     syscall.Signal // the fatal signal when !Exited
	CoreDumped bool
}

// StatusFromWait decodes a wait4 status.
func StatusFromWait(pid int, ws unix.WaitStatus) Status {
	if ws.Signaled() {
		return Status{Pid: pid, Signal: syscall.Signal(ws.Signal()), CoreDumped: ws.CoreDump()}
	}
	return Status{Pid: pid, Exited: true, Code: ws.ExitStatus()}
}

// ExitCode is the code holdfast exits with for this status: the exit code
// itself, or 128+N for a death by signal N.
func (s Status) ExitCode() int {
	if s.Exited {
		return s.Code
	}
	return ExitSignalBase + int(s.Signal)
}

// Crashed reports whether the status is a crash: a non-zero exit or a death
// by any signal.
func (s Status) Crashed() bool { return !s.Exited || s.Code != 0 }

// SignalName is "SIGSEGV" for a death by signal, else "".
func (s Status) SignalName() string {
	if s.Exited {
		return ""
	}
	return SignalName(s.Signal)
}

func (s Status) String() string {
	return exitdesc.Text(s.ExitCode(), s.SignalName(), s.CoreDumped)
}

// ExecErrorCode maps an error from starting a command to holdfast's exit
// code: 127 when the command does not exist, 126 when it exists but cannot be
// run (EACCES, ENOEXEC, a directory).
func ExecErrorCode(err error) int {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return ExitNotFound
	default:
		return ExitCannotExec
	}
}
