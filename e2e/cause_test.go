package e2e

// Why it failed, end to end: the crash zoo's JVMs under holdfast as PID 1 each end held
// with the cause they show in run.json ("cause"), and its one-line summary leads the hold
// banner (`why: <summary>`) and the termination message, and is the why of status, runs,
// /readyz and probe ready. The banner also names the JVM's
// evidence files with their sizes and meaning.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
	"github.com/holdfast-dev/holdfast/e2e/image"
)

// runCause is run.json's cause object.
type runCause struct {
	Kind        string `json:"kind"`
	Summary     string `json:"summary"`
	Exception   string `json:"exception"`
	Message     string `json:"message"`
	Frame       string `json:"frame"`
	Description string `json:"description"`
	Action      string `json:"action"`
	Line        int    `json:"line"`
	HeapDump    string `json:"heap_dump"`
	HsErr       string `json:"hs_err"`
	MemoryLimit uint64 `json:"memory_limit"`
	MemoryPeak  uint64 `json:"memory_peak"`
}

// causeOf reads run n's cause from its run.json; nil when it has none.
func causeOf(t testing.TB, stateDir string, n int) *runCause {
	t.Helper()
	var rec struct {
		Cause *runCause `json:"cause"`
	}
	path := filepath.Join(hfrun.RunDir(stateDir, n), "run.json")
	if err := json.Unmarshal([]byte(hfrun.ReadFile(t, path)), &rec); err != nil {
		t.Fatalf("cannot parse %s: %v", path, err)
	}
	return rec.Cause
}

// outputLine is line n (from 1) of run's output.log, "" when there is none.
func outputLine(t testing.TB, stateDir string, run, n int) string {
	t.Helper()
	lines := strings.Split(hfrun.ReadFile(t, filepath.Join(hfrun.RunDir(stateDir, run), "output.log")), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

func TestCauseJavaZoo(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // after the parallel subtests, unlike a defer
	port := l.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name    string
		app     []string
		env     []string
		kind    string
		summary string   // in the summary
		line    string   // in output.log at the cause's line
		found   []string // in the banner's evidence lines
	}{
		{name: "config", app: []string{"-jar", javaJar(t, "springfail")}, kind: "spring-failure-analysis",
			summary: "The dependencies of some of the beans in the application context form a failure",
			line:    "APPLICATION FAILED TO START"},
		{name: "port-in-use", app: []string{"-jar", javaJar(t, "portinuse")}, env: []string{"PORT=" + strconv.Itoa(port)},
			kind: "spring-failure-analysis", summary: fmt.Sprintf("Web server failed to start. Port %d was already in use.", port),
			line: "APPLICATION FAILED TO START"},
		{name: "oom", app: []string{"-Xmx16m", "-jar", javaJar(t, "oom")}, kind: "oom-heap",
			summary: "Java heap space", line: "java.lang.OutOfMemoryError",
			found: []string{"holdfast: found:     heap dump jvm/java_pid", "MB): the JVM ran out of heap"}},
		{name: "hard-crash", app: []string{"-jar", javaJar(t, "hardcrash")}, kind: "jvm-crash",
			summary: "the JVM crashed with SIGSEGV", line: "A fatal error has been detected",
			found: []string{"holdfast: found:     jvm/hs_err_pid", "): the JVM crashed in native code (SIGSEGV in "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			devUp, devWork := t.TempDir(), t.TempDir()
			z := start(t, spec{
				pid1: true, probe: true,
				pre:  fmt.Sprintf("mount -t overlay overlay -o lowerdir=/dev,upperdir=%s,workdir=%s /dev\n: > /dev/termination-log", devUp, devWork),
				args: []string{"--hold=true", "--max-restarts=0"},
				env:  tc.env,
				app:  javaArgv(t, tc.app...),
			})
			st := z.waitPhase(t, "held", 1)
			z.assertPID1(t, st)
			c := causeOf(t, z.stateDir, 1)
			if c == nil || c.Kind != tc.kind || !strings.Contains(c.Summary, tc.summary) {
				t.Fatalf("run.json cause %+v, want kind %s with %q", c, tc.kind, tc.summary)
			}
			if got := outputLine(t, z.stateDir, 1, c.Line); !strings.Contains(got, tc.line) {
				t.Errorf("output.log line %d is %q, want one with %q", c.Line, got, tc.line)
			}
			switch tc.kind {
			case "oom-heap":
				if _, err := os.Stat(c.HeapDump); err != nil {
					t.Errorf("heap_dump %q: %v", c.HeapDump, err)
				}
			case "jvm-crash":
				if !strings.HasPrefix(filepath.Base(c.HsErr), "hs_err_pid") {
					t.Errorf("hs_err %q", c.HsErr)
				}
			}
			z.waitOutput(t, "APP HELD", hfrun.WaitLong)
			banner := z.stderr.String()
			for _, want := range append([]string{"holdfast: ==================== APP HELD ====================\nholdfast: why: " + c.Summary + "\n"}, tc.found...) {
				if !strings.Contains(banner, want) {
					t.Errorf("the banner lacks %q:\n%s", want, banner)
				}
			}
			checkSurfaces(t, z, c.Summary)
			if out, errOut, code := runCLI(t, z.stateDir, "release"); code != 0 {
				t.Fatalf("holdfast release exited %d: %s%s", code, out, errOut)
			}
			z.waitExit(t, hfrun.WaitLong)
			msg := hfrun.ReadFile(t, filepath.Join(devUp, "termination-log"))
			if first, _, _ := strings.Cut(msg, "\n"); first != c.Summary {
				t.Errorf("termination message's first line %q, want the summary %q", first, c.Summary)
			}
		})
	}
}

// checkSurfaces checks that the held run's summary is the why of holdfast status and
// runs, the /readyz 503 reason and holdfast probe ready's line (TestCauseSurfaces checks
// each surface's form in detail for one app).
func checkSurfaces(t *testing.T, z *hf, sum string) {
	t.Helper()
	if out, _, _ := runCLI(t, z.stateDir, "status"); !strings.Contains(out, "\nwhy:        "+sum+"\n") {
		t.Errorf("holdfast status lacks why: %s\n%s", sum, out)
	}
	if out, _, _ := runCLIEnv(t, []string{"COLUMNS=400"}, z.stateDir, "runs"); !strings.Contains(out, "  "+sum+"\n") {
		t.Errorf("holdfast runs lacks WHY %s\n%s", sum, out)
	}
	held := "the app is held (startup-crash): " + sum
	code, body, _ := hfrun.Fetch(z.base + "/readyz")
	var ready struct{ Reason string }
	_ = json.Unmarshal([]byte(body), &ready)
	if code != 503 || ready.Reason != held {
		t.Errorf("/readyz = %d %s, want 503 with reason %q", code, body, held)
	}
	if out, errOut, code := runCLI(t, z.stateDir, "probe", "ready"); code != 1 || out+errOut != "holdfast probe ready: not ready: "+held+"\n" {
		t.Errorf("holdfast probe ready: exit %d, %q; want 1 and the cause", code, out+errOut)
	}
}

// A kernel OOM kill: the JVM may grow its heap to 1 GiB, the container's memory cgroup
// (runc, cgroup v1 here) allows 160 MiB, so the kernel's OOM killer SIGKILLs java before
// any OutOfMemoryError. holdfast reads the cgroup's oom_kill counter before and after the
// run: the cause is oom-killed, with the limit. The control is the same container whose
// app is SIGKILLed from inside by kill(1): "not the kernel OOM killer".
func TestCauseRuncOOMKilled(t *testing.T) {
	t.Parallel()
	const limit = 160 << 20
	t.Run("oom-killed", func(t *testing.T) {
		t.Parallel()
		c := runcStart(t, runcOpts{app: "oom", cmd: []string{"java", "-Xmx1g", "-Xms8m", "-jar", image.AppJarPath},
			env: []string{"HOLDFAST_MAX_RESTARTS=0"}, memory: limit})
		c.waitPhase(t, "held")
		got := causeOf(t, c.stateDir, 1)
		if got == nil || got.Kind != "oom-killed" || got.MemoryLimit != limit ||
			!strings.Contains(got.Summary, "killed by the kernel's OOM killer (SIGKILL) at the memory limit 160 MiB") {
			t.Fatalf("cause %+v, want oom-killed at the 160 MiB limit\nconsole:\n%s", got, c.out)
		}
		// The banner reaches the console around the phase's change: wait for it.
		hfrun.WaitFor(t, runcWait, "the banner's why: line", func() bool {
			return strings.Contains(c.out.String(), "holdfast: why: "+got.Summary+"\n")
		}, func() string { return c.out.String() })
		t.Logf("cause: %+v", got)
	})
	t.Run("sigkill-from-outside", func(t *testing.T) {
		t.Parallel()
		c := runcStart(t, runcOpts{app: "portinuse", env: []string{"HOLDFAST_MAX_RESTARTS=0", "PORT=0"}, memory: limit})
		var pid float64
		hfrun.WaitFor(t, runcWait, "the app to listen", func() bool {
			st, err := c.status()
			pid, _ = st["pid"].(float64)
			return err == nil && pid > 0 && strings.Contains(c.out.String(), "listening on ")
		}, func() string { return c.out.String() })
		c.exec(t, "sh", "-c", fmt.Sprintf("kill -KILL %d", int(pid)))
		c.waitPhase(t, "held")
		got := causeOf(t, c.stateDir, 1)
		if got == nil || got.Kind != "signal" || !strings.Contains(got.Summary, "killed by SIGKILL from outside holdfast (not the kernel OOM killer)") {
			t.Fatalf("cause %+v, want a SIGKILL from outside, not the OOM killer\nconsole:\n%s", got, c.out)
		}
	})
}

// dumpWatch is holdfast's stdout in TestCauseHangBannerAfterThreadDump: it keeps what it
// gets, and when the JVM's thread dump starts it notes whether the hold banner was
// already on holdfast's stderr.
type dumpWatch struct {
	hfrun.Buffer
	stderr atomic.Pointer[hfrun.Buffer]
	once   sync.Once
	early  chan bool // the banner was on stderr when the dump began
}

func (d *dumpWatch) Write(p []byte) (int, error) {
	n, err := d.Buffer.Write(p)
	if strings.Contains(d.Buffer.String(), "Full thread dump") {
		d.once.Do(func() {
			e := d.stderr.Load()
			d.early <- e != nil && strings.Contains(e.String(), "APP HELD")
		})
	}
	return n, err
}

// A real JVM that stops answering its liveness URL is held for the hang: holdfast sends
// SIGQUIT and the JVM writes its thread dump (to stdout); the banner (stderr) must come
// after the dump, not inside it: when the dump begins, no banner yet, and the banner
// follows. The hung run, stopped later by `holdfast restart`, keeps reason hang.
func TestCauseHangBannerAfterThreadDump(t *testing.T) {
	t.Parallel()
	port := hfrun.Port(t)
	hang := filepath.Join(t.TempDir(), "hang")
	out := &dumpWatch{early: make(chan bool, 1)}
	z := start(t, spec{
		pid1: true, probe: true, stdout: out,
		args: []string{"--hold=true", "--hold-on-hang", "--max-restarts=0",
			fmt.Sprintf("--app-live-url=http://127.0.0.1:%d/actuator/health/liveness", port),
			"--app-probe-period=200ms", "--app-probe-timeout=500ms", "--app-probe-failure-threshold=2"},
		env: []string{"MODE=live-hang", "HANG_FILE=" + hang, "PORT=" + strconv.Itoa(port)},
		app: javaArgv(t, "-jar", javaJar(t, "health")),
	})
	out.stderr.Store(z.stderr)
	hfrun.WaitFor(t, 3*hfrun.WaitLong, "the app to answer liveness", func() bool {
		return strings.Contains(z.stderr.String(), "app liveness answered")
	}, func() string { return z.stderr.String() })
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := z.waitPhase(t, "held", 1)
	if st.Reason() != "hang" {
		t.Fatalf("held for %q, want hang", st.Reason())
	}
	select {
	case early := <-out.early:
		if early {
			t.Fatalf("the banner was on stderr before the thread dump began:\n%s", z.stderr)
		}
	case <-time.After(hfrun.WaitLong):
		t.Fatalf("no thread dump on stdout:\n%s", out.String())
	}
	z.waitOutput(t, "APP HELD", hfrun.WaitLong)
	if !strings.Contains(z.stderr.String(), "holdfast: why: the app hung: it stopped answering its liveness URL http://127.0.0.1:") {
		t.Errorf("the banner lacks why:\n%s", z.stderr)
	}
	if o, errOut, code := runCLI(t, z.stateDir, "restart"); code != 0 {
		t.Fatalf("holdfast restart exited %d: %s%s", code, o, errOut)
	}
	r := hfrun.WaitRun(t, z.stateDir, 1)
	c := causeOf(t, z.stateDir, 1)
	if r.Reason != "hang" || c == nil || c.Kind != "signal" || !strings.Contains(c.Summary, "from holdfast: the app hung") &&
		!strings.Contains(c.Summary, "stopped by holdfast: the app hung") {
		t.Errorf("run 1: reason %q, cause %+v; want hang, a signal from holdfast because the app hung", r.Reason, c)
	}
}
