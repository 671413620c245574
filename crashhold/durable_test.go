package crashhold

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/policystate"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/runrec"
)

// newDurableHarness is newHarness with the policy state kept in
// cfg.StateDir.
func newDurableHarness(t *testing.T, cfg Config, env ...string) *harness {
	t.Helper()
	dir := t.TempDir()
	stdout, _ := os.Create(filepath.Join(dir, "console.out"))
	stderr, _ := os.Create(filepath.Join(dir, "console.err"))
	t.Cleanup(func() { stdout.Close(); stderr.Close() })
	console := capture.NewConsole(stdout, stderr)
	logger := slog.New(slog.NewTextHandler(console.LogWriter(), nil))
	cfg.Env = append(os.Environ(), env...)
	cfg.Grace, cfg.StopSignal, cfg.LogMaxBytes, cfg.JVM = 5*time.Second, syscall.SIGTERM, 1<<20, "off"
	h := &harness{t: t, dir: dir, sigs: make(chan os.Signal, 8), done: make(chan int, 1)}
	h.store = state.NewStore(state.Snapshot{Phase: state.Starting})
	h.records = runrec.Open(cfg.StateDir, 20, logger)
	h.sup = New(cfg, Deps{Reaper: testReaper, Records: h.records, Console: console, Store: h.store, Logger: logger,
		Durable: policystate.NewStore(cfg.StateDir)})
	go func() { h.done <- h.sup.Run(context.Background(), h.sigs) }()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			h.sigs <- syscall.SIGKILL
			h.sigs <- syscall.SIGTERM
			<-h.done
		}
	})
	return h
}

// A state dir left by a holdfast that died with its third run under
// --max-restarts=2: the next holdfast marks the run vanished and starts
// held without starting the app; restart then starts it with a fresh
// budget.
func TestRestoreStartsHeld(t *testing.T) {
	stateDir := t.TempDir()
	cmd := []string{os.Args[0], "-test.run=^$"}
	env := []string{"HF_FAKE=sleep"}
	recs := runrec.Open(stateDir, 20, nil)
	started := time.Now().Add(-3 * time.Second)
	rec := recs.Begin(cmd, 3, 0, started)
	recs.SetPID(rec.Run, 12345)
	fp := policystate.Fingerprint(cmd, append(os.Environ(), env...))
	if _, err := policystate.NewStore(stateDir).Write(policystate.File{Fingerprint: fp, Run: rec.Run, Attempt: 3,
		StartedAt: started, Used: 2, Starts: 3}, started); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Command: cmd, StateDir: stateDir, Policy: Policy{Hold: true, HoldWindow: time.Hour, MaxRestarts: 2, Backoff: time.Millisecond, BackoffMax: time.Millisecond}}
	h := newDurableHarness(t, cfg, env...)
	snap := h.waitPhase(state.Held)
	if strPtr(snap.HoldReason) != state.ReasonStartupCrash || snap.PID != 0 || snap.BudgetUsed != 2 || snap.Run != rec.Run {
		t.Fatalf("held at start: %+v", snap)
	}
	if snap.LastExit == nil || snap.LastExit.Code != vanishedCode || snap.LastExit.Run != rec.Run {
		t.Errorf("last exit %+v, want the vanished run with code %d", snap.LastExit, vanishedCode)
	}
	got, _ := h.records.Get(rec.Run)
	if got.Reason != runrec.Vanished || got.Decision != "hold" || got.EndedAt == nil || got.Cause == nil || !strings.Contains(got.Cause.Summary, "killed together") {
		t.Errorf("vanished record %+v (cause %+v)", got, got.Cause)
	}
	waitOutput(t, h, "3 container restart(s)")
	waitOutput(t, h, "APP HELD")
	if len(h.records.List()) != 1 {
		t.Errorf("runs %d, want only the vanished one: the app must not start", len(h.records.List()))
	}
	f, err := policystate.NewStore(stateDir).Load()
	if err != nil || f.Held != "startup-crash" || f.Starts != 4 {
		t.Errorf("policy state %+v %v, want held, 4 starts", f, err)
	}
	if err := h.sup.Request(ReqRestart); err != nil {
		t.Fatal(err)
	}
	snap = h.waitPhase(state.Running)
	if snap.BudgetUsed != 0 || snap.Run != rec.Run+1 {
		t.Errorf("after restart: %+v", snap)
	}
	h.sigs <- syscall.SIGTERM
	h.exitCode()
	f, err = policystate.NewStore(stateDir).Load()
	if err != nil || !f.Exited || f.Held != "" || f.Run != rec.Run+1 || f.Attempt != 1 || f.Starts != 1 || len(f.Vanished) != 0 {
		t.Errorf("policy state after the restart and the stop: %+v %v", f, err)
	}
}

// Negative control: the same state dir with one crash fewer starts the
// app, continuing the budget.
func TestRestoreContinuesBudget(t *testing.T) {
	stateDir := t.TempDir()
	cmd := []string{os.Args[0], "-test.run=^$"}
	env := []string{"HF_FAKE=sleep"}
	recs := runrec.Open(stateDir, 20, nil)
	started := time.Now().Add(-3 * time.Second)
	rec := recs.Begin(cmd, 2, 0, started)
	fp := policystate.Fingerprint(cmd, append(os.Environ(), env...))
	if _, err := policystate.NewStore(stateDir).Write(policystate.File{Fingerprint: fp, Run: rec.Run, Attempt: 2,
		StartedAt: started, Used: 1, Starts: 2}, started); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Command: cmd, StateDir: stateDir, Policy: Policy{Hold: true, HoldWindow: time.Hour, MaxRestarts: 2}}
	h := newDurableHarness(t, cfg, env...)
	snap := h.waitPhase(state.Running)
	if snap.BudgetUsed != 2 || snap.Run != rec.Run+1 {
		t.Fatalf("running: %+v, want budget_used 2 in run %d", snap, rec.Run+1)
	}
	if got, _ := h.records.Get(rec.Run + 1); got.Attempt != 3 {
		t.Errorf("attempt %d, want 3", got.Attempt)
	}
	if got, _ := h.records.Get(rec.Run); got.Reason != runrec.Vanished || got.Decision != "restart" {
		t.Errorf("vanished record %+v", got)
	}
	h.sigs <- syscall.SIGTERM
	h.exitCode()
}
