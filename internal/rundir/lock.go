package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// LockName is the lock file's name in the state dir (or its fallback).
const LockName = "holdfast.lock"

// Lock is a held lock on a state dir. It lasts until Close or the process's
// end; children do not inherit it (the descriptor is close-on-exec).
type Lock struct {
	f    *os.File
	Path string
}

// Close releases the lock.
func (l *Lock) Close() error { return l.f.Close() }

// HeldError means another process holds the state dir's lock.
type HeldError struct {
	StateDir string
	Path     string // the lock file
	PID      int    // the holder's pid as it wrote it; 0 when unknown
}

func (e *HeldError) Error() string {
	who := "another holdfast (pid unknown)"
	if e.PID > 0 {
		who = fmt.Sprintf("holdfast pid %d", e.PID)
	}
	return fmt.Sprintf("the state dir %s is in use by %s (lock %s); one holdfast per state dir: give this one its own --state-dir, or use a subcommand (holdfast status) to talk to the running one", e.StateDir, who, e.Path)
}

// Acquire takes stateDir's exclusive lock for an entrypoint: flock(2) on
// <stateDir>/holdfast.lock, opened without following a symlink. When the
// state dir cannot hold a lock file (not writable and no lock file there),
// the lock file goes into the fallback directory (see Make). A lock held by
// another process is a *HeldError naming its pid. The holder writes its pid
// into a lock file it owns.
func Acquire(stateDir string) (*Lock, error) {
	path := filepath.Join(stateDir, LockName)
	f, writable, err := openLock(path)
	if err != nil {
		dir, ferr := Make(stateDir, Private)
		if ferr != nil {
			return nil, fmt.Errorf("cannot lock the state dir: %v; nor in a fallback directory: %v", err, ferr)
		}
		path = filepath.Join(dir, LockName)
		if f, writable, err = openLock(path); err != nil {
			return nil, fmt.Errorf("cannot lock the state dir: %w", err)
		}
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &HeldError{StateDir: stateDir, Path: path, PID: readPID(f)}
		}
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	if writable {
		// Only into our own single-linked regular file (openLock checked).
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
	}
	return &Lock{f: f, Path: path}, nil
}

// openLock opens the lock file read-write (creating it, mode 0600), or, in
// a directory holdfast cannot write, an existing one read-only: flock(2)
// works on either. It refuses anything but a regular file that holdfast's
// uid owns; writable is set only when that file has no other name.
func openLock(path string) (f *os.File, writable bool, err error) {
	const flags = syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|flags, 0o600)
	if err != nil {
		var rerr error
		if f, rerr = os.OpenFile(path, os.O_RDONLY|flags, 0); rerr != nil {
			return nil, false, err
		}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, false, fmt.Errorf("refusing lock file %s: not a regular file (%v)", path, fi.Mode().Type())
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != os.Geteuid() {
		// Planted by someone who could write the state dir: whoever holds a
		// flock on it would keep holdfast from starting. Every holdfast of
		// this uid makes the same choice and locks in the fallback instead.
		f.Close()
		return nil, false, fmt.Errorf("refusing lock file %s: owned by uid %d, not by holdfast's uid %d", path, st.Uid, os.Geteuid())
	}
	writable = st.Nlink == 1 && canWrite(f)
	return f, writable, nil
}

func canWrite(f *os.File) bool {
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE == unix.O_RDWR
}

// readPID reads the holder's pid from the lock file: at most a few bytes,
// a decimal number, else 0.
func readPID(f *os.File) int {
	b, _ := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, 32), 32))
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
