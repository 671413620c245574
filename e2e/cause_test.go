package e2e

// Why it failed, end to end: the crash zoo's JVMs under holdfast as PID 1 each end held
// with the cause they show in run.json ("cause"), and its one-line summary leads the hold
// banner (`why: <summary>`) and the termination message. The banner also names the JVM's
// evidence files with their sizes and meaning.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
			env: []string{"HOLDFAST_MAX_RESTARTS=0"}, memLimit: limit})
		c.waitPhase(t, "held")
		got := causeOf(t, c.stateDir, 1)
		if got == nil || got.Kind != "oom-killed" || got.MemoryLimit != limit ||
			!strings.Contains(got.Summary, "killed by the kernel's OOM killer (SIGKILL) at the memory limit 160 MiB") {
			t.Fatalf("cause %+v, want oom-killed at the 160 MiB limit\nconsole:\n%s", got, c.out)
		}
		if !strings.Contains(c.out.String(), "holdfast: why: "+got.Summary+"\n") {
			t.Errorf("the banner lacks why:\n%s", c.out)
		}
		t.Logf("cause: %+v", got)
	})
	t.Run("sigkill-from-outside", func(t *testing.T) {
		t.Parallel()
		c := runcStart(t, runcOpts{app: "portinuse", env: []string{"HOLDFAST_MAX_RESTARTS=0", "PORT=0"}, memLimit: limit})
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
