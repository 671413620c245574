package crashhold

import (
	"os"

	"github.com/holdfast-dev/holdfast/internal/redact"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// publish hands the current state to the store.
func (s *Supervisor) publish() {
	s.d.Store.Publish(s.snapshot())
	s.persist()
}

// snapshot maps the supervisor's private state to the public status, in
// one place (Pebble servstate's habit).
func (s *Supervisor) snapshot() state.Snapshot {
	now := s.d.Clock.Now()
	snap := state.Snapshot{
		Phase:            s.phase,
		Version:          s.cfg.Version,
		Command:          redact.Argv(s.cfg.Command),
		StateDir:         s.cfg.StateDir,
		HoldfastPID:      os.Getpid(),
		UpSince:          s.upSince,
		StateDirWritable: s.d.Records.Writable(),
		StateDirDegraded: s.d.Records.Degraded(),
		Restarts:         int(s.d.Store.Counters.Restarts.Load()),
		BudgetUsed:       s.used,
		MaxRestarts:      s.cfg.Policy.MaxRestarts,
		LastExit:         s.lastExit,
	}
	if e := s.lastExit; e != nil && s.lastRec != nil && s.lastRec.Run == e.Run && s.lastRec.Cause != nil {
		withCause, c := *e, *s.lastRec.Cause // the ended run's cause, as its run.json records it
		withCause.Cause = &c
		snap.LastExit = &withCause
	}
	r := s.cur
	if r != nil {
		snap.Run = r.rec.Run
		if r.evidenceDir != "" {
			dir := r.evidenceDir
			snap.EvidenceDir = &dir
		}
		if r.alive {
			snap.PID = r.child.Pid
			started := r.started
			snap.StartedAt = &started
			snap.InHoldWindow = s.phase == state.Running && InWindow(s.cfg.Policy, r.started, now, r.everReady)
		}
	}
	if s.phase == state.Held {
		since := s.heldSince
		reason := s.holdReason
		snap.HeldSince, snap.HoldReason = &since, &reason
		if s.cfg.HoldTimeout > 0 {
			exp := s.heldSince.Add(s.cfg.HoldTimeout)
			snap.HoldExpiresAt = &exp
		}
	}
	snap.Ready, snap.NotReadyReason = s.readiness()
	s.fillReadiness(&snap)
	return snap
}

// readiness is true only in running, when the app's readiness URL (or,
// without one, the process being up) says so.
func (s *Supervisor) readiness() (bool, string) {
	r := s.cur
	switch {
	case s.phase == state.Held:
		return false, "the app is held (" + string(s.holdReason) + ")"
	case s.phase != state.Running:
		return false, "the app is " + string(s.phase)
	case r == nil || !r.alive:
		return false, "the app is not running"
	case r.stopping():
		return false, "the app is being stopped"
	case s.readyGated() && !r.ready:
		return false, s.notReadyText(r)
	}
	return true, ""
}
