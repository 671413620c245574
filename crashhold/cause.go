package crashhold

import (
	"fmt"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/exitfacts"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// whyStart reads the cgroup's OOM-kill counter as run starts.
func (s *Supervisor) whyStart(run int) { s.why.Start(run) }

// runCause is why run r ended (x): what its output showed, if it was
// captured, with the exit facts (cause.Decide). Nil for a clean exit.
func (s *Supervisor) runCause(r *appRun, x runExit) *cause.Cause {
	st := x.status
	facts := cause.Exit{Code: -1, SentBy: x.sentBy}
	if x.sentBy != cause.SentByOutside && s.phase == state.Held && s.holdReason == state.ReasonHang {
		// A process held for a hang, stopped by a restart or release:
		// it ended because it hung.
		facts.SentBy = cause.SentByHang
	}
	if st.Exited {
		facts.Code = st.Code
	} else {
		facts.Signal = st.Signal
	}
	s.why.End(r.rec.Run, &facts)
	facts.HeapDumps, facts.HsErr = exitfacts.JVMEvidence(exitfacts.EvidenceDir(r.rec), s.log)
	if r.out == nil {
		return cause.Decide(nil, facts) // --capture=false: no output to read
	}
	return r.out.Cause(facts)
}

// execCause is why a run could not start.
func execCause(err error) *cause.Cause {
	return cause.Decide(nil, cause.Exit{ExecErr: err.Error()})
}

// heldRun is the cause and the files of the run a hold is about: the last
// ended run; none for a hold that keeps its run's process alive (a hang,
// never ready), whose run goes on.
func (s *Supervisor) heldRun() (*cause.Cause, []runrec.Artifact) {
	if s.holdReason.Alive() || s.lastRec == nil {
		return nil, nil
	}
	return s.lastRec.Cause, s.lastRec.Artifacts
}

// announceHold writes the hold banner. A JVM held alive (a hang, never
// ready) was just sent SIGQUIT and is writing its thread dump to the
// output: the banner
// waits the quit pause (Config.QuitPause), so that it follows the dump
// instead of landing inside it, and is dropped if the hold ended meanwhile.
func (s *Supervisor) announceHold() {
	text := s.banner()
	r := s.cur
	if !s.holdReason.Alive() || r == nil || !r.alive || !r.isJava {
		fmt.Fprint(s.d.Console.LogWriter(), text)
		return
	}
	run, pause, reason := r.rec.Run, s.cfg.QuitPause, s.holdReason
	go func() {
		t := s.d.Clock.NewTimer(pause)
		defer t.Stop()
		select {
		case <-t.C():
		case <-s.stopped:
			return
		}
		snap := s.d.Store.Load()
		if snap.Phase != state.Held || snap.Run != run || snap.HoldReason == nil || *snap.HoldReason != reason {
			return
		}
		fmt.Fprint(s.d.Console.LogWriter(), text)
	}()
}
