package launcher

import (
	"errors"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// leaderWait is the state of WaitOnLeader.
type leaderWait struct {
	stopping atomic.Bool
}

// wakeSig ends WaitOnLeader: StopWaiting sends it to the leader thread
// alone. SIGPIPE, because holdfast never forwards it (see forwardable).
const wakeSig = unix.SIGPIPE

var errNotLeader = errors.New("not on the thread-group leader; signals are forwarded through os/signal only")

// onLeader reports whether sig is taken by WaitOnLeader: the direct
// signals but the ones the kernel raises for a fault of the thread itself
// (SIGSEGV and the like), which must never be blocked on a thread that runs
// Go code: blocked, a fault kills the process instead of reaching Go's
// handler (force_sig_info). Sent from outside, those arrive through
// os/signal.
func onLeader(sig syscall.Signal) bool {
	switch sig {
	case unix.SIGILL, unix.SIGTRAP, unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV, unix.SIGSTKFLT, unix.SIGSYS:
		return false
	}
	return Direct(sig)
}

// WaitOnLeader takes the direct signals on the calling thread, the way
// tini does: blocked there and taken with sigtimedwait(2), then forwarded
// by this goroutine. That is one wake-up per signal, where os/signal wakes
// its own thread and then another for the goroutine it hands the signal to.
//
// It relies on how the kernel picks the thread of a signal sent to the
// process: the thread-group leader (the thread whose id is the pid) first,
// when it does not block the signal (complete_signal in
// kernel/signal.c), which is so only while it waits here. While this
// thread forwards one signal, the next one goes to another thread and
// comes through os/signal, and RouteSignals forwards it just the same.
//
// The caller's goroutine must run on the leader: the main goroutine locked
// to its thread from an init function (runtime.LockOSThread). Otherwise it
// returns errNotLeader at once. It returns nil after StopWaiting.
func (f *Forwarder) WaitOnLeader() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if unix.Gettid() != unix.Getpid() {
		return errNotLeader
	}
	var set, old unix.Sigset_t
	for _, s := range forwardable {
		if sig := s.(syscall.Signal); onLeader(sig) {
			sigaddset(&set, sig)
		}
	}
	sigaddset(&set, wakeSig)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return err
	}
	defer func() { _ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }()
	for {
		sig, err := sigwait(&set)
		switch {
		case err == unix.EINTR: // a signal for Go's handler (SIGURG, SIGCHLD)
			continue
		case err != nil:
			return err
		case sig == wakeSig && f.leader.stopping.Load():
			return nil
		case sig == wakeSig: // from outside: dropped, as RouteSignals drops it
			continue
		}
		f.Forward(sig)
	}
}

// StopWaiting makes WaitOnLeader return; a wake-up sent before it waits
// stays pending on the thread, so none is lost.
func (f *Forwarder) StopWaiting() {
	f.leader.stopping.Store(true)
	pid := unix.Getpid()
	_ = unix.Tgkill(pid, pid, wakeSig)
}

// sigwait is rt_sigtimedwait(2) without a timeout and without siginfo. A
// blocking system call: the Go runtime gives this thread's P to others
// while it waits.
func sigwait(set *unix.Sigset_t) (syscall.Signal, error) {
	// The kernel's sigset_t is 64 bits, the first word of unix.Sigset_t.
	n, _, errno := unix.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(set)), 0, 0, 8, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return syscall.Signal(n), nil
}
