package crashhold

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/policystate"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// vanishedCode is the exit code holdfast passes on for a run it died
// with (`holdfast release` right after starting held): the real one is
// unknown; a kill of the whole container is a SIGKILL, 128+9.
const vanishedCode = 137

// durable is the supervisor's side of the policy state in the state dir
// (package policystate). Only the Run goroutine touches it.
type durable struct {
	restored bool             // restore ran; persist may write
	file     policystate.File // what was last written (or is to be)
	written  bool             // file is on disk
	warned   bool             // a write failure was logged
}

// begin starts the first run, or holds at once when the policy state says
// the budget is spent (or a hold was in force when holdfast died).
func (s *Supervisor) begin() {
	if s.restore() {
		return
	}
	s.startRun()
}

// restore reads the policy state a previous holdfast left, marks the runs
// it died with as vanished, and continues its budget. It reports whether
// holdfast now holds without starting the app.
func (s *Supervisor) restore() (held bool) {
	st := s.d.Durable
	if st == nil {
		return false
	}
	f, err := st.Load()
	open, recs := s.openRuns()
	plan := policystate.Restore(policystate.Input{
		File: f, LoadErr: err,
		Fingerprint: policystate.Fingerprint(s.cfg.Command, s.cfg.Env),
		Policy: policystate.Policy{Hold: s.cfg.Policy.Hold, HoldWindow: s.cfg.Policy.HoldWindow,
			MaxRestarts: s.cfg.Policy.MaxRestarts, ReadyGated: s.cfg.Policy.ReadyGated},
		Open: open,
	})
	if plan.Fresh {
		s.log.Info("crash-hold budget: fresh", "why", plan.Why)
	} else {
		s.log.Info("crash-hold budget: continued from the state dir", "budget_used", plan.Used, "max_restarts", s.cfg.Policy.MaxRestarts, "container_restarts", plan.Restarts())
	}
	for _, v := range plan.Vanished {
		s.markVanished(recs[v.Run], v)
	}
	s.durable.file, s.durable.restored = plan.Next, true
	s.used = plan.Used
	if !plan.StartHeld {
		s.persist()
		return false
	}
	s.startHeld(plan, recs) // its publish writes the policy state
	return true
}

// openRuns lists the kept runs with a start and no end (run.json readable,
// ended_at null), and every kept record by run.
func (s *Supervisor) openRuns() ([]policystate.OpenRun, map[int]runrec.RunRecord) {
	recs := map[int]runrec.RunRecord{}
	var open []policystate.OpenRun
	for _, rec := range s.d.Records.List() {
		recs[rec.Run] = rec
		if rec.EndedAt != nil || rec.Reason == runrec.Unknown || rec.StartedAt.IsZero() {
			continue
		}
		open = append(open, policystate.OpenRun{
			Run: rec.Run, StartedAt: rec.StartedAt,
			LastSign: policystate.LastSign(rec.Dir, rec.StartedAt),
		})
	}
	return open, recs
}

// markVanished records in run.json that holdfast died with the run.
func (s *Supervisor) markVanished(rec runrec.RunRecord, v policystate.Vanished) {
	end := v.EndedAt
	rec.EndedAt = &end
	rec.Reason, rec.Decision = runrec.Vanished, v.Decision
	rec.Cause = policystate.VanishedCause(rec.Dir)
	s.log.Warn("run vanished: holdfast died with it", "run", rec.Run, "last_sign_of_life", end.UTC().Format(time.RFC3339),
		"in_hold_window", v.InWindow, "counted", v.Counted, "cause", rec.Cause.Summary)
	if err := s.d.Records.Finish(&rec); err != nil {
		s.log.Warn("cannot write run record", "run", rec.Run, "err", err)
	}
	s.d.Store.Counters.AddExit(string(runrec.Vanished))
	s.lastRec = &rec
}

// startHeld holds from the start: the app is not started. Held is then
// the initial phase, as starting is otherwise; everything a hold offers
// (the banner, /livez 200, /readyz 503, status, restart, release) works.
func (s *Supervisor) startHeld(plan policystate.Plan, recs map[int]runrec.RunRecord) {
	now := s.d.Clock.Now()
	last, ok := recs[plan.Next.Run]
	if s.lastRec != nil && s.lastRec.Run >= last.Run {
		last, ok = *s.lastRec, true
	}
	if ok {
		s.lastRec = &last
		s.cur = &appRun{rec: &last, evidenceDir: last.Dir}
		code := vanishedCode
		if last.ExitCode != nil {
			code = *last.ExitCode
		}
		end := now
		if last.EndedAt != nil {
			end = *last.EndedAt
		}
		s.lastExit = &state.Exit{Code: code, Signal: last.Signal, CoreDumped: last.CoreDumped, At: end,
			RanForSeconds: end.Sub(last.StartedAt).Seconds(), Run: last.Run}
	}
	s.heldSince = now
	s.holdReason = state.HoldReason(plan.HoldReason)
	if s.cfg.HoldTimeout > 0 {
		s.holdT = s.d.Clock.NewTimer(s.cfg.HoldTimeout)
	}
	s.log.Info("phase", "from", string(s.phase), "to", string(state.Held), "start", "held without starting the app")
	s.phase = state.Held
	s.publish()
	fmt.Fprint(s.d.Console.LogWriter(), restartText(plan), s.banner())
}

// restartText says, before the banner, why holdfast holds without
// starting the app: how many container restarts the budget took and the
// runs that vanished with holdfast.
func restartText(plan policystate.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "holdfast: held at start, without starting the app: %d container restart(s) under this budget; the state dir keeps the budget across them.\n", plan.Restarts())
	for _, v := range plan.Next.Vanished {
		fmt.Fprintf(&b, "holdfast: run %d vanished after %s: %s\n", v.Run, v.EndedAt.Sub(v.StartedAt).Round(time.Millisecond), v.Summary)
	}
	return b.String()
}

// persist writes the policy state when what the restart decision needs
// changed: a run started, became ready or ended, the budget, the hold, or
// holdfast ending on its own. Called with every publish.
func (s *Supervisor) persist() {
	st := s.d.Durable
	if st == nil || !s.durable.restored {
		return
	}
	f := s.durable.file
	if r := s.cur; r != nil && r.child != nil {
		if r.rec.Run != f.Run {
			f.Run, f.Attempt, f.StartedAt = r.rec.Run, r.rec.Attempt, r.started
			if r.rec.Attempt == 1 {
				// A fresh budget: what vanished under the last one is over.
				f.Vanished, f.Starts = nil, 1
			}
		}
		f.Ready, f.Ended = r.everReady, !r.alive
	}
	f.Used = s.used
	f.Held = ""
	if s.phase == state.Held {
		f.Held = string(s.holdReason)
	}
	f.Exited = s.phase == state.Stopping || s.phase == state.Exited
	if s.durable.written && reflect.DeepEqual(f, s.durable.file) {
		return
	}
	if !s.d.Records.Writable() {
		// The state dir takes no records (runrec warned once): it takes
		// no policy state either, and a restart starts a fresh budget.
		return
	}
	if _, err := st.Write(f, s.d.Clock.Now()); err != nil {
		if !s.durable.warned {
			s.durable.warned = true
			s.log.Warn("cannot write the policy state; a container restart will start a fresh budget", "err", err)
		}
		return
	}
	s.durable.file, s.durable.written = f, true
}
