package crashhold

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

func quickPolicy() Policy {
	return Policy{Hold: true, HoldWindow: time.Hour, MaxRestarts: 2, Backoff: 0, BackoffMax: time.Second}
}

// A startup crash is restarted max-restarts times, then held with the
// evidence of every run kept; restart gives a fresh budget.
func scenarioStartupCrashHoldsThenRestart(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "fixed")
	h := newHarness(t, Config{Policy: quickPolicy()}, "HF_FAKE=crash-unless-file", "HF_FILE="+flag)
	snap := h.waitPhase(state.Held)
	if got := strPtr(snap.HoldReason); got != state.ReasonStartupCrash {
		t.Errorf("hold reason = %s", got)
	}
	if snap.LastExit == nil || snap.LastExit.Code != 3 || snap.LastExit.Run != 3 {
		t.Fatalf("last exit = %+v, want code 3 of run 3", snap.LastExit)
	}
	if snap.Ready || snap.PID != 0 || snap.BudgetUsed != 2 || snap.Restarts != 2 {
		t.Errorf("held snapshot: ready=%v pid=%d budget=%d restarts=%d", snap.Ready, snap.PID, snap.BudgetUsed, snap.Restarts)
	}
	runs := h.records.List()
	if len(runs) != 3 {
		t.Fatalf("%d runs recorded, want 3", len(runs))
	}
	for i, r := range runs {
		wantDecision := "restart"
		if i == 2 {
			wantDecision = "hold"
		}
		if r.ExitCode == nil || *r.ExitCode != 3 || r.Reason != runrec.StartupCrash || r.Decision != wantDecision || r.Attempt != i+1 {
			t.Errorf("run %d record: exit=%v reason=%s decision=%s attempt=%d", r.Run, r.ExitCode, r.Reason, r.Decision, r.Attempt)
		}
		out, err := os.ReadFile(filepath.Join(r.Dir, "output.log"))
		if err != nil || !contains(string(out), "config missing") {
			t.Errorf("run %d output.log = %q, %v", r.Run, out, err)
		}
		var onDisk runrec.RunRecord
		b, _ := os.ReadFile(filepath.Join(r.Dir, "run.json"))
		if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Decision != wantDecision {
			t.Errorf("run %d run.json = %s (%v)", r.Run, b, err)
		}
	}
	waitOutput(t, h, "APP HELD") // the console may hold a log line back briefly
	if e := h.consoleErr(); !contains(e, "APP HELD") || !contains(e, "holdfast restart") || !contains(e, runs[2].Dir) {
		t.Errorf("hold banner missing or incomplete in stderr:\n%s", e)
	}

	// Fix the cause and restart: a fresh run with a fresh budget.
	os.WriteFile(flag, nil, 0o644)
	if err := h.sup.Request(ReqRestart); err != nil {
		t.Fatal(err)
	}
	snap = h.waitPhase(state.Running)
	if snap.Run != 4 || snap.BudgetUsed != 0 || snap.Restarts != 3 || !snap.Ready || snap.PID == 0 {
		t.Errorf("after restart: run=%d budget=%d restarts=%d ready=%v pid=%d", snap.Run, snap.BudgetUsed, snap.Restarts, snap.Ready, snap.PID)
	}
	if err := h.sup.Request(ReqRelease); err == nil {
		t.Error("release while running succeeded; want an error (not held)")
	}
	h.sigs <- syscall.SIGTERM
	if code := h.exitCode(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit code after TERM = %d, want 143", code)
	}
	h.noteEdges()
	want := []state.Phase{"starting", "running", "backoff", "starting", "running", "backoff", "starting", "running", "held", "starting", "running", "stopping", "exited"}
	if got := h.seen(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("phases = %v\nwant     %v", got, want)
	}
}

func scenarioCleanExitEndsHoldfast(t *testing.T) {
	h := newHarness(t, Config{Policy: quickPolicy()}, "HF_FAKE=exit", "HF_CODE=0")
	if code := h.exitCode(); code != 0 {
		t.Errorf("code = %d, want 0", code)
	}
	if r := h.records.List(); len(r) != 1 || r[0].Reason != runrec.CleanExit {
		t.Errorf("records = %+v", r)
	}
	h.noteEdges()
}

func scenarioReleasePassesTheLastCode(t *testing.T) {
	p := quickPolicy()
	p.MaxRestarts = 0
	h := newHarness(t, Config{Policy: p}, "HF_FAKE=exit", "HF_CODE=42")
	h.waitPhase(state.Held)
	if err := h.sup.Request(ReqRelease); err != nil {
		t.Fatal(err)
	}
	if code := h.exitCode(); code != 42 {
		t.Errorf("code = %d, want 42", code)
	}
	h.noteEdges()
}

func scenarioTermWhileHeldExitsAtOnce(t *testing.T) {
	p := quickPolicy()
	p.MaxRestarts = 0
	h := newHarness(t, Config{Policy: p, Grace: time.Minute}, "HF_FAKE=exit", "HF_CODE=7")
	h.waitPhase(state.Held)
	start := time.Now()
	h.sigs <- syscall.SIGTERM
	if code := h.exitCode(); code != 7 {
		t.Errorf("code = %d, want 7", code)
	}
	// "At once": far below the one-minute grace period.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("exit took %v", d)
	}
}

func scenarioHoldFalseExitsWithTheCode(t *testing.T) {
	p := quickPolicy()
	p.Hold, p.MaxRestarts = false, 1
	h := newHarness(t, Config{Policy: p}, "HF_FAKE=exit", "HF_CODE=9")
	if code := h.exitCode(); code != 9 {
		t.Errorf("code = %d, want 9", code)
	}
	if n := len(h.records.List()); n != 2 {
		t.Errorf("%d runs, want 2 (one restart)", n)
	}
}

func scenarioLateCrash(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprint("restart=", late), func(t *testing.T) {
			p := quickPolicy()
			p.HoldWindow = time.Nanosecond // every crash is late
			p.LateRestart = late
			h := newHarness(t, Config{Policy: p}, "HF_FAKE=exit", "HF_CODE=5")
			if !late {
				if code := h.exitCode(); code != 5 {
					t.Errorf("code = %d, want 5", code)
				}
				return
			}
			// Restarted again and again with a fresh budget, never held.
			deadline := time.Now().Add(30 * time.Second)
			for len(h.records.List()) < 4 && time.Now().Before(deadline) {
				<-h.store.Changed()
			}
			for _, r := range h.records.List() {
				if r.Reason != "" && r.Reason != runrec.LateCrash {
					t.Errorf("run %d reason %s", r.Run, r.Reason)
				}
			}
			if h.store.Load().Phase == state.Held {
				t.Error("late crashes held")
			}
		})
	}
}

func scenarioHoldTimeout(t *testing.T) {
	p := quickPolicy()
	p.MaxRestarts = 0
	h := newHarness(t, Config{Policy: p, HoldTimeout: 300 * time.Millisecond}, "HF_FAKE=exit", "HF_CODE=12")
	snap := h.waitPhase(state.Held)
	if snap.HoldExpiresAt == nil || snap.HoldExpiresAt.Sub(*snap.HeldSince) != 300*time.Millisecond {
		t.Errorf("hold_expires_at = %v", snap.HoldExpiresAt)
	}
	if code := h.exitCode(); code != 12 {
		t.Errorf("code = %d, want 12", code)
	}
	// Logged before "app exited", if at all: nothing held the app's output.
	waitOutput(t, h, `msg="app exited"`)
	if contains(h.consoleErr(), "output.log closed before") {
		t.Errorf("the run's end says its output did not end, with nothing left holding it:\n%s", h.consoleErr())
	}
}

// The grace period escalates to SIGKILL, not before it ends.
func scenarioGraceEscalatesToKill(t *testing.T) {
	h := newHarness(t, Config{Policy: quickPolicy(), Grace: time.Second}, "HF_FAKE=sleep", "HF_IGNORE_TERM=1")
	h.waitPhase(state.Running)
	waitOutput(t, h, "fake app: up")
	start := time.Now()
	h.sigs <- syscall.SIGTERM
	h.sigs <- syscall.SIGTERM // a second TERM must not shorten the grace period
	code := h.exitCode()
	if code != 128+int(syscall.SIGKILL) {
		t.Errorf("code = %d, want 137", code)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("killed after %v, before the 1s grace period", d)
	}
	h.noteEdges()
}

func scenarioExecFailure(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		code int
	}{{"/nonexistent/app", 127}, {"/etc/hostname", 126}} {
		h := newHarness(t, Config{Policy: quickPolicy(), Command: []string{tc.cmd}})
		if code := h.exitCode(); code != tc.code {
			t.Errorf("%s: code = %d, want %d", tc.cmd, code, tc.code)
		}
		if e := h.consoleErr(); !contains(e, tc.cmd) {
			t.Errorf("%s: stderr does not name the command: %q", tc.cmd, e)
		}
		h.noteEdges()
	}
}

// A leftover child that still holds the app's port must not break the
// next run: the supervisor stops the last run's group before starting.
func scenarioLeftoverHoldingPortIsStopped(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	p := quickPolicy()
	p.MaxRestarts = 1
	h := newHarness(t, Config{Policy: p}, "HF_FAKE=port", "HF_ADDR="+addr, "HF_LEAVE_CHILD=1")
	// Run 1 binds, leaves a child holding the port and crashes; run 2 must
	// bind again (and crash the same way); without the cleanup run 2 would
	// exit 4 ("port in use").
	h.waitPhase(state.Held)
	runs := h.records.List()
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	// Run 2's child is still alive in run 2's group (KillAll is off in
	// these tests: the test binary's other children are not ours to kill).
	t.Cleanup(func() { _ = syscall.Kill(-runs[1].PID, syscall.SIGKILL) })
	for _, r := range runs {
		out, _ := os.ReadFile(filepath.Join(r.Dir, "output.log"))
		if *r.ExitCode != 1 || !contains(string(out), "listening on") {
			t.Errorf("run %d: exit %d, output %q (port still held by the last run's child?)", r.Run, *r.ExitCode, out)
		}
	}
	// The child also holds the app's stdout and stderr: the run's end says
	// so (scenarioHoldTimeout is the control, with nothing left behind).
	waitOutput(t, h, `msg="output.log closed before the app's output ended" component=supervisor run=1`)
}

// Manual hold during a long backoff, and restart while running.
func scenarioHoldRequestAndRestartWhileRunning(t *testing.T) {
	p := quickPolicy()
	p.Backoff, p.BackoffMax = time.Hour, time.Hour
	h := newHarness(t, Config{Policy: p}, "HF_FAKE=exit", "HF_CODE=1")
	h.waitPhase(state.Backoff)
	if err := h.sup.Request(ReqHold); err != nil {
		t.Fatal(err)
	}
	if snap := h.waitPhase(state.Held); strPtr(snap.HoldReason) != state.ReasonManual {
		t.Errorf("reason = %s", strPtr(snap.HoldReason))
	}
	if err := h.sup.Request(ReqStop); err != nil {
		t.Fatal(err)
	}
	h.exitCode()
	h.noteEdges()

	h2 := newHarness(t, Config{Policy: p}, "HF_FAKE=sleep")
	h2.waitPhase(state.Running)
	first := h2.store.Load().PID
	if err := h2.sup.Request(ReqRestart); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		snap := h2.store.Load()
		if snap.Phase == state.Running && snap.PID != 0 && snap.PID != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new run after restart; %+v", snap)
		}
		select {
		case <-h2.store.Changed():
		case <-time.After(time.Second):
		}
	}
	h2.sigs <- syscall.SIGTERM
	h2.exitCode()
	h2.noteEdges()

	// TERM during a backoff exits with the last code.
	h3 := newHarness(t, Config{Policy: p}, "HF_FAKE=exit", "HF_CODE=6")
	h3.waitPhase(state.Backoff)
	h3.sigs <- syscall.SIGTERM
	if code := h3.exitCode(); code != 6 {
		t.Errorf("TERM in backoff: code %d, want 6", code)
	}
	h3.noteEdges()
}

// A hang inside the window holds with the process kept alive.
func scenarioHangHoldKeepsProcess(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	hang := filepath.Join(t.TempDir(), "hang")
	h := newHarness(t, Config{Policy: quickPolicy(), LiveURL: "http://" + addr + "/live"},
		"HF_FAKE=http", "HF_ADDR="+addr, "HF_HANG_FILE="+hang)
	waitOutput(t, h, "fake app: serving")
	// Let liveness answer at least once (it must "stop answering"), then
	// hang it.
	waitOutput(t, h, "app liveness answered")
	os.WriteFile(hang, nil, 0o644)
	snap := h.waitPhase(state.Held)
	if strPtr(snap.HoldReason) != state.ReasonHang || snap.PID == 0 {
		t.Fatalf("hang hold: reason %s pid %d", strPtr(snap.HoldReason), snap.PID)
	}
	if err := syscall.Kill(snap.PID, 0); err != nil {
		t.Errorf("hung process %d not alive: %v", snap.PID, err)
	}
	h.sigs <- syscall.SIGTERM
	h.exitCode()
	h.noteEdges()
}

func waitOutput(t *testing.T, h *harness, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(h.dir, "console.out"))
		e, _ := os.ReadFile(filepath.Join(h.dir, "console.err"))
		if contains(string(b)+string(e), s) {
			return
		}
		select {
		case <-h.store.Changed():
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("output %q not seen in 30s", s)
}

// TestScenarios runs each scenario with real processes, then checks that
// together they walked every edge of the phase diagram.
func TestScenarios(t *testing.T) {
	scenarios := []struct {
		name string
		f    func(*testing.T)
	}{
		{"StartupCrashHoldsThenRestart", scenarioStartupCrashHoldsThenRestart},
		{"CleanExitEndsHoldfast", scenarioCleanExitEndsHoldfast},
		{"ReleasePassesTheLastCode", scenarioReleasePassesTheLastCode},
		{"TermWhileHeldExitsAtOnce", scenarioTermWhileHeldExitsAtOnce},
		{"HoldFalseExitsWithTheCode", scenarioHoldFalseExitsWithTheCode},
		{"LateCrash", scenarioLateCrash},
		{"HoldTimeout", scenarioHoldTimeout},
		{"GraceEscalatesToKill", scenarioGraceEscalatesToKill},
		{"ExecFailure", scenarioExecFailure},
		{"LeftoverHoldingPortIsStopped", scenarioLeftoverHoldingPortIsStopped},
		{"HoldRequestAndRestartWhileRunning", scenarioHoldRequestAndRestartWhileRunning},
		{"HangHoldKeepsProcess", scenarioHangHoldKeepsProcess},
		{"ClockBackoffAndHoldTimeout", scenarioClockBackoffAndHoldTimeout},
		{"ClockCrashWindow", scenarioClockCrashWindow},
		{"ClockStopEscalation", scenarioClockStopEscalation},
		{"ClockHangStop", scenarioClockHangStop},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, sc.f)
	}
	for from, tos := range edges {
		for _, to := range tos {
			if _, ok := edgesSeen.Load([2]state.Phase{from, to}); !ok {
				t.Errorf("edge %s→%s never walked by a scenario", from, to)
			}
		}
	}
}
