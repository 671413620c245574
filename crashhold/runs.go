package crashhold

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/jvmflags"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/runrec"
)

// outputDrain bounds how long an ended run's pipes may stay open (held by
// grandchildren) before its output.log is closed. Later bytes still reach
// holdfast's stdout and the in-memory log.
const outputDrain = time.Second

// startRun enters starting and spawns the app once the last run's process
// group is gone (a leftover that holds the app's port must not break the
// next run).
func (s *Supervisor) startRun() {
	s.transition(state.Starting)
	if s.phase != state.Starting {
		return
	}
	if s.lastPgid != 0 && launcher.GroupAlive(s.lastPgid) {
		s.log.Info("stopping what is left of the last run's process group first", "pgid", s.lastPgid, "signal", launcher.SignalName(s.cfg.StopSignal))
		_ = launcher.SignalGroup(s.lastPgid, s.cfg.StopSignal)
		s.pendingStart = true
		s.cleanupT = s.d.Clock.NewTimer(s.cfg.Grace)
		return
	}
	s.spawn()
}

// leftoversGone is checked on every reap while a start is pending.
func (s *Supervisor) leftoversGone() bool {
	if launcher.GroupAlive(s.lastPgid) {
		return false
	}
	s.pendingStart = false
	stopTimer(&s.cleanupT)
	s.spawn()
	return true
}

func (s *Supervisor) killLeftovers() {
	if s.pendingStart {
		s.log.Warn("last run's process group outlived the grace period; killing it", "pgid", s.lastPgid)
		_ = launcher.SignalGroup(s.lastPgid, syscall.SIGKILL)
	}
}

func (s *Supervisor) spawn() {
	now := s.d.Clock.Now()
	s.starts++
	// The attempt counts starts under the current budget: 1 for the first
	// start after a fresh budget, 2 for its first restart, …
	rec := s.d.Records.Begin(s.cfg.Command, s.used+1, 0, now)
	s.whyStart(rec.Run)
	env, evidenceDir := s.jvmEnv(rec)
	if rec.Dir == "" {
		rec.EvidenceDir = evidenceDir // memory mode: dumps go to a temp dir
	}
	if rec.Dir != "" {
		// Status and the banner name the run dir: output.log and run.json
		// are there, the JVM's files in its jvm/ subdirectory.
		evidenceDir = rec.Dir
	}
	spec := launcher.Spec{
		Argv: s.cfg.Command, Env: env, Stdin: s.d.Stdin,
		Stdout: os.Stdout, Stderr: os.Stderr,
		Credential: s.cfg.Credential, Terminal: s.d.Terminal,
	}
	out := s.startCapture(rec)
	if out != nil {
		spec.Stdout, spec.Stderr = out.StdoutW, out.StderrW
	}
	// Started through the forwarder: a signal sent once the app runs
	// reaches it even before this goroutine has recorded the run.
	child, err := s.d.Forwarder.Spawn(func() (*launcher.Child, error) { return s.d.Reaper.Spawn(spec) })
	if out != nil {
		out.CloseWriters()
	}
	if err != nil {
		s.execFailed(rec, out, err)
		return
	}
	s.d.Records.SetPID(rec.Run, child.Pid)
	rec.PID = child.Pid
	s.d.Store.Counters.Starts.Add(1)
	s.appEnv.Store(&env)
	s.cur = &appRun{
		rec: rec, child: child, out: out, started: now, alive: true,
		isJava: jvmflags.IsJava(s.cfg.Command), evidenceDir: evidenceDir,
	}
	s.keepCapture(rec.Run, out)
	s.startWatch(s.cur)
	if !s.cfg.Policy.ReadyGated && s.cfg.Policy.HoldWindow > 0 {
		s.windowT = s.d.Clock.NewTimer(s.cfg.Policy.HoldWindow)
	}
	if s.cfg.ReadyURL != "" || s.cfg.LiveURL != "" {
		s.probeT = s.d.Clock.NewTimer(s.cfg.ProbePeriod)
	}
	s.log.Info("app started", "run", rec.Run, "pid", child.Pid, "attempt", rec.Attempt, "evidence", evidenceDir)
	s.transition(state.Running)
}

// jvmEnv adds the JVM evidence flags for rec. They point at the run's
// jvm/ subdirectory, the only place the app may write in (owned by the
// app's user with --user); the run dir itself stays holdfast's. Without a
// run dir, or when jvm/ cannot be made, jvmflags.Env picks a temp dir, handed to
// the app's user here.
func (s *Supervisor) jvmEnv(rec *runrec.RunRecord) (env []string, evidenceDir string) {
	appDir := ""
	if rec.Dir != "" && jvmflags.Applies(s.cfg.JVM, s.cfg.Command, s.cfg.Env) {
		var err error
		if appDir, err = s.d.Records.AppDir(rec.Run, s.cfg.Credential); err != nil {
			s.log.Warn("cannot make the app's evidence dir in the run dir; using a temp dir", "run", rec.Run, "err", err)
			appDir = ""
		}
	}
	env, evidenceDir, _ = jvmflags.Env(s.cfg.JVM, s.cfg.Command, s.cfg.Env, appDir, rec.Run)
	if c := s.cfg.Credential; c != nil && evidenceDir != "" && evidenceDir != appDir {
		// A temp dir holdfast just made: the app's user must be able to
		// write its heap dump and hs_err file there.
		if err := os.Chown(evidenceDir, int(c.Uid), int(c.Gid)); err != nil {
			s.log.Warn("cannot hand the evidence dir to the app's user", "path", evidenceDir, "err", err)
		}
	}
	return env, evidenceDir
}

// startCapture starts relaying and keeping a run's output. It returns nil
// when the app is to write straight to holdfast's stdout and stderr: with
// --capture=false, or when capturing failed (retention is lost then, never
// the output).
func (s *Supervisor) startCapture(rec *runrec.RunRecord) *capture.Run {
	if s.cfg.NoCapture {
		return nil
	}
	logPath := ""
	if rec.Dir != "" {
		logPath = filepath.Join(rec.Dir, runrec.OutputFile)
	}
	run := rec.Run
	out, err := capture.Start(capture.Options{
		Console:   s.d.Console,
		LogPath:   logPath,
		OnNoSpace: func() bool { return s.d.Records.FreeForOutput(run) },
		MaxBytes:  s.cfg.LogMaxBytes,
		Budget:    s.budget,
		OnBytes:   s.countBytes,
		Logger:    s.d.Logger,
	})
	if err != nil {
		s.log.Error("cannot capture the app's output; passing it through uncaptured", "err", err)
		return nil
	}
	return out
}

// execFailed ends holdfast: a command that cannot be executed is a
// configuration error, not a crash to hold (tini exits 127/126 the same way).
func (s *Supervisor) execFailed(rec *runrec.RunRecord, out *capture.Run, err error) {
	code := launcher.ExecErrorCode(err)
	fmt.Fprintf(s.d.Console.LogWriter(), "holdfast: %v\n", err)
	if out != nil {
		_ = out.Finish(context.Background())
	}
	now := s.d.Clock.Now()
	rec.EndedAt = &now
	rec.ExitCode = &code
	rec.Reason, rec.Decision = runrec.ExecFailed, Exit.String()
	rec.Cause = execCause(err)
	s.finishRecord(rec)
	s.lastExit = &state.Exit{Code: code, At: now, Run: rec.Run}
	s.d.Store.Counters.AddExit(string(runrec.ExecFailed))
	s.exitCode = code
	s.transition(state.Stopping)
	s.done = true
}

// runExit is what collect learned about a run's end.
type runExit struct {
	status launcher.Status
	at     time.Time
	ran    time.Duration
	// sentBy is who sent the signal that ended the run (appRun.sentBy),
	// for cause.Exit.SentBy.
	sentBy cause.Sender
}

// onExit handles the app's exit: collect what is known about the run's
// end, decide (the pure policy), apply the decision.
func (s *Supervisor) onExit(st launcher.Status) {
	r := s.cur
	x := s.collect(r, st)
	// Hooks that explain the run's end go here: x and r.rec are complete
	// (status, times, who sent the signal, r.stop), and apply's closeRun
	// has not written run.json yet.
	d := Decide(s.cfg.Policy, s.used, s.runEnd(r, x))
	s.apply(r, x, d)
}

// collect ends the run's life in the supervisor (its timers, its terminal,
// its output) and fills its record with the exit status.
func (s *Supervisor) collect(r *appRun, st launcher.Status) runExit {
	s.stopWatch(r)
	r.alive = false
	s.d.Forwarder.SetTarget(nil)
	s.lastPgid = r.child.Pid
	for _, t := range []*Timer{&s.graceT, &s.quitT, &s.windowT, &s.probeT} {
		stopTimer(t)
	}
	if s.d.Terminal != nil {
		s.d.Terminal.Reclaim()
	}
	s.drainOutput(r)
	now := s.d.Clock.Now()
	x := runExit{status: st, at: now, ran: now.Sub(r.started), sentBy: r.sentBy(st.Signal)}
	s.lastExit = &state.Exit{
		Code: st.ExitCode(), Signal: st.SignalName(), CoreDumped: st.CoreDumped,
		At: now, RanForSeconds: x.ran.Seconds(), Run: r.rec.Run,
	}
	rec := r.rec
	code := st.ExitCode()
	rec.EndedAt, rec.ExitCode, rec.Signal, rec.CoreDumped = &now, &code, st.SignalName(), st.CoreDumped
	rec.RanForSeconds = x.ran.Seconds()
	rec.Cause = s.runCause(r, x)
	s.log.Info("app exited", "run", rec.Run, "pid", st.Pid, "status", st.String(), "ran_for", x.ran.Round(time.Millisecond))
	if s.onRunExit != nil {
		s.onRunExit(x)
	}
	return x
}

// drainOutput closes the run's output.log once its pipes end, or after
// outputDrain.
func (s *Supervisor) drainOutput(r *appRun) {
	if r.out == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), outputDrain)
	defer cancel()
	if err := r.out.Finish(ctx); err != nil {
		// output.log has all the app wrote; what comes later (from a
		// process it left behind) is still passed on and kept in memory.
		s.log.Info("output.log closed before the app's output ended", "run", r.rec.Run, "err", err, "waited", outputDrain)
	}
}

// runEnd is the policy's view of the run's end.
func (s *Supervisor) runEnd(r *appRun, x runExit) RunEnd {
	return RunEnd{
		Crashed: x.status.Crashed(), Stop: r.stop.purpose, Hang: r.hung,
		HeldAlive: s.phase == state.Held, HoldRequested: s.holdNext,
		StartedAt: r.started, EndedAt: x.at, EverReady: r.everReady,
	}
}

// apply carries out the decision on an ended run: it writes the run's
// record, then exits, restarts or holds.
func (s *Supervisor) apply(r *appRun, x runExit, d Decision) {
	s.closeRun(r.rec, d.Reason, d.Action)
	switch d.Action {
	case Exit:
		s.exitCode = x.status.ExitCode()
		s.transition(state.Stopping)
		s.done = true
	case Restart:
		s.restart(d)
	case Hold:
		if s.phase == state.Held {
			s.publish() // a hang-held process died: the hold stays as it is
			return
		}
		s.enterHold(d.HoldReason)
	}
}

// restart starts the next run: at once for a requested restart, otherwise
// after the decision's backoff.
func (s *Supervisor) restart(d Decision) {
	if d.ResetBudget {
		s.used = 0
	} else {
		s.used++
	}
	s.d.Store.Counters.Restarts.Add(1)
	if d.Now {
		s.startRun()
		return
	}
	s.log.Info("restarting after backoff", "delay", d.Delay, "reason", d.Reason, "budget_used", s.used, "max_restarts", s.cfg.Policy.MaxRestarts)
	s.transition(state.Backoff)
	s.backoffT = s.d.Clock.NewTimer(d.Delay)
}

// closeRun writes the ended run's record and counts the exit.
func (s *Supervisor) closeRun(rec *runrec.RunRecord, reason runrec.EndReason, a Action) {
	rec.Reason, rec.Decision = reason, a.String()
	s.finishRecord(rec)
	s.d.Store.Counters.AddExit(string(reason))
}

func (s *Supervisor) finishRecord(rec *runrec.RunRecord) {
	if err := s.d.Records.Finish(rec); err != nil {
		s.log.Warn("cannot write run record", "run", rec.Run, "err", err)
	}
	s.lastRec = rec
}

func (s *Supervisor) countBytes(st capture.Stream, n int) {
	if st == capture.Stdout {
		s.d.Store.Counters.LogBytesStdout.Add(uint64(n))
	} else {
		s.d.Store.Counters.LogBytesStderr.Add(uint64(n))
	}
}

// keepCapture remembers a run's capture for `holdfast logs`, keeping as
// many as run directories are kept. Their memory is bounded by s.budget:
// older runs give up their memory copy first and are then served from
// output.log.
func (s *Supervisor) keepCapture(run int, out *capture.Run) {
	if out == nil {
		return
	}
	s.capMu.Lock()
	defer s.capMu.Unlock()
	s.captures[run] = out
	keep := s.d.Records.Keep()
	for n, c := range s.captures {
		if n <= run-keep {
			c.Release()
			delete(s.captures, n)
		}
	}
}

// Capture returns the in-memory capture of a run, if still kept.
func (s *Supervisor) Capture(run int) (*capture.Run, bool) {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	c, ok := s.captures[run]
	return c, ok
}
