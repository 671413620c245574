package crashhold

import (
	"github.com/holdfast-dev/holdfast/internal/state"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestDecide(t *testing.T) {
	base := Policy{Hold: true, HoldWindow: 10 * time.Minute, MaxRestarts: 2, Backoff: time.Second, BackoffMax: 30 * time.Second}
	noHold := base
	noHold.Hold = false
	late := base
	late.LateRestart = true
	gated := base
	gated.ReadyGated = true
	zero := base
	zero.MaxRestarts = 0

	crashAfter := func(d time.Duration) RunEnd {
		return RunEnd{Crashed: true, StartedAt: t0, EndedAt: t0.Add(d)}
	}
	tests := []struct {
		name string
		p    Policy
		used int
		end  RunEnd
		want Decision
	}{
		{"clean exit ends holdfast", base, 0, RunEnd{StartedAt: t0, EndedAt: t0.Add(time.Second)}, Decision{Action: Exit, Reason: ReasonCleanExit}},
		{"clean exit inside the window is no crash", base, 2, RunEnd{StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: ReasonCleanExit}},
		{"requested stop is no crash", base, 0, RunEnd{Crashed: true, Stopped: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: ReasonStopped}},
		{"first startup crash restarts after the base backoff", base, 0, crashAfter(time.Second), Decision{Action: Restart, Delay: time.Second, Reason: ReasonStartupCrash}},
		{"second startup crash doubles the backoff", base, 1, crashAfter(time.Second), Decision{Action: Restart, Delay: 2 * time.Second, Reason: ReasonStartupCrash}},
		{"budget spent holds", base, 2, crashAfter(time.Second), Decision{Action: Hold, Reason: ReasonStartupCrash}},
		{"max-restarts 0 holds at the first crash", zero, 0, crashAfter(0), Decision{Action: Hold, Reason: ReasonStartupCrash}},
		{"hold=false exits when the budget is spent", noHold, 2, crashAfter(time.Second), Decision{Action: Exit, Reason: ReasonStartupCrash}},
		{"hold=false still restarts within the budget", noHold, 0, crashAfter(time.Second), Decision{Action: Restart, Delay: time.Second, Reason: ReasonStartupCrash}},
		{"one nanosecond before the window ends is a startup crash", base, 2, crashAfter(10*time.Minute - 1), Decision{Action: Hold, Reason: ReasonStartupCrash}},
		{"at the window's end it is a late crash", base, 2, crashAfter(10 * time.Minute), Decision{Action: Exit, Reason: ReasonLateCrash}},
		{"late crash with on-late-crash=restart resets the budget", late, 2, crashAfter(time.Hour), Decision{Action: Restart, Delay: time.Second, Reason: ReasonLateCrash, ResetBudget: true}},
		{"ready-gated: a crash before ready is a startup crash, however late", gated, 2, crashAfter(time.Hour), Decision{Action: Hold, Reason: ReasonStartupCrash}},
		{"ready-gated: a crash after ready is late, however early", gated, 0, RunEnd{Crashed: true, StartedAt: t0, EndedAt: t0.Add(time.Second), EverReady: true}, Decision{Action: Exit, Reason: ReasonLateCrash}},
		{"hang kill follows on-late-crash=exit", base, 0, RunEnd{Crashed: true, Stopped: true, HangKill: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: ReasonHang}},
		{"hang kill follows on-late-crash=restart", late, 0, RunEnd{Stopped: true, HangKill: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Restart, Delay: time.Second, Reason: ReasonHang, ResetBudget: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.p, tc.used, tc.end); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	p := Policy{Backoff: time.Second, BackoffMax: 30 * time.Second}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for n, w := range want {
		if got := BackoffDelay(p, n); got != w*time.Second {
			t.Errorf("BackoffDelay(%d) = %v, want %v", n, got, w*time.Second)
		}
	}
	if got := BackoffDelay(Policy{}, 5); got != 0 {
		t.Errorf("zero backoff = %v, want 0 (restart at once)", got)
	}
	// Huge n must neither overflow nor loop for long.
	if got := BackoffDelay(Policy{Backoff: time.Hour, BackoffMax: 24 * time.Hour}, 1<<30); got != 24*time.Hour {
		t.Errorf("capped = %v", got)
	}
}

func TestHoldOnHang(t *testing.T) {
	p := Policy{Hold: true}
	cases := []struct {
		p                    Policy
		inWindow, holdOnHang bool
		want                 bool
	}{
		{p, true, false, true},
		{p, false, false, false},
		{p, false, true, true},
		{Policy{Hold: false}, true, true, false},
	}
	for _, c := range cases {
		if got := HoldOnHang(c.p, c.inWindow, c.holdOnHang); got != c.want {
			t.Errorf("HoldOnHang(%+v, %v, %v) = %v", c.p, c.inWindow, c.holdOnHang, got)
		}
	}
}

// TestPhaseDiagram checks the edge table against the diagram in doc.go:
// every documented edge is allowed and nothing else is.
func TestPhaseDiagram(t *testing.T) {
	documented := map[[2]string]bool{
		{"starting", "running"}: true, {"starting", "stopping"}: true,
		{"running", "backoff"}: true, {"running", "held"}: true, {"running", "starting"}: true, {"running", "stopping"}: true,
		{"backoff", "starting"}: true, {"backoff", "held"}: true, {"backoff", "stopping"}: true,
		{"held", "starting"}: true, {"held", "stopping"}: true,
		{"stopping", "exited"}: true,
	}
	phases := []string{"starting", "running", "backoff", "held", "stopping", "exited"}
	for _, from := range phases {
		for _, to := range phases {
			got := edgeAllowed(phaseOf(from), phaseOf(to))
			if got != documented[[2]string{from, to}] {
				t.Errorf("edge %s→%s allowed=%v, documented=%v", from, to, got, !got)
			}
		}
	}
}

func phaseOf(s string) state.Phase { return state.Phase(s) }
