package crashhold

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// The scenarios below run real processes with the supervisor's time on a
// fakeClock: backoff, the crash-hold window, the hold timeout and a stop's
// escalation happen when the test advances the clock, exactly at their
// durations, whatever the box's load.

// javaCommand runs the test binary as the fake app under the name "java",
// so the supervisor treats it as a JVM (a SIGQUIT thread dump before
// SIGKILL).
func javaCommand(t *testing.T) []string {
	java := filepath.Join(t.TempDir(), "java")
	if err := os.Symlink(os.Args[0], java); err != nil {
		t.Fatal(err)
	}
	return []string{java, "-test.run=^$"}
}

// Each startup crash waits exactly its backoff (1 s, 2 s, then capped at
// 3 s) on the clock, the run records carry the clock's times, and the
// hold ends exactly at the hold timeout with the app's code.
func scenarioClockBackoffAndHoldTimeout(t *testing.T) {
	clock := newFakeClock(t0)
	p := Policy{Hold: true, HoldWindow: time.Hour, MaxRestarts: 3, Backoff: time.Second, BackoffMax: 3 * time.Second}
	h := newHarnessClock(t, clock, Config{Policy: p, HoldTimeout: 5 * time.Hour}, "HF_FAKE=exit", "HF_CODE=4")
	elapsed := time.Duration(0)
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		clock.waitTimer(t, d)
		if snap := h.store.Load(); snap.Phase != state.Backoff || snap.BudgetUsed != i+1 {
			t.Fatalf("backoff %d: phase %s, budget used %d", i+1, snap.Phase, snap.BudgetUsed)
		}
		clock.Advance(d - 1)
		if n := len(h.records.List()); n != i+1 || !clock.armedFor(d) {
			t.Fatalf("backoff %d ended a nanosecond early: %d runs, timer armed %v", i+1, n, clock.armedFor(d))
		}
		clock.Advance(1)
		elapsed += d
	}
	clock.waitTimer(t, 5*time.Hour)
	snap := h.waitPhase(state.Held) // enterHold arms the timer, then moves
	if snap.Phase != state.Held || strPtr(snap.HoldReason) != state.ReasonStartupCrash {
		t.Fatalf("after the budget: phase %s, reason %s", snap.Phase, strPtr(snap.HoldReason))
	}
	if !snap.HeldSince.Equal(t0.Add(elapsed)) || !snap.HoldExpiresAt.Equal(t0.Add(elapsed+5*time.Hour)) {
		t.Errorf("held since %v until %v; want %v until %v", snap.HeldSince, snap.HoldExpiresAt, t0.Add(elapsed), t0.Add(elapsed+5*time.Hour))
	}
	starts := []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second}
	runs := h.records.List()
	if len(runs) != len(starts) {
		t.Fatalf("%d runs, want %d", len(runs), len(starts))
	}
	for i, r := range runs {
		if !r.StartedAt.Equal(t0.Add(starts[i])) {
			t.Errorf("run %d started at %v, want %v", r.Run, r.StartedAt, t0.Add(starts[i]))
		}
	}
	clock.Advance(5*time.Hour - 1)
	if !clock.armedFor(5 * time.Hour) {
		t.Fatal("the hold timed out a nanosecond early")
	}
	clock.Advance(1)
	if code := h.exitCode(); code != 4 {
		t.Errorf("code after the hold timeout = %d, want 4", code)
	}
	h.noteEdges()
}

// A crash one nanosecond before the end of the crash-hold window is a
// startup crash (held); at the window's end it is a late crash (exit).
func scenarioClockCrashWindow(t *testing.T) {
	for _, tc := range []struct {
		at     time.Duration
		reason runrec.EndReason
	}{{10*time.Minute - 1, runrec.StartupCrash}, {10 * time.Minute, runrec.LateCrash}} {
		t.Run(tc.at.String(), func(t *testing.T) {
			clock := newFakeClock(t0)
			p := Policy{Hold: true, HoldWindow: 10 * time.Minute, MaxRestarts: 0, BackoffMax: time.Second}
			h := newHarnessClock(t, clock, Config{Policy: p}, "HF_FAKE=exit-on-usr1", "HF_CODE=3")
			waitOutput(t, h, "fake app: up")
			clock.waitTimer(t, 10*time.Minute) // the window's timer
			if !h.store.Load().InHoldWindow {
				t.Error("a fresh run is not in the hold window")
			}
			clock.Advance(tc.at)
			if tc.at == 10*time.Minute {
				// The window's timer fired: the snapshot says so.
				h.waitSnap("in_hold_window false", func(s state.Snapshot) bool { return !s.InHoldWindow })
			}
			h.sigs <- syscall.SIGUSR1 // forwarded: the app crashes now
			if tc.reason == runrec.StartupCrash {
				h.waitPhase(state.Held)
			} else if code := h.exitCode(); code != 3 {
				t.Errorf("code = %d, want 3", code)
			}
			runs := h.records.List()
			if len(runs) != 1 || runs[0].Reason != tc.reason || runs[0].RanForSeconds != tc.at.Seconds() {
				t.Errorf("records = %+v, want one %s after %v", runs, tc.reason, tc.at)
			}
			h.noteEdges()
		})
	}
}

// The stop's escalation on the clock: the stop signal, then at the end of
// the grace period SIGQUIT to a JVM and SIGKILL after the quit pause (or
// SIGKILL at once to anything else); an app that obeys the stop signal
// dies of it. Each end names who sent the signal.
func scenarioClockStopEscalation(t *testing.T) {
	const grace, quitPause = 7 * time.Minute, 3 * time.Minute
	for _, tc := range []struct {
		name       string
		java       bool
		ignoreTerm bool
		signal     syscall.Signal
		sentBy     cause.Sender
	}{
		{"JVM outlives the grace period", true, true, syscall.SIGKILL, cause.SentByGrace},
		{"other app outlives the grace period", false, true, syscall.SIGKILL, cause.SentByGrace},
		{"app obeys the stop signal", false, false, syscall.SIGTERM, cause.SentByStop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(t0)
			cfg := Config{Policy: quickPolicy(), Grace: grace, QuitPause: quitPause}
			if tc.java {
				cfg.Command = javaCommand(t)
			}
			env := []string{"HF_FAKE=sleep"}
			if tc.ignoreTerm {
				env = append(env, "HF_IGNORE_TERM=1")
			}
			h := newHarnessClock(t, clock, cfg, env...)
			waitOutput(t, h, "fake app: up")
			pid := h.store.Load().PID
			h.sigs <- syscall.SIGTERM
			if tc.ignoreTerm {
				clock.waitTimer(t, grace)
				h.waitPhase(state.Stopping)
				clock.Advance(grace - 1)
				if err := syscall.Kill(pid, 0); err != nil || !clock.armedFor(grace) {
					t.Fatalf("the app did not outlive the stop signal (%v), or grace ended early", err)
				}
				clock.Advance(1)
			}
			if tc.java {
				clock.waitTimer(t, quitPause)
				waitOutput(t, h, "fake app: got SIGQUIT")
				if err := syscall.Kill(pid, 0); err != nil {
					t.Fatalf("the JVM died of its thread dump: %v", err)
				}
				clock.Advance(quitPause)
			}
			if code := h.exitCode(); code != 128+int(tc.signal) {
				t.Errorf("code = %d, want %d", code, 128+int(tc.signal))
			}
			x := h.runExits()
			if len(x) != 1 || x[0].status.Signal != tc.signal || x[0].sentBy != tc.sentBy {
				t.Errorf("run ends = %+v, want one by %v sent by %v", x, tc.signal, tc.sentBy)
			}
			if r := h.records.List(); len(r) != 1 || r[0].Reason != runrec.Stopped {
				t.Errorf("records = %+v, want one stopped", r)
			}
			if q := contains(h.consoleErr()+readFile(h, "console.out"), "got SIGQUIT"); q != tc.java {
				t.Errorf("thread dump taken = %v, want %v", q, tc.java)
			}
			h.noteEdges()
		})
	}
}

func readFile(h *harness, name string) string {
	b, _ := os.ReadFile(filepath.Join(h.dir, name))
	return string(b)
}

// A hung JVM after the window: a thread dump, the quit pause, then the
// stop for the policy to decide (a hang). A stop requested during the
// thread dump pause is a stop (exit), not turned into the hang's decision:
// the JVM ignoring it goes through the whole escalation.
func scenarioClockHangStop(t *testing.T) {
	const period, grace, quitPause = 10 * time.Second, 7 * time.Minute, 3 * time.Minute
	for _, tc := range []struct {
		name       string
		stopInDump bool
		reason     runrec.EndReason
		decision   string
		sentBy     cause.Sender
	}{
		{"stopped for the hang", false, runrec.Hang, "restart", cause.SentByHang},
		{"stop requested in the thread dump pause", true, runrec.Stopped, "exit", cause.SentByGrace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := l.Addr().String()
			l.Close()
			hang := filepath.Join(t.TempDir(), "hang")
			clock := newFakeClock(t0)
			p := quickPolicy()
			p.HoldWindow = time.Minute
			p.LateRestart = true // a hang restarts: a stop must not
			cfg := Config{Policy: p, Command: javaCommand(t), LiveURL: "http://" + addr + "/live",
				ProbePeriod: period, ProbeTimeout: 2 * time.Second, ProbeFailures: 2, Grace: grace, QuitPause: quitPause}
			env := []string{"HF_FAKE=http", "HF_ADDR=" + addr, "HF_HANG_FILE=" + hang}
			if tc.stopInDump {
				env = append(env, "HF_IGNORE_TERM=1")
			}
			h := newHarnessClock(t, clock, cfg, env...)
			waitOutput(t, h, "fake app: serving")
			clock.waitTimer(t, time.Minute)
			clock.Advance(time.Minute) // past the window: a hang is stopped, not held
			probe := func(until func() bool) {
				for !until() {
					clock.waitFor(t, "the next probe round or the thread dump pause", func() bool {
						return clock.armedFor(period) || clock.armedFor(quitPause)
					})
					if clock.armedFor(quitPause) {
						return
					}
					clock.Advance(period)
				}
			}
			probe(func() bool { return contains(h.consoleErr(), "app liveness answered") })
			if err := os.WriteFile(hang, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			probe(func() bool { return clock.armedFor(quitPause) })
			waitOutput(t, h, "fake app: got SIGQUIT")
			if tc.stopInDump {
				h.sigs <- syscall.SIGTERM
				h.waitPhase(state.Stopping)
				clock.waitTimer(t, grace)
				if clock.armedFor(quitPause) {
					t.Fatal("the thread dump pause outlived the stop")
				}
				clock.Advance(grace)
				clock.waitTimer(t, quitPause)
			}
			clock.Advance(quitPause)
			if tc.stopInDump {
				if code := h.exitCode(); code != 128+int(syscall.SIGKILL) {
					t.Errorf("code = %d, want 137", code)
				}
			} else {
				// on-late-crash=restart: the hang restarts after the
				// (zero) backoff, which waits for the clock.
				clock.waitTimer(t, 0)
				h.waitPhase(state.Backoff)
			}
			x := h.runExits()
			if len(x) != 1 || x[0].sentBy != tc.sentBy {
				t.Errorf("run ends = %+v, want one sent by %v", x, tc.sentBy)
			}
			if r := h.records.List(); len(r) != 1 || r[0].Reason != tc.reason || r[0].Decision != tc.decision {
				t.Errorf("records = %+v, want one %s, decision %s", r, tc.reason, tc.decision)
			}
			h.noteEdges()
		})
	}
}
