package e2e

// The crash-hold budget survives holdfast's own death: holdfast as PID 1 is SIGKILLed
// together with its app (the whole pid namespace at once, as the kernel's group OOM kill
// or the runtime's kill of a container does) during a startup crash loop; started again
// on the same state dir it counts the runs that vanished with it, and once the budget is
// spent it starts held without starting the app.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// policyRun is the run policy.json names as the last one started, or 0.
func policyRun(stateDir string) int {
	b, err := os.ReadFile(filepath.Join(stateDir, "policy.json"))
	if err != nil {
		return 0
	}
	var f struct {
		Run int `json:"run"`
	}
	if json.Unmarshal(b, &f) != nil {
		return 0
	}
	return f.Run
}

// groupKill waits until policy.json records run as started, then SIGKILLs holdfast,
// PID 1 of its namespace: the kernel kills every process of the namespace with it.
func groupKill(t *testing.T, z *hf, run int) {
	t.Helper()
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("policy.json to record run %d", run), func() bool { return policyRun(z.stateDir) == run })
	z.kill()
}

func TestDurableBudgetAcrossGroupKills(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	marker := filepath.Join(t.TempDir(), "configured")
	sp := spec{
		pid1: true, probe: true, stateDir: stateDir,
		args: []string{"--hold=true", "--max-restarts=3", "--backoff=2s", "--backoff-max=30s", "--app-ready=process"},
		env:  []string{fakeEnv + "=crash-unless-marker", fakeMarker + "=" + marker},
		app:  []string{selfExe},
	}

	// Container start 1: runs 1 and 2 crash at startup; run 3 (now configured) is
	// killed together with holdfast.
	z1 := start(t, sp)
	z1.until(t, "run 2 crashed, backing off", func(s hfrun.Status) bool { return s.Phase == "backoff" && s.Run == 2 })
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := z1.waitPhase(t, "running", 3); st.BudgetUsed != 2 {
		t.Fatalf("run 3: %+v, want budget_used 2", st)
	}
	groupKill(t, z1, 3)

	// Container start 2: run 3 vanished inside the window and counts; run 4 starts
	// under the same budget, and is killed the same way.
	z2 := start(t, sp)
	if st := z2.waitPhase(t, "running", 4); st.BudgetUsed != 3 {
		t.Fatalf("run 4: %+v, want budget_used 3 (run 3 counted)", st)
	}
	groupKill(t, z2, 4)

	// Container start 3: run 4 vanished too: four startup crashes with
	// --max-restarts=3. Held at once, the app not started.
	z3 := start(t, sp)
	st := z3.waitPhase(t, "held", 4)
	if st.Reason() != "startup-crash" || st.PID != nil || st.BudgetUsed != 3 || st.LastExit == nil || st.LastExit.Run != 4 {
		t.Fatalf("held at start: %+v, want startup-crash, no app pid, budget_used 3, last exit run 4", st)
	}
	z3.assertPID1(t, st)
	if kids := children(z3.pid(t)); len(kids) != 0 {
		t.Errorf("holdfast held at start has children %v: the app was started", kids)
	}
	if _, err := os.Stat(hfrun.RunDir(stateDir, 5)); err == nil {
		t.Errorf("run 5 exists: the app was started")
	}
	z3.checkHeldHTTP(t, "startup-crash")
	z3.waitOutput(t, "APP HELD", hfrun.WaitLong)
	for _, want := range []string{"2 container restart(s)", "run 3 vanished", "run 4 vanished", "killed together"} {
		if !strings.Contains(z3.output(), want) {
			t.Errorf("the start-held output lacks %q:\n%s", want, z3.output())
		}
	}
	for n, want := range map[int]string{1: "startup-crash", 2: "startup-crash", 3: "vanished", 4: "vanished"} {
		r := hfrun.ReadRun(t, stateDir, n)
		if string(r.Reason) != want || r.EndedAt == nil {
			t.Errorf("run %d: reason %q ended %v, want %s with an end", n, r.Reason, r.EndedAt, want)
		}
	}
	out, errOut, code := runCLI(t, stateDir, "runs")
	if code != 0 || strings.Count(out, "vanished") != 2 || strings.Count(out, "startup-crash") != 2 {
		t.Errorf("holdfast runs (exit %d) does not show every run:\n%s%s", code, out, errOut)
	}

	// holdfast restart works as for any hold: a fresh budget, the app starts.
	if out, errOut, code := runCLI(t, stateDir, "restart"); code != 0 {
		t.Fatalf("holdfast restart exited %d: %s%s", code, out, errOut)
	}
	if st := z3.waitPhase(t, "running", 5); st.BudgetUsed != 0 || st.PID == nil {
		t.Errorf("after restart: %+v, want run 5 running with a fresh budget", st)
	}
}

// Negative control: the same app over a fresh state dir starts at once.
func TestDurableFreshStateDirStartsApp(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "configured")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=3", "--backoff=2s", "--app-ready=process"},
		env:  []string{fakeEnv + "=crash-unless-marker", fakeMarker + "=" + marker},
		app:  []string{selfExe},
	})
	if st := z.waitPhase(t, "running", 1); st.BudgetUsed != 0 || st.PID == nil {
		t.Errorf("fresh state dir: %+v, want run 1 running, budget_used 0", st)
	}
	z.waitOutput(t, "crash-hold budget: fresh", hfrun.WaitLong)
}
