package e2e

// Kubernetes probes against a real JVM (the zoo's health app, a Spring-Boot-like
// actuator): holdfast's /readyz follows the app's readiness URL, and a liveness URL
// that stops answering is a hang — held with the JVM alive inside the window, stopped
// with a thread dump after it.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

func prURL(port int, which string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/actuator/health/%s", port, which)
}

// prWaitHTTP waits until GET base+path answers code, and returns the body.
func prWaitHTTP(t testing.TB, z *hf, path string, code int) string {
	t.Helper()
	var got int
	var body string
	var err error
	hfrun.WaitFor(t, 3*hfrun.WaitLong, fmt.Sprintf("GET %s to answer %d", path, code), func() bool {
		got, body, err = hfrun.Get(z.base+path, 5*time.Second)
		return (err == nil && got == code) || z.exited()
	}, func() string { return fmt.Sprintf("last: %d %s (%v)\n%s", got, body, err, z.watch) })
	if got != code {
		t.Fatalf("holdfast exited while waiting for GET %s = %d\n%s", path, code, z.output())
	}
	return body
}

func prProbeCLI(t testing.TB, z *hf, which string, want int) {
	t.Helper()
	if _, errOut, code := runCLI(t, z.stateDir, "probe", which); code != want {
		t.Errorf("holdfast probe %s exited %d, want %d: %s", which, code, want, errOut)
	}
}

func TestProbeReadyAfter(t *testing.T) {
	t.Parallel()
	ready := filepath.Join(t.TempDir(), "ready")
	port := hfrun.Port(t)
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--app-probe-period=200ms", "--app-ready-url=" + prURL(port, "readiness")},
		env:  []string{"MODE=ready-after", "PORT=" + strconv.Itoa(port), "READY_FILE=" + ready},
		app:  javaArgv(t, "-jar", javaJar(t, "health")),
	})
	z.waitOutput(t, fmt.Sprintf("Tomcat started on port(s): %d", port), 3*hfrun.WaitLong)
	// The app answers, and says it is not ready: neither is holdfast.
	if code, body, err := hfrun.Fetch(prURL(port, "readiness")); err != nil || code != 503 {
		t.Fatalf("the app's readiness: %d %s (%v), want 503", code, body, err)
	}
	body := prWaitHTTP(t, z, "/readyz", http.StatusServiceUnavailable)
	if !strings.Contains(body, "waiting") {
		t.Errorf("/readyz before ready: %s, want a reason that says it is waiting for the app", body)
	}
	st := cliStatus(t, z.stateDir)
	if st.Phase != "running" || st.Ready || !st.InHoldWindow {
		t.Errorf("before ready: %+v, want running, not ready, in the hold window", st)
	}
	prProbeCLI(t, z, "ready", 1)

	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	prWaitHTTP(t, z, "/readyz", http.StatusOK)
	st = z.until(t, "ready and out of the window", func(s hfrun.Status) bool { return s.Ready && !s.InHoldWindow })
	if st.Phase != "running" || st.Run != 1 {
		t.Errorf("after ready: %+v, want running run 1", st)
	}
	prProbeCLI(t, z, "ready", 0)
	prProbeCLI(t, z, "live", 0)

	// The first ready ended the window for good: unready again is not back in it.
	if err := os.Remove(ready); err != nil {
		t.Fatal(err)
	}
	prWaitHTTP(t, z, "/readyz", http.StatusServiceUnavailable)
	if st := cliStatus(t, z.stateDir); st.InHoldWindow || st.Ready || st.Phase != "running" {
		t.Errorf("unready after ready: %+v, want running, not ready, out of the window", st)
	}
	hfrun.CheckTrail(t, z.watch, 0, "starting", "running")
}

func TestProbeUnreadyLater(t *testing.T) {
	t.Parallel()
	ready := filepath.Join(t.TempDir(), "ready")
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	port := hfrun.Port(t)
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--app-probe-period=200ms", "--app-probe-failure-threshold=2",
			"--app-ready-url=" + prURL(port, "readiness")},
		env: []string{"MODE=unready-later", "PORT=" + strconv.Itoa(port), "READY_FILE=" + ready},
		app: javaArgv(t, "-jar", javaJar(t, "health")),
	})
	prWaitHTTP(t, z, "/readyz", http.StatusOK)
	st := cliStatus(t, z.stateDir)
	if !st.Ready || st.Phase != "running" || st.PID == nil {
		t.Fatalf("ready: %+v", st)
	}
	pid := *st.PID

	if err := os.Remove(ready); err != nil {
		t.Fatal(err)
	}
	body := prWaitHTTP(t, z, "/readyz", http.StatusServiceUnavailable)
	if !strings.Contains(body, "readiness") {
		t.Errorf("/readyz after the app turned unready: %s, want a reason naming the app's readiness", body)
	}
	st = cliStatus(t, z.stateDir)
	if st.Phase != "running" || st.Ready || st.PID == nil || *st.PID != pid || st.Run != 1 {
		t.Errorf("unready: %+v, want still running the same process (pid %d, run 1), not ready", st, pid)
	}
	prProbeCLI(t, z, "ready", 1)
	prProbeCLI(t, z, "live", 0)
	if code, _, err := hfrun.Fetch(z.base + "/livez"); err != nil || code != 200 {
		t.Errorf("/livez of an unready app: %d (%v), want 200", code, err)
	}

	// Ready again: traffic comes back without a restart.
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	prWaitHTTP(t, z, "/readyz", http.StatusOK)
	hfrun.CheckTrail(t, z.watch, 0, "starting", "running")
	if runs := hfrun.RunsSeen(z.watch, "running"); len(runs) != 1 || runs[0] != 1 {
		t.Errorf("runs seen: %v, want only run 1", runs)
	}
}

// prWaitLiveSeen waits until holdfast has seen the app's liveness URL answer (only
// then does a failure count as a hang). Nothing in the status says so; holdfast logs
// it, and that log line is the only outside sign.
func prWaitLiveSeen(t testing.TB, z *hf) {
	t.Helper()
	z.waitOutput(t, "liveness answered", 3*hfrun.WaitLong)
}

func TestProbeLiveHangHeld(t *testing.T) {
	t.Parallel()
	hang := filepath.Join(t.TempDir(), "hang")
	port := hfrun.Port(t)
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--hold-window=1h", "--grace=5s", "--app-probe-period=200ms",
			"--app-probe-timeout=500ms", "--app-probe-failure-threshold=2", "--app-live-url=" + prURL(port, "liveness")},
		env: []string{"MODE=live-hang", "PORT=" + strconv.Itoa(port), "HANG_FILE=" + hang},
		app: javaArgv(t, "-jar", javaJar(t, "health")),
	})
	prWaitLiveSeen(t, z)
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := z.waitPhase(t, "held", 1)
	if st.Reason() != "hang" || st.PID == nil || st.LastExit != nil {
		t.Fatalf("hang hold: %+v, want hold_reason hang, the JVM's pid, no exit", st)
	}
	z.assertPID1(t, st)
	// The JVM is alive inside the namespace.
	out, err := execInNS(t, z, "cat", fmt.Sprintf("/proc/%d/stat", *st.PID))
	if f := strings.Fields(out); err != nil || len(f) < 3 || f[1] != "(java)" || f[2] == "Z" {
		t.Errorf("held JVM (pid %d in the namespace): stat %q (%v), want a live java", *st.PID, out, err)
	}
	// Its thread dump names the stuck thread and where it waits.
	hfrun.WaitFileHas(t, filepath.Join(hfrun.RunDir(z.stateDir, 1), "output.log"),
		"Full thread dump", "stuck-in-liveness", "waitForDatabaseLock")

	code, body, err := hfrun.Fetch(z.base + "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d (%v)", code, err)
	}
	for _, want := range []string{"holdfast_held 1", `holdfast_phase{phase="held"} 1`, `holdfast_phase{phase="running"} 0`, "holdfast_app_up 1"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	z.checkHeldHTTP(t, "hang")
	hfrun.CheckTrail(t, z.watch, 1, "starting", "running", "held")

	if out, errOut, c := runCLI(t, z.stateDir, "release"); c != 0 {
		t.Fatalf("holdfast release exited %d: %s%s", c, out, errOut)
	}
	c := z.waitExit(t, 3*hfrun.WaitLong)
	if c != 143 && c != 137 {
		t.Errorf("holdfast exited %d after releasing a hung JVM, want 143 or 137", c)
	}
	if r := hfrun.ReadRun(t, z.stateDir, 1); r.Code() != c {
		t.Errorf("run.json exit_code %d, holdfast's %d", r.Code(), c)
	}
}

func TestProbeLiveHangAfterWindow(t *testing.T) {
	t.Parallel()
	hang := filepath.Join(t.TempDir(), "hang")
	port := hfrun.Port(t)
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--hold-window=1s", "--on-late-crash=exit", "--grace=5s", "--app-probe-period=200ms",
			"--app-probe-timeout=500ms", "--app-probe-failure-threshold=2", "--app-live-url=" + prURL(port, "liveness")},
		env: []string{"MODE=live-hang", "PORT=" + strconv.Itoa(port), "HANG_FILE=" + hang},
		app: javaArgv(t, "-jar", javaJar(t, "health")),
	})
	prWaitLiveSeen(t, z)
	z.until(t, "running outside the hold window", func(s hfrun.Status) bool { return s.Phase == "running" && !s.InHoldWindow })
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code := z.waitExit(t, 3*hfrun.WaitLong)
	if code != 143 && code != 137 {
		t.Errorf("holdfast exited %d after the app hung outside the window, want the app's 143 or 137", code)
	}
	hfrun.CheckTrail(t, z.watch, 0, "starting", "running", "stopping", "exited")
	r := hfrun.ReadRun(t, z.stateDir, 1)
	hfrun.CheckRun(t, z.stateDir, r, 1, 1, code, "hang", "exit")
	log := hfrun.ReadFile(t, filepath.Join(r.Dir, "output.log"))
	for _, want := range []string{"Full thread dump", "stuck-in-liveness", "waitForDatabaseLock"} {
		if !strings.Contains(log, want) {
			t.Errorf("output.log lacks %q", want)
		}
	}
}
