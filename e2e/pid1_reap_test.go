package e2e

// holdfast reaps every orphan: as PID 1 of its namespace, and as a child subreaper
// when it is not PID 1, each against a negative control that does not reap.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// orphanStorm starts init (holdfast, or a negative control) running the "orphans" app:
// n orphans in batches, each living a moment. It returns once the app made them all.
func orphanStorm(t *testing.T, s spec, n int) *hf {
	t.Helper()
	s.env = append(s.env, fakeLeafSecs+"=0.05")
	h := start(t, s)
	h.waitOutput(t, fmt.Sprintf("orphans done %d", n), 3*time.Minute)
	return h
}

func TestReapOrphanStorm(t *testing.T) {
	t.Parallel()
	const n = 2000
	h := orphanStorm(t, spec{pid1: true, env: []string{fakeEnv + "=orphans"},
		args: []string{"--", selfExe, fmt.Sprint(n), "50"}}, n)
	pid := h.pid(t)
	var ps []proc
	hfrun.WaitFor(t, hfrun.WaitLong, "every orphan to be reaped (only holdfast and the app left, no zombies)", func() bool {
		ps = nsProcs(pid)
		return len(ps) == 2 && countState(ps, "Z") == 0
	}, func() string {
		return fmt.Sprintf("%d processes in the namespace, %d zombies", len(ps), countState(ps, "Z"))
	})
	out, err := execInNS(t, h, "ps", "-eo", "stat=")
	if err != nil {
		t.Fatalf("ps inside the namespace: %v\n%s", err, out)
	}
	if strings.Contains(out, "Z") {
		t.Errorf("ps -eo stat inside the namespace shows zombies:\n%s", out)
	}
	if !h.alive(t) {
		t.Errorf("holdfast exited during the orphan storm")
	}
}

// TestReapNegativeControl shows that the reaping check can fail: the same kind of
// storm under a PID 1 that never calls wait leaves every orphan a zombie. Smaller than
// the real one: process creation is slow on these VMs (5-25 ms each), and 300 zombies
// prove the point as well as 2,000.
func TestReapNegativeControl(t *testing.T) {
	t.Parallel()
	const n = 300
	h := orphanStorm(t, spec{pid1: true, env: []string{fakeEnv + "=noreap-init"},
		prog: []string{selfExe, "orphans", selfExe, fmt.Sprint(n), "50"}}, n)
	pid := h.pid(t)
	var ps []proc
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("%d zombies under the non-reaping init", n), func() bool {
		ps = nsProcs(pid)
		return countState(ps, "Z") == n
	}, func() string { return fmt.Sprintf("%d zombies", countState(ps, "Z")) })
}

// subreaperStorm runs n long-lived orphans under init (not PID 1) and returns once
// they are all children of init; then it releases them and returns the host pid.
func subreaperStorm(t *testing.T, s spec, n int) (int, string) {
	t.Helper()
	release := filepath.Join(t.TempDir(), "release")
	s.env = append(s.env, fakeRelease+"="+release)
	// Registered before start's kill, so it runs after it: leaves left over from a
	// failed test exit instead of living on under the host's init.
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o644) })
	h := start(t, s)
	h.waitOutput(t, fmt.Sprintf("orphans done %d", n), 3*time.Minute)
	pid := h.pid(t)
	var kids []int
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("%d orphans to be reparented to the subreaper", n), func() bool {
		kids = children(pid)
		return len(kids) == n+1 // the orphans and the app
	}, func() string { return fmt.Sprintf("children of %d: %d", pid, len(kids)) })
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return pid, release
}

func TestReapAsSubreaper(t *testing.T) {
	t.Parallel()
	const n = 50
	pid, _ := subreaperStorm(t, spec{env: []string{fakeEnv + "=orphans"},
		args: []string{"--", selfExe, fmt.Sprint(n), "10"}}, n)
	var kids []int
	hfrun.WaitFor(t, hfrun.WaitLong, "the released orphans to be reaped by holdfast (only the app left)", func() bool {
		kids = children(pid)
		return len(kids) == 1
	}, func() string { return fmt.Sprintf("holdfast (pid %d) still has %d children", pid, len(kids)) })
	if st, _ := procState(kids[0]); st == "Z" {
		t.Errorf("the app is a zombie")
	}
}

func TestReapAsSubreaperNegativeControl(t *testing.T) {
	t.Parallel()
	const n = 50
	pid, _ := subreaperStorm(t, spec{env: []string{fakeEnv + "=noreap-init"},
		prog: []string{selfExe, "orphans", selfExe, fmt.Sprint(n), "10"}}, n)
	var zombies int
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("%d zombie children of the non-reaping subreaper", n), func() bool {
		zombies = 0
		for _, k := range children(pid) {
			if st, _ := procState(k); st == "Z" {
				zombies++
			}
		}
		return zombies == n
	}, func() string { return fmt.Sprintf("%d zombies", zombies) })
}
