package crashhold

import (
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
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
		{"clean exit ends holdfast", base, 0, RunEnd{StartedAt: t0, EndedAt: t0.Add(time.Second)}, Decision{Action: Exit, Reason: runrec.CleanExit}},
		{"clean exit inside the window is no crash", base, 2, RunEnd{StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.CleanExit}},
		{"requested stop is no crash", base, 0, RunEnd{Crashed: true, Stop: StopToExit, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Stopped}},
		{"requested stop of a hung run exits", late, 0, RunEnd{Crashed: true, Stop: StopToExit, Hang: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Stopped}},
		{"requested stop wins over a requested hold", base, 0, RunEnd{Crashed: true, Stop: StopToExit, HoldRequested: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Stopped}},
		{"requested stop of a hang-held process exits, its reason still hang", base, 0, RunEnd{Crashed: true, Stop: StopToExit, Hang: true, HeldAlive: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Hang}},
		{"requested restart starts a fresh run at once with a fresh budget", base, 2, RunEnd{Crashed: true, Stop: StopToRestart, StartedAt: t0, EndedAt: t0}, Decision{Action: Restart, Reason: runrec.Stopped, ResetBudget: true, Now: true}},
		{"requested restart of a hang-held process restarts, its reason still hang", base, 2, RunEnd{Crashed: true, Stop: StopToRestart, Hang: true, HeldAlive: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Restart, Reason: runrec.Hang, ResetBudget: true, Now: true}},
		{"requested restart of a run that exits 0 restarts too", base, 0, RunEnd{Stop: StopToRestart, StartedAt: t0, EndedAt: t0}, Decision{Action: Restart, Reason: runrec.Stopped, ResetBudget: true, Now: true}},
		{"a hang-held process that dies stays held", base, 0, RunEnd{Crashed: true, Hang: true, HeldAlive: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Hold, Reason: runrec.Hang, HoldReason: state.ReasonHang}},
		{"a hang-held process that exits 0 stays held", noHold, 0, RunEnd{Hang: true, HeldAlive: true, StartedAt: t0, EndedAt: t0.Add(time.Hour)}, Decision{Action: Hold, Reason: runrec.Hang, HoldReason: state.ReasonHang}},
		{"a process held because it never became ready dies: a startup crash, still held", base, 0, RunEnd{Crashed: true, HeldAlive: true, StartedAt: t0, EndedAt: t0.Add(time.Hour)}, Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonNeverReady}},
		{"a hang-held process keeps its hold over a requested hold", base, 0, RunEnd{Crashed: true, Hang: true, HeldAlive: true, HoldRequested: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Hold, Reason: runrec.Hang, HoldReason: state.ReasonHang}},
		{"hold requested: a startup crash is held instead of restarted", base, 0, RunEnd{Crashed: true, HoldRequested: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonManual}},
		{"hold requested: a spent budget holds for the request", base, 2, RunEnd{Crashed: true, HoldRequested: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonManual}},
		{"hold requested: a late crash restarted by policy is held", late, 0, RunEnd{Crashed: true, HoldRequested: true, StartedAt: t0, EndedAt: t0.Add(time.Hour)}, Decision{Action: Hold, Reason: runrec.LateCrash, HoldReason: state.ReasonManual}},
		{"hold requested: a hang kill restarted by policy is held", late, 0, RunEnd{Crashed: true, Stop: StopToDecide, Hang: true, HoldRequested: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Hold, Reason: runrec.Hang, HoldReason: state.ReasonManual}},
		{"hold requested: a clean exit still exits", base, 0, RunEnd{HoldRequested: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.CleanExit}},
		{"hold requested: a late crash that exits by policy still exits", base, 0, RunEnd{Crashed: true, HoldRequested: true, StartedAt: t0, EndedAt: t0.Add(time.Hour)}, Decision{Action: Exit, Reason: runrec.LateCrash}},
		{"first startup crash restarts after the base backoff", base, 0, crashAfter(time.Second), Decision{Action: Restart, Delay: time.Second, Reason: runrec.StartupCrash}},
		{"second startup crash doubles the backoff", base, 1, crashAfter(time.Second), Decision{Action: Restart, Delay: 2 * time.Second, Reason: runrec.StartupCrash}},
		{"budget spent holds", base, 2, crashAfter(time.Second), Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonStartupCrash}},
		{"max-restarts 0 holds at the first crash", zero, 0, crashAfter(0), Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonStartupCrash}},
		{"hold=false exits when the budget is spent", noHold, 2, crashAfter(time.Second), Decision{Action: Exit, Reason: runrec.StartupCrash}},
		{"hold=false still restarts within the budget", noHold, 0, crashAfter(time.Second), Decision{Action: Restart, Delay: time.Second, Reason: runrec.StartupCrash}},
		{"one nanosecond before the window ends is a startup crash", base, 2, crashAfter(10*time.Minute - 1), Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonStartupCrash}},
		{"at the window's end it is a late crash", base, 2, crashAfter(10 * time.Minute), Decision{Action: Exit, Reason: runrec.LateCrash}},
		{"late crash with on-late-crash=restart resets the budget", late, 2, crashAfter(time.Hour), Decision{Action: Restart, Delay: time.Second, Reason: runrec.LateCrash, ResetBudget: true}},
		{"ready-gated: a crash before ready is a startup crash, however late", gated, 2, crashAfter(time.Hour), Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonStartupCrash}},
		{"ready-gated: a crash after ready is late, however early", gated, 0, RunEnd{Crashed: true, StartedAt: t0, EndedAt: t0.Add(time.Second), EverReady: true}, Decision{Action: Exit, Reason: runrec.LateCrash}},
		{"hang kill follows on-late-crash=exit", base, 0, RunEnd{Crashed: true, Stop: StopToDecide, Hang: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Hang}},
		{"hang kill follows on-late-crash=restart", late, 0, RunEnd{Stop: StopToDecide, Hang: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Restart, Delay: time.Second, Reason: runrec.Hang, ResetBudget: true}},
		{"a hung JVM that dies in its thread dump pause is a hang", base, 0, RunEnd{Crashed: true, Hang: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Hang}},
		{"a hang is never a startup crash, even inside the window", base, 0, RunEnd{Crashed: true, Stop: StopToDecide, Hang: true, StartedAt: t0, EndedAt: t0}, Decision{Action: Exit, Reason: runrec.Hang}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.p, tc.used, tc.end); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Every reason Decide gives is in runrec.EndReasons: it is what run.json
// says and the label holdfast_app_exits_total counts.
func TestDecideReasonsAreKnown(t *testing.T) {
	seen := map[runrec.EndReason]bool{}
	for _, p := range []Policy{
		{Hold: true, HoldWindow: time.Minute, MaxRestarts: 1, Backoff: time.Second, BackoffMax: time.Second},
		{HoldWindow: time.Minute, LateRestart: true, Backoff: time.Second, BackoffMax: time.Second},
		{Hold: true, ReadyGated: true, Backoff: time.Second, BackoffMax: time.Second},
	} {
		for _, used := range []int{0, 1} {
			for _, ran := range []time.Duration{0, time.Hour} {
				for bits := range 32 {
					for _, stop := range []StopPurpose{NotStopped, StopToExit, StopToRestart, StopToDecide} {
						end := RunEnd{Crashed: bits&1 != 0, Hang: bits&2 != 0, HeldAlive: bits&4 != 0, HoldRequested: bits&8 != 0, EverReady: bits&16 != 0,
							Stop: stop, StartedAt: t0, EndedAt: t0.Add(ran)}
						d := Decide(p, used, end)
						if !d.Reason.Known() {
							t.Errorf("Decide(%+v, %d, %+v) gives reason %q, not in runrec.EndReasons", p, used, end, d.Reason)
						}
						if (d.Action == Hold) != (d.HoldReason != "") {
							t.Errorf("Decide(%+v, %d, %+v) = %+v: a hold reason exactly with a hold", p, used, end, d)
						}
						seen[d.Reason] = true
					}
				}
			}
		}
	}
	// Negative control: the walk reaches every reason Decide can give.
	for _, r := range []runrec.EndReason{runrec.CleanExit, runrec.Stopped, runrec.StartupCrash, runrec.LateCrash, runrec.Hang} {
		if !seen[r] {
			t.Errorf("the walk never saw %s", r)
		}
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
