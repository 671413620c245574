package e2e

// A stopped app (SIGSTOP, ^Z, a debugger) cannot act on the stop signal until it runs
// again: holdfast sends SIGCONT right after it, as systemd does, so the app exits by
// its own handler instead of always being SIGKILLed at the end of the grace period.

import (
	"slices"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

func TestStopContinuesStoppedApp(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"TERM to holdfast", "holdfast stop"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			a := startSigApp(t, true, nil, "--grace=10s")
			if err := syscall.Kill(-a.app, syscall.SIGSTOP); err != nil {
				t.Fatalf("cannot stop the app's group: %v", err)
			}
			hfrun.WaitFor(t, hfrun.WaitLong, "the app to be stopped", func() bool {
				st, err := procState(a.app)
				return err == nil && st == "T"
			})
			if how == "holdfast stop" {
				if out, errOut, code := runCLI(t, a.stateDir, "stop"); code != 0 {
					t.Fatalf("holdfast stop exited %d: %s%s", code, out, errOut)
				}
			} else {
				a.signal(t, syscall.SIGTERM)
			}
			code := a.waitExit(t, 10e9+hfrun.WaitLong)
			if code != 143 || !slices.Contains(a.lines(), "TERM") {
				t.Errorf("a stopped app that exits 143 on TERM: holdfast exited %d, the app recorded %v; want 143 with TERM recorded (137 is SIGKILL after the grace period: no SIGCONT)",
					code, a.lines())
			}
		})
	}
}
