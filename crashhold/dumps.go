package crashhold

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/dumps"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
	"github.com/holdfast-dev/holdfast/runrec"
)

// The JVM dumps holdfast takes as files in the run dir (package dumps):
// on request (the control socket's POST /v1/dump/<kind>), when a hang is
// held, and before a JVM that outlived its grace period is killed. None of
// them runs on the supervisor goroutine: an attach may wait for a wedged
// JVM up to its bound, and a heap dump takes seconds.

// dumpBound bounds one dump: a thread dump answers in milliseconds unless
// the JVM is stopped or wedged; a class histogram runs a full GC; a heap
// dump or a recording of a large heap takes minutes.
func dumpBound(k dumps.Kind) time.Duration {
	switch k {
	case dumps.Threads:
		return 30 * time.Second
	case dumps.Histogram:
		return 2 * time.Minute
	}
	return 10 * time.Minute
}

// ErrNoApp answers a dump request while no app process runs.
var ErrNoApp = errors.New("no app process is running")

// Dump takes a dump of the app's JVM into the current run's dir, for the
// control socket. It reads only the published snapshot and the records,
// never the supervisor's own fields, so it may run for as long as a heap
// dump takes without holding anything up.
func (s *Supervisor) Dump(ctx context.Context, kind dumps.Kind) (dumps.Result, error) {
	snap := s.d.Store.Load()
	if snap.PID == 0 {
		return dumps.Result{}, fmt.Errorf("%w (phase %s)", ErrNoApp, snap.Phase)
	}
	evidence := ""
	if snap.EvidenceDir != nil {
		evidence = *snap.EvidenceDir
	}
	ctx, cancel := context.WithTimeout(ctx, dumpBound(kind))
	defer cancel()
	return s.takeDump(ctx, snap.Run, dumps.FindJVM(snap.PID), evidence, kind)
}

// takeDump takes one dump of the JVM pid into run's dir and lists it in
// the run's record.
func (s *Supervisor) takeDump(ctx context.Context, run, pid int, evidenceDir string, kind dumps.Kind) (dumps.Result, error) {
	res, err := dumps.Take(ctx, pid, kind, s.dumpPlace(run, evidenceDir))
	if err != nil {
		return res, err
	}
	if res.Path != "" {
		if err := s.d.Records.Rescan(run); err != nil && s.d.Records.Writable() {
			s.log.Warn("cannot list the dump in run.json", "run", run, "path", res.Path, "err", err)
		}
	}
	return res, nil
}

// dumpPlace is where run's dumps go: its run dir and jvm/ dir. When
// records are kept in memory there is no run dir for text dumps: the only
// directory is the temp evidence dir, which the app's user owns and could
// swap for a link, so holdfast writes nothing there; the JVM still writes
// its heap dumps and recordings into it, as itself.
func (s *Supervisor) dumpPlace(run int, evidenceDir string) dumps.Place {
	rec, ok := s.d.Records.Get(run)
	if !ok || rec.Dir == "" {
		return dumps.Place{AppDir: evidenceDir}
	}
	p := dumps.Place{RunDir: rec.Dir}
	app := filepath.Join(rec.Dir, runrec.AppDirName)
	if fi, err := os.Lstat(app); err == nil && fi.IsDir() {
		p.AppDir = app
	}
	return p
}

// autoDumps serializes the automatic dumps: two attaches that both find
// the JVM's listener down would both send SIGQUIT, and the JVM takes the
// second for a request for a thread dump in its output, or ignores it.
var autoDumps = make(chan struct{}, 1)

// lockAuto waits for the automatic dumps' turn until ctx ends.
func lockAuto(ctx context.Context) bool {
	select {
	case autoDumps <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func unlockAuto() { <-autoDumps }

// autoTarget is what an automatic dump needs of the current run, read on
// the supervisor goroutine.
type autoTarget struct {
	run, pid, jvm int
	evidence      string
}

func (s *Supervisor) autoTarget() (autoTarget, bool) {
	r := s.cur
	if r == nil || !r.alive || !r.isJava {
		return autoTarget{}, false
	}
	return autoTarget{run: r.rec.Run, pid: r.child.Pid, jvm: dumps.FindJVM(r.child.Pid), evidence: r.evidenceDir}, true
}

// autoDump takes one dump for why within bound (waiting for its turn
// included) and logs the result.
func (s *Supervisor) autoDump(t autoTarget, why string, k dumps.Kind, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if !lockAuto(ctx) {
		err := fmt.Errorf("other automatic dumps took the %v", bound)
		s.log.Warn("cannot take a "+string(k)+" dump", "why", why, "run", t.run, "err", err)
		return err
	}
	defer unlockAuto()
	res, err := s.takeDump(ctx, t.run, t.jvm, t.evidence, k)
	if err != nil {
		s.log.Warn("cannot take a "+string(k)+" dump", "why", why, "run", t.run, "pid", t.jvm, "err", err)
		return err
	}
	s.log.Info("took a "+string(k)+" dump", "why", why, "run", t.run, "path", res.Path)
	return nil
}

// takeDumpsAsync takes dumps of the current run's JVM, one after the
// other, off the supervisor goroutine, and logs what each left; why says
// what asked for them ("hang hold", "memory watermark"). It does nothing
// when the app is not a running JVM. Call it on the supervisor goroutine;
// it is the hook for any event that wants evidence of the JVM (the hang
// hold below; the memory watermark: a class histogram).
func (s *Supervisor) takeDumpsAsync(why string, kinds ...dumps.Kind) {
	t, ok := s.autoTarget()
	if !ok {
		return
	}
	go func() {
		for _, k := range kinds {
			_ = s.autoDump(t, why, k, dumpBound(k))
		}
	}()
}

// dumpsOnHold is the hold entry's hook: a hold that keeps the JVM alive
// (a hang, never ready) keeps a class histogram of it as a file in the run
// dir (its thread dump was taken when the hang or the startup timeout was
// seen).
func (s *Supervisor) dumpsOnHold(reason state.HoldReason) {
	if reason.Alive() {
		s.takeDumpsAsync(string(reason)+" hold", dumps.Histogram)
	}
}

// threadDumpOnHang replaces the SIGQUIT sent to a JVM that stopped
// answering its liveness URL: a thread dump through attach into a file in
// the run dir, then the SIGQUIT, whose dump lands in output.log as before.
// Sent after the attach, the SIGQUIT cannot be taken for the attach's own
// trigger (a JVM whose attach listener is starting ignores it, one whose
// listener is up prints the dump). When attach fails, the SIGQUIT alone.
func (s *Supervisor) threadDumpOnHang(r *appRun) {
	s.threadDumpAsync(r, "hang", dumpBound(dumps.Threads), true)
}

// threadDumpBeforeKill replaces the SIGQUIT sent to a JVM that outlived
// its grace period: a thread dump through attach, into a file in the run
// dir, and SIGQUIT (the dump lands in output.log) only when that fails.
// The attach gets three quarters of the pause before SIGKILL, so the
// fallback still has time to be written.
func (s *Supervisor) threadDumpBeforeKill(r *appRun) {
	s.threadDumpAsync(r, "stop", s.cfg.QuitPause*3/4, false)
}

// threadDumpAsync takes a thread dump of r's JVM into a file, off the
// supervisor goroutine, then sends SIGQUIT to r's process when quit is set
// or the dump failed. The pidfd taken now pins the process: a pid reused
// meanwhile is not signalled.
func (s *Supervisor) threadDumpAsync(r *appRun, why string, bound time.Duration, quit bool) {
	t, ok := s.autoTarget()
	if !ok || r != s.cur {
		return
	}
	pidfd, pidfdErr := unix.PidfdOpen(t.pid, 0)
	go func() {
		if pidfdErr == nil {
			defer unix.Close(pidfd)
		}
		if err := s.autoDump(t, why, dumps.Threads, bound); err == nil && !quit {
			return
		}
		if errors.Is(pidfdErr, unix.ENOSYS) {
			s.sendToPid(t.pid, unix.SIGQUIT) // before Linux 5.3: by pid
			return
		}
		err := pidfdErr
		if err == nil {
			err = unix.PidfdSendSignal(pidfd, unix.SIGQUIT, nil, 0)
		}
		if err != nil {
			s.log.Warn("cannot signal", "pid", t.pid, "signal", "SIGQUIT", "err", err)
			return
		}
		s.d.Store.Counters.AddSignal(launcher.SignalName(unix.SIGQUIT))
	}()
}
