package launcher

import (
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// forwardable lists every signal holdfast catches to forward it to the
// app (directly, or through the supervisor: see RouteSignals). Catching (rather than ignoring) each one also
// means every child starts with default dispositions: exec(2) resets caught
// signals but keeps ignored ones (signal(7) "Signal mask and pending
// signals"), so an inherited SIG_IGN never leaks into the app.
//
// Left out, each for a reason:
//   - SIGKILL, SIGSTOP: cannot be caught (signal(7)).
//   - SIGCHLD: wakes the reaper instead.
//   - SIGURG: the Go runtime's preemption signal; forwarding it would spray
//     the app with signals it never asked for (runc signals.go drops it).
//   - SIGPROF and 34 (glibc's SIGRTMIN): reserved by the Go runtime, which
//     takes SIGPROF for its profiler and installs no handler for 34 (musl's
//     SIGSYNCCALL, golang/go#39343); os/signal never delivers them. As PID 1
//     the kernel drops them (no handler); as a subreaper 34 would end
//     holdfast like any process without a handler (README "Signals").
//   - SIGPIPE: the kernel raises it in holdfast for every write to a closed
//     socket or pipe (a dropped ssh client, a closed stdout), and Go cannot
//     tell those from kill(2); forwarding them would kill apps. Notified but
//     dropped, so a broken stdout never kills PID 1 (os/signal "SIGPIPE").
var forwardable = func() []os.Signal {
	var sigs []os.Signal
	for s := syscall.Signal(1); s <= sigRTMax; s++ {
		switch s {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPIPE, syscall.SIGPROF, 32, 33, 34:
			continue
		}
		sigs = append(sigs, s)
	}
	return sigs
}()

// isForwardable reports whether sig is in forwardable.
func isForwardable(sig syscall.Signal) bool {
	return slices.Contains(forwardable, os.Signal(sig))
}

// Signals routes the signals holdfast receives.
type Signals struct {
	// Forward delivers each signal the supervisor acts on, in arrival
	// order: with a Forwarder, SIGTERM and SIGINT; without one, every
	// forwardable signal. The buffer is large so that a burst is not
	// dropped by os/signal while the supervisor is busy.
	Forward <-chan os.Signal

	chld, fwd, direct, pipe chan os.Signal
}

// RouteSignals starts catching signals. SIGCHLD wakes r.Reap on its own
// goroutine. With f, the direct signals (Direct) are forwarded by f from a
// goroutine of their own, and the rest arrive on Forward; with a nil f,
// every forwardable signal arrives on Forward.
func RouteSignals(r *Reaper, f *Forwarder) *Signals {
	s := &Signals{
		// One slot is enough for SIGCHLD: Reap loops until nothing is left,
		// so a pending wake-up covers every exit that happened before it.
		chld:   make(chan os.Signal, 1),
		fwd:    make(chan os.Signal, 256),
		direct: make(chan os.Signal, 256),
		pipe:   make(chan os.Signal, 1),
	}
	s.Forward = s.fwd
	signal.Notify(s.chld, syscall.SIGCHLD)
	if f == nil {
		signal.Notify(s.fwd, forwardable...)
	} else {
		for _, sig := range forwardable {
			if Direct(sig.(syscall.Signal)) {
				signal.Notify(s.direct, sig)
			} else {
				signal.Notify(s.fwd, sig)
			}
		}
		go func() {
			for sig := range s.direct {
				f.Forward(sig.(syscall.Signal))
			}
		}()
	}
	signal.Notify(s.pipe, syscall.SIGPIPE)
	go func() {
		for range s.chld {
			r.Reap()
		}
	}()
	go func() {
		for range s.pipe { // drained and dropped; see forwardable
		}
	}()
	// Children that exited before Notify took effect sent a SIGCHLD nobody
	// caught; reap them now.
	r.Reap()
	return s
}
