package attach

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const sigQuit = int(unix.SIGQUIT)

var errESRCH = unix.ESRCH

// identity is a uid and gid to attach with.
type identity struct{ uid, gid uint32 }

// checkCaller refuses, before anything is created or signalled, an attach
// the JVM would refuse: a caller that is neither root nor the JVM's user.
func checkCaller(t *Target) error {
	euid, egid := uint32(unix.Geteuid()), uint32(unix.Getegid())
	switch {
	case euid == 0:
		return nil
	case euid != t.UID:
		return newError(t.PID, ErrPermission, nil,
			"it runs as uid %d; attaching needs that uid or root (this is uid %d)", t.UID, euid)
	case egid != t.GID:
		return newError(t.PID, ErrPermission, nil,
			"it runs with gid %d; the JVM accepts only its own uid and gid or root (this is gid %d)", t.GID, egid)
	}
	return nil
}

// switchCredentials is on except in the test that shows what the switch
// is for.
var switchCredentials = true

// switchTo returns the identity to attach with when it is not the caller's
// own: root attaching to another user's JVM takes on that user.
func switchTo(t *Target) *identity {
	if !switchCredentials || unix.Geteuid() != 0 || t.UID == 0 {
		return nil
	}
	return &identity{uid: t.UID, gid: t.GID}
}

// switchThread gives the calling OS thread id's groups, egid and euid,
// keeping its real and saved ids (root), so the thread cannot be ptraced by
// id's user. It changes only this thread: the raw system calls bypass the
// all-threads broadcast of syscall.Setuid. changed reports whether the
// thread's credentials differ from before, also on error; the caller must
// then never let the thread run other goroutines.
func switchThread(id identity) (changed bool, err error) {
	groups := []uint32{id.gid}
	if _, _, e := unix.RawSyscall(sysSetgroups, 1, uintptr(unsafe.Pointer(&groups[0])), 0); e != 0 {
		return false, fmt.Errorf("setgroups: %w", e)
	}
	keep := ^uintptr(0) // -1: leave this id as it is
	if _, _, e := unix.RawSyscall(sysSetresgid, keep, uintptr(id.gid), keep); e != 0 {
		return true, fmt.Errorf("setresgid: %w", e)
	}
	if _, _, e := unix.RawSyscall(sysSetresuid, keep, uintptr(id.uid), keep); e != 0 {
		return true, fmt.Errorf("setresuid: %w", e)
	}
	return true, nil
}

// onSpareThread runs work on a goroutine locked to an OS thread that is
// not the process's main thread, and returns when work has. If work
// reports that it changed the thread's credentials, the thread is never
// unlocked: the runtime ends it when the goroutine returns. The main
// thread is avoided because the runtime parks it for good instead of
// ending it, and the process's /proc status (what ps shows) is its.
func onSpareThread(work func() (changed bool)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Held locked by this goroutine meanwhile, the main
			// thread cannot run the nested one.
			onSpareThread(work)
			runtime.UnlockOSThread()
			return
		}
		if !work() {
			runtime.UnlockOSThread()
		}
	}()
	<-done
}

// A change of a thread's euid resets the process's dumpable flag. While
// any switch is under way the flag is left alone; the last one to end
// puts back what the first one found.
var switches struct {
	sync.Mutex
	n        int
	dumpable int
}

func beginSwitch() {
	switches.Lock()
	defer switches.Unlock()
	if switches.n == 0 {
		switches.dumpable = dumpable()
	}
	switches.n++
}

func endSwitch() {
	switches.Lock()
	defer switches.Unlock()
	switches.n--
	if switches.n == 0 && dumpable() != switches.dumpable {
		setDumpable(switches.dumpable)
	}
}

// dumpable reads the process's dumpable flag, which a change of a thread's
// euid resets (prctl(2) PR_SET_DUMPABLE).
func dumpable() int {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return -1
	}
	return v
}

func setDumpable(v int) {
	if v >= 0 {
		_ = unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(v), 0, 0, 0)
	}
}

func ownedBy(fi fs.FileInfo, uid uint32) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == uid
}

func isErrno(err error, errnos ...unix.Errno) bool {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
