package e2e

// Where a run's cause shows, end to end with a real JVM as holdfast's app under PID 1:
// `holdfast status` (why:), `holdfast runs` (WHY), both --json, GET /status, the /readyz
// reason, `holdfast probe ready`, `holdfast logs --why` and holdfast_app_last_cause. The
// cause itself (run.json's "cause") is the extractor's; these tests check that every
// surface shows that same one line, and none shows one for a run that did not fail.

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// surfaceCause is the part of run.json's "cause" these tests read.
type surfaceCause struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	Line    int    `json:"line"`
}

// recordedCause reads run n's run.json "cause" (nil when it has none).
func recordedCause(t testing.TB, stateDir string, n int) *surfaceCause {
	t.Helper()
	var rec struct {
		Cause *surfaceCause `json:"cause"`
	}
	path := hfrun.RunDir(stateDir, n) + "/run.json"
	if err := json.Unmarshal([]byte(hfrun.ReadFile(t, path)), &rec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec.Cause
}

// runCLIEnv is runCLI with extra environment variables.
func runCLIEnv(t testing.TB, env []string, stateDir, sub string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(holdfastBin, append([]string{sub, "--state-dir=" + stateDir}, args...)...)
	cmd.Env = append(baseEnv(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb hfrun.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(hfrun.WaitLong):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("holdfast %s did not return within %v", sub, hfrun.WaitLong)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// lastExitCause is the status JSON's last_exit.cause.
func lastExitCause(t testing.TB, statusJSON string) *surfaceCause {
	t.Helper()
	var st struct {
		LastExit *struct {
			Run   int           `json:"run"`
			Cause *surfaceCause `json:"cause"`
		} `json:"last_exit"`
	}
	if err := json.Unmarshal([]byte(statusJSON), &st); err != nil {
		t.Fatalf("status JSON: %v: %s", err, statusJSON)
	}
	if st.LastExit == nil {
		return nil
	}
	return st.LastExit.Cause
}

// TestCauseSurfaces: springfail (Spring Boot's failure analysis, then an uncaught
// exception chain down to the database's ConnectException) is held at its first crash; its cause, as run.json
// records it, is the same one line in every place a person looks.
func TestCauseSurfaces(t *testing.T) {
	t.Parallel()
	jar := javaJar(t, "springfail")
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=0", "--hold-window=1h"},
		app:  javaArgv(t, "-jar", jar),
	})
	z.waitPhase(t, "held", 1)
	c := recordedCause(t, z.stateDir, 1)
	// What the extractor makes of springfail is its business (cause's corpus tests it):
	// here it must only come from the output (a line), not from the exit alone.
	if c == nil || c.Line <= 0 || (c.Kind != "spring-failure-analysis" && c.Kind != "exception") {
		t.Fatalf("run.json cause = %+v, want one read from the output, with its line", c)
	}
	sum := c.Summary

	// holdfast status: why: right under the phase.
	out, errOut, code := runCLI(t, z.stateDir, "status")
	lines := strings.Split(out, "\n")
	if code != 0 || len(lines) < 2 || lines[1] != "why:        "+sum {
		t.Errorf("holdfast status (exit %d, %s): line 2 is not why: %s\n%s", code, errOut, sum, out)
	}
	// --json of status and GET /status: last_exit.cause.
	out, _, _ = runCLI(t, z.stateDir, "status", "--json")
	if got := lastExitCause(t, out); got == nil || *got != *c {
		t.Errorf("holdfast status --json last_exit.cause = %+v, want %+v", got, c)
	}
	codeHTTP, body, err := hfrun.Fetch(z.base + "/status")
	if err != nil || codeHTTP != 200 {
		t.Fatalf("GET /status: %d %v", codeHTTP, err)
	}
	if got := lastExitCause(t, body); got == nil || *got != *c {
		t.Errorf("GET /status last_exit.cause = %+v, want %+v", got, c)
	}

	// holdfast runs: on a wide terminal the WHY column holds the whole line; in a pipe
	// (80 columns) the cause goes under its run, cut to fit.
	out, _, code = runCLIEnv(t, []string{"COLUMNS=400"}, z.stateDir, "runs")
	if rows := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(rows) != 2 || !strings.HasSuffix(rows[0], "WHY") || !strings.HasSuffix(rows[1], "  "+sum) {
		t.Errorf("holdfast runs at 400 columns (exit %d): want a WHY column with %q:\n%s", code, sum, out)
	}
	out, _, code = runCLI(t, z.stateDir, "runs")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(rows) != 3 || !strings.HasPrefix(rows[2], "     why: ") || len([]rune(rows[2])) > 80 ||
		!strings.HasPrefix(sum, strings.TrimSuffix(strings.TrimPrefix(rows[2], "     why: "), "...")) {
		t.Errorf("holdfast runs in a pipe (exit %d): want the cause under run 1, at most 80 columns:\n%s", code, out)
	}
	out, _, _ = runCLI(t, z.stateDir, "runs", "--json")
	var runs []struct {
		Cause *surfaceCause `json:"cause"`
	}
	if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != 1 || runs[0].Cause == nil || *runs[0].Cause != *c {
		t.Errorf("holdfast runs --json: want run 1 with cause %+v:\n%s", c, out)
	}

	// /readyz and the exec probe: 503 / exit 1, one line naming the cause.
	codeHTTP, body, _ = hfrun.Fetch(z.base + "/readyz")
	var ready struct{ Reason string }
	_ = json.Unmarshal([]byte(body), &ready)
	if codeHTTP != 503 || ready.Reason != "the app is held (startup-crash): "+sum {
		t.Errorf("/readyz = %d %s, want 503 whose reason ends in the cause", codeHTTP, body)
	}
	out, errOut, code = runCLI(t, z.stateDir, "probe", "ready")
	if want := "holdfast probe ready: not ready: the app is held (startup-crash): " + sum + "\n"; code != 1 || out+errOut != want {
		t.Errorf("holdfast probe ready: exit %d, output %q; want exit 1 and %q", code, out+errOut, want)
	}

	// logs --why: output.log's lines around the cause's, numbered, the cause's marked.
	out, errOut, code = runCLI(t, z.stateDir, "logs", "--why")
	log := strings.Split(hfrun.ReadFile(t, hfrun.RunDir(z.stateDir, 1)+"/output.log"), "\n")
	mark := regexp.MustCompile(`(?m)^> +` + fmt.Sprint(c.Line) + `  (.*)$`).FindStringSubmatch(out)
	if code != 0 || !strings.HasPrefix(out, "run 1: "+sum+" ("+c.Kind+")\n") || mark == nil || mark[1] != log[c.Line-1] {
		t.Errorf("holdfast logs --why (exit %d, %s): want line %d of output.log (%q) marked:\n%s", code, errOut, c.Line, log[c.Line-1], out)
	}

	// holdfast_app_last_cause: 1 for the kind, 0 for the others.
	_, metrics, _ := hfrun.Fetch(z.base + "/metrics")
	if hfrun.Metric(metrics, `holdfast_app_last_cause{kind="`+c.Kind+`"}`) != 1 || hfrun.Metric(metrics, `holdfast_app_last_cause{kind="exit-code"}`) != 0 {
		t.Errorf("holdfast_app_last_cause: want %s 1, exit-code 0:\n%s", c.Kind, grepLines(metrics, "holdfast_app_last_cause"))
	}
}

// TestCauseSurfacesCleanRun is the negative control: a JVM that runs and has never
// failed has no why anywhere, and `logs --why` says there is none.
func TestCauseSurfacesCleanRun(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		// Ready as soon as the process runs: this app never listens.
		args: []string{"--hold=true", "--max-restarts=0", "--hold-window=1h", "--app-ready=process"},
		env:  []string{"CRASH_AFTER_MS=3600000"},
		app:  javaArgv(t, "-jar", javaJar(t, "crashafter")),
	})
	z.waitOutput(t, "up", hfrun.WaitLong)
	z.until(t, "running and ready", func(s hfrun.Status) bool { return s.Phase == "running" && s.Ready })

	out, _, code := runCLI(t, z.stateDir, "status")
	if code != 0 || strings.Contains(out, "why") {
		t.Errorf("holdfast status of a clean run (exit %d) has a why:\n%s", code, out)
	}
	out, _, _ = runCLI(t, z.stateDir, "status", "--json")
	if strings.Contains(out, `"cause"`) {
		t.Errorf("holdfast status --json of a clean run has a cause:\n%s", out)
	}
	out, _, _ = runCLIEnv(t, []string{"COLUMNS=400"}, z.stateDir, "runs")
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 2 || !strings.HasSuffix(rows[1], "  -") {
		t.Errorf("holdfast runs of a clean run: want WHY -:\n%s", out)
	}
	if codeHTTP, body, _ := hfrun.Fetch(z.base + "/readyz"); codeHTTP != 200 || strings.Contains(body, "reason") {
		t.Errorf("/readyz of a clean run = %d %s, want 200 without a reason", codeHTTP, body)
	}
	if out, errOut, code := runCLI(t, z.stateDir, "probe", "ready"); code != 0 || out+errOut != "" {
		t.Errorf("holdfast probe ready of a clean run: exit %d, %q; want 0 and no output", code, out+errOut)
	}
	if _, errOut, code := runCLI(t, z.stateDir, "logs", "--why"); code != 1 || !strings.Contains(errOut, "no kept run has a cause") {
		t.Errorf("holdfast logs --why of a clean run: exit %d, %q", code, errOut)
	}
	_, metrics, _ := hfrun.Fetch(z.base + "/metrics")
	if n := strings.Count(metrics, "\nholdfast_app_last_cause{"); n < 10 || strings.Contains(metrics, "holdfast_app_last_cause{kind=\"exception\"} 1") ||
		regexp.MustCompile(`(?m)^holdfast_app_last_cause\{.*\} 1$`).MatchString(metrics) {
		t.Errorf("holdfast_app_last_cause of a clean run: want every kind 0:\n%s", grepLines(metrics, "holdfast_app_last_cause"))
	}
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
