package launcher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Spec describes a child to spawn in its own process group.
type Spec struct {
	Argv       []string
	Env        []string // nil means holdfast's own environment
	Dir        string
	Stdin      *os.File
	Stdout     *os.File
	Stderr     *os.File
	Credential *syscall.Credential
	// Terminal, when non-nil, gets the child's group as its foreground group.
	Terminal *Terminal
}

// Spawn starts spec as the leader of a new process group and registers it.
// The error from a failed exec maps to 126/127 through ExecErrorCode.
func (r *Reaper) Spawn(spec Spec) (*Child, error) {
	if len(spec.Argv) == 0 {
		return nil, fmt.Errorf("cannot start: empty command")
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Args = spec.Argv // exec.Command keeps argv[0] as given; be explicit
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	if spec.Stdin == nil {
		cmd.Stdin = nil
	}
	// A group of its own, so stop and kill reach the app's whole tree and
	// never holdfast (setpgid(2)).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: spec.Credential}
	child, err := r.Start(cmd, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot start %q: %w", spec.Argv[0], explainExecError(cmd.Path, err))
	}
	if spec.Terminal != nil {
		spec.Terminal.GiveTo(child.Pid)
	}
	return child, nil
}

// explainExecError says why execve(2) of an existing file failed with
// ENOENT: the file it names is there, so what is missing is its #!
// interpreter (bash: "bad interpreter"), or for a binary its ELF
// interpreter, the dynamic loader. The error still matches
// fs.ErrNotExist, so the exit code stays 127 (bash, dash, tini).
func explainExecError(path string, err error) error {
	if !errors.Is(err, unix.ENOENT) || path == "" {
		return err
	}
	if _, serr := os.Stat(path); serr != nil {
		return err // the file itself is missing: the error says so
	}
	if interp, ok := shebang(path); ok {
		if _, serr := os.Stat(interp); serr != nil {
			return fmt.Errorf("bad interpreter %q on its #! line: %w", interp, unix.ENOENT)
		}
		return fmt.Errorf("its #! interpreter %q cannot be run: %w", interp, err)
	}
	return fmt.Errorf("%s exists, but a file it needs to run is missing (for a binary: its dynamic loader): %w", path, err)
}

// shebang reads the interpreter from the #! line of the file at path.
func shebang(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	buf := make([]byte, 256) // the kernel reads at most 256 bytes of it (BINPRM_BUF_SIZE)
	n, _ := io.ReadFull(f, buf)
	line, ok := bytes.CutPrefix(buf[:n], []byte("#!"))
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	// binfmt_script: blanks before the interpreter; it ends at a blank.
	// A '\r' stays part of the name, as it does for the kernel (a script
	// saved with CRLF line ends), and %q shows it.
	fields := bytes.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return "", false
	}
	return string(fields[0]), true
}

// SignalGroup sends sig to the process group led by pgid.
func SignalGroup(pgid int, sig syscall.Signal) error {
	// kill(2) with a negative pid signals the whole group.
	if err := unix.Kill(-pgid, sig); err != nil && err != unix.ESRCH {
		return fmt.Errorf("cannot send %s to process group %d: %w", SignalName(sig), pgid, err)
	}
	return nil
}

// GroupAlive reports whether any process of group pgid still exists
// (zombies count until they are reaped). kill(2) with signal 0 checks only.
func GroupAlive(pgid int) bool {
	return unix.Kill(-pgid, 0) == nil
}

// Terminal is holdfast's controlling terminal, when holdfast runs in its
// foreground process group (docker run -it). The app's group is given the
// foreground so that ^C from the terminal reaches it.
type Terminal struct {
	fd   int
	pgrp int // holdfast's own group, to take the terminal back
}

// DetectTerminal returns the terminal on stdin when holdfast is in its
// foreground group, else nil.
func DetectTerminal() *Terminal {
	// tcgetpgrp(3) fails unless fd 0 is our controlling terminal.
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		return nil
	}
	return &Terminal{fd: 0, pgrp: fg}
}

// GiveTo makes pgid the terminal's foreground group and continues it, as a
// shell's `fg` does: the app may have tried to read the terminal in the
// moment between exec and this call and been stopped by SIGTTIN.
func (t *Terminal) GiveTo(pgid int) {
	if t.setForeground(pgid) == nil {
		_ = unix.Kill(-pgid, unix.SIGCONT)
	}
}

// Reclaim takes the foreground back for holdfast's own group.
func (t *Terminal) Reclaim() { _ = t.setForeground(t.pgrp) }

func (t *Terminal) setForeground(pgid int) error {
	// tcsetpgrp(3) from a background group raises SIGTTOU unless it is
	// blocked (tty_check_change in the kernel). holdfast catches SIGTTOU,
	// so the call would restart forever; block it on this thread only.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set, old unix.Sigset_t
	sigaddset(&set, unix.SIGTTOU)
	_ = unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old)
	err := unix.IoctlSetPointerInt(t.fd, unix.TIOCSPGRP, pgid)
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	return err
}

func sigaddset(set *unix.Sigset_t, sig syscall.Signal) {
	n := uint(sig - 1)
	set.Val[n/64] |= 1 << (n % 64)
}
