package crashhold

import (
	"log/slog"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/termmsg"
	"github.com/holdfast-dev/holdfast/launcher"
)

// heldExitGrace bounds the kill-all when holdfast exits with no app process
// (held or in backoff): `docker stop` and pod deletion of a held pod should
// end it at once, not after a grace period nobody needs.
const heldExitGrace = time.Second

// stopStage is how far holdfast has gone in stopping a run. It only moves
// forward: none → term → quit → kill.
type stopStage uint8

const (
	stopNone stopStage = iota // holdfast has not asked the run to stop
	stopTerm                  // the stop signal was sent; the grace period runs
	stopQuit                  // the grace period ran out; a JVM got SIGQUIT and the quit pause runs
	stopKill                  // SIGKILL was sent to the app's group
)

// stopState is holdfast's stop of one run: how far it went, what follows
// the run's end, and the stop signals sent. It is private to the
// supervisor goroutine, as Pebble's servstate keeps its terminating and
// killing states.
type stopState struct {
	stage   stopStage
	purpose StopPurpose
	sent    sigSet // the stop signals sent to the group (a second TERM too)
}

// stopping reports whether holdfast has begun to stop the run.
func (r *appRun) stopping() bool { return r.stop.stage != stopNone }

// sigSet is a set of signals 1–64.
type sigSet uint64

func (s *sigSet) add(sig syscall.Signal) {
	if sig >= 1 && sig <= 64 {
		*s |= 1 << (sig - 1)
	}
}

func (s sigSet) has(sig syscall.Signal) bool {
	return sig >= 1 && sig <= 64 && s&(1<<(sig-1)) != 0
}

// sentBy says who sent sig, the signal that ended the run (0 when it
// exited; an exit after holdfast's stop counts as the stop's, as a JVM
// answers SIGTERM with exit code 143): holdfast's stop signal, its
// SIGQUIT or SIGKILL once the grace period ran out, or, for a hang, its
// thread dump and stop; any other signal came from outside holdfast. The cause of the run's end reads it
// (cause.Exit.SentBy).
func (r *appRun) sentBy(sig syscall.Signal) cause.Sender {
	st := r.stop
	var by cause.Sender
	switch {
	case sig == 0 && st.stage == stopNone:
		return cause.SentByOutside
	case sig == 0:
		by = cause.SentByStop
	case st.stage >= stopTerm && st.sent.has(sig):
		by = cause.SentByStop
	case st.stage >= stopQuit && sig == syscall.SIGQUIT, st.stage == stopKill && sig == syscall.SIGKILL:
		by = cause.SentByGrace
	case r.hung && r.isJava && sig == syscall.SIGQUIT:
		return cause.SentByHang // the thread dump of a hung JVM
	default:
		return cause.SentByOutside
	}
	if st.purpose == StopToDecide {
		return cause.SentByHang
	}
	return by
}

// onSignal handles a signal sent to holdfast.
func (s *Supervisor) onSignal(sig syscall.Signal) {
	stop := sig == syscall.SIGTERM || sig == syscall.SIGINT
	r := s.cur
	alive := r != nil && r.alive
	switch {
	case stop && s.phase == state.Stopping:
		// A second TERM is forwarded but does not shorten the grace period.
		s.sendStop(s.mapped(sig))
	case stop && alive && s.phase != state.Held:
		s.log.Info("stopping the app", "received", launcher.SignalName(sig))
		s.stopApp(s.stopSignalFor(sig), StopToExit)
		s.transition(state.Stopping)
	case stop && alive: // a hang hold: the process is ours to stop
		s.stopApp(s.stopSignalFor(sig), StopToExit)
		s.transition(state.Stopping)
	case stop:
		s.log.Info("exiting with the app's last code", "received", launcher.SignalName(sig), "phase", string(s.phase))
		s.exitWithLast()
	case alive:
		s.forward(s.mapped(sig))
	default:
		s.log.Info("no app process to forward the signal to", "signal", launcher.SignalName(sig), "phase", string(s.phase))
	}
}

// mapped applies --signal-map.
func (s *Supervisor) mapped(sig syscall.Signal) syscall.Signal {
	if to, ok := s.cfg.SignalMap[sig]; ok {
		return to
	}
	return sig
}

// stopSignalFor is what the app's group gets when holdfast receives sig:
// an explicit --signal-map entry wins, then --stop-signal for TERM; INT
// stays INT (^C).
func (s *Supervisor) stopSignalFor(sig syscall.Signal) syscall.Signal {
	if to, ok := s.cfg.SignalMap[sig]; ok {
		return to
	}
	if sig == syscall.SIGTERM {
		return s.cfg.StopSignal
	}
	return sig
}

// forward sends sig to the app's process group.
func (s *Supervisor) forward(sig syscall.Signal) {
	r := s.cur
	if r == nil || !r.alive {
		return
	}
	if err := launcher.SignalGroup(r.child.Pid, sig); err != nil {
		s.log.Warn("cannot forward signal", "err", err)
		return
	}
	s.d.Store.Counters.AddSignal(launcher.SignalName(sig))
}

// Forwarded books the signals the launcher forwarded directly
// (launcher.Forwarder): it counts each one sent, as forward does, and logs
// one that could not be. It runs on the forwarder's goroutine, so it reads
// only the store, never the supervisor's own fields.
func Forwarded(store *state.Store, log *slog.Logger) func(launcher.Forwarded) {
	log = log.With("component", "supervisor")
	return func(fw launcher.Forwarded) {
		switch {
		case fw.Err != nil:
			log.Warn("cannot forward signal", "err", fw.Err)
		case fw.Pid == 0:
			log.Info("no app process to forward the signal to", "signal", launcher.SignalName(fw.Received), "phase", string(store.Load().Phase))
		default:
			store.Counters.AddSignal(launcher.SignalName(fw.Sent))
		}
	}
}

// stopApp stops the current run for purpose: sig to the group now, then
// after the grace period SIGQUIT (a JVM's thread dump) and SIGKILL to the
// group. A run already being stopped gets sig again and the new purpose;
// its timers run on (a second request does not shorten the grace period).
func (s *Supervisor) stopApp(sig syscall.Signal, purpose StopPurpose) {
	r := s.cur
	r.stop.purpose = purpose
	r.ready = false
	s.sendStop(sig)
	if r.stop.stage == stopNone {
		r.stop.stage = stopTerm
		stopTimer(&s.quitT) // a hang's thread dump pause: the stop replaces it
		s.graceT = s.d.Clock.NewTimer(s.cfg.Grace)
	}
	s.publish()
}

// sendStop sends the stop signal sig to the app's group, then SIGCONT, and
// notes it for sentBy.
func (s *Supervisor) sendStop(sig syscall.Signal) {
	r := s.cur
	if r == nil || !r.alive {
		return
	}
	r.stop.sent.add(sig)
	s.forward(sig)
	s.continueApp(sig)
}

// continueApp sends SIGCONT to the app's group right after the stop signal
// sig, as systemd does: a stopped process (SIGSTOP, ^Z, a debugger) cannot
// act on the stop signal until it runs again, so without it a stopped app
// always ends in SIGKILL. A running process ignores SIGCONT. Not after a
// job-control stop signal, which SIGCONT would cancel (signal(7)).
func (s *Supervisor) continueApp(sig syscall.Signal) {
	r := s.cur
	if r == nil || !r.alive || jobControlStop(sig) {
		return
	}
	if err := launcher.SignalGroup(r.child.Pid, syscall.SIGCONT); err != nil {
		s.log.Warn("cannot continue the app after the stop signal", "err", err)
	}
}

func jobControlStop(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		return true
	}
	return false
}

// onGraceElapsed: the app outlived the grace period. A JVM gets SIGQUIT
// and the quit pause first; anything else is killed.
func (s *Supervisor) onGraceElapsed() {
	r := s.cur
	if r == nil || !r.alive || r.stop.stage != stopTerm {
		return
	}
	if r.isJava {
		// The JVM prints a thread dump on SIGQUIT: it shows what it is
		// stuck on. Give it a moment to write it, then kill.
		s.log.Warn("app outlived the grace period; taking a thread dump before SIGKILL", "grace", s.cfg.Grace, "pid", r.child.Pid)
		r.stop.stage = stopQuit
		s.threadDumpBeforeKill(r) // attach, else SIGQUIT (dumps.go)
		s.quitT = s.d.Clock.NewTimer(s.cfg.QuitPause)
		return
	}
	s.killApp()
}

// onQuitPauseElapsed ends a quit pause: the one of a stop kills the app;
// the one of a hung JVM's thread dump (before any stop) starts its stop.
func (s *Supervisor) onQuitPauseElapsed() {
	r := s.cur
	if r == nil || !r.alive {
		return
	}
	switch r.stop.stage {
	case stopNone:
		// The thread dump of a hung app is written; now stop it.
		s.stopApp(s.cfg.StopSignal, StopToDecide)
	case stopQuit:
		s.killApp()
	}
}

func (s *Supervisor) killApp() {
	r := s.cur
	r.stop.stage = stopKill
	s.log.Warn("killing the app's process group", "pgid", r.child.Pid, "grace", s.cfg.Grace)
	if err := launcher.SignalGroup(r.child.Pid, syscall.SIGKILL); err != nil {
		s.log.Warn("cannot kill", "err", err)
	}
}

func (s *Supervisor) sendToPid(pid int, sig syscall.Signal) {
	if err := syscall.Kill(pid, sig); err != nil {
		s.log.Warn("cannot signal", "pid", pid, "signal", launcher.SignalName(sig), "err", err)
		return
	}
	s.d.Store.Counters.AddSignal(launcher.SignalName(sig))
}

// exitWithLast ends holdfast with the app's last exit code. A process kept
// alive by a hang hold is stopped first.
func (s *Supervisor) exitWithLast() {
	if s.cur != nil && s.cur.alive {
		s.stopApp(s.cfg.StopSignal, StopToExit)
		s.transition(state.Stopping)
		return
	}
	s.exitCode = 0
	if s.lastExit != nil {
		s.exitCode = s.lastExit.Code
	}
	s.transition(state.Stopping)
	s.done = true
}

// finish runs after the event loop: kill-all of whatever is left, the
// termination message, and the final phase.
func (s *Supervisor) finish() {
	if s.cfg.KillAll {
		grace := s.cfg.Grace
		if s.lastExit != nil && s.lastRec != nil && s.lastRec.Decision != Exit.String() {
			grace = min(grace, heldExitGrace)
		}
		s.killAll(grace)
	}
	if s.lastRec != nil && s.lastRec.ExitCode != nil && *s.lastRec.ExitCode != 0 && s.cfg.TerminationLog != "" {
		if err := termmsg.Write(s.cfg.TerminationLog, s.lastRec, s.starts); err != nil {
			s.log.Warn("cannot write termination message", "err", err)
		}
	}
	s.transition(state.Exited)
	s.log.Info("holdfast exiting", "code", s.exitCode)
}

// killAll sends SIGTERM to every process left, waits until they are reaped
// or grace passes, then sends SIGKILL (my_init's kill-all; tini #180, #236).
func (s *Supervisor) killAll(grace time.Duration) {
	if !launcher.HasChildren() {
		return
	}
	s.log.Info("stopping processes left behind", "signal", "SIGTERM", "grace", grace)
	s.d.Reaper.SignalAllOthers(syscall.SIGTERM)
	s.d.Reaper.SignalAllOthers(syscall.SIGCONT) // a stopped one acts on TERM only once continued
	if s.waitNoChildren(grace) {
		return
	}
	s.log.Warn("processes left behind outlived the grace period; killing them")
	s.d.Reaper.SignalAllOthers(syscall.SIGKILL)
	if !s.waitNoChildren(5 * time.Second) {
		s.log.Error("some processes did not die after SIGKILL", "waited", 5*time.Second)
	}
}

// waitNoChildren waits, woken by each reap, until holdfast has no child.
func (s *Supervisor) waitNoChildren(d time.Duration) bool {
	t := s.d.Clock.NewTimer(d)
	defer t.Stop()
	for {
		wake := s.d.Reaper.ReapedAny()
		if !launcher.HasChildren() {
			return true
		}
		select {
		case <-wake:
		case <-t.C():
			return !launcher.HasChildren()
		}
	}
}
