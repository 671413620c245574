package e2e

// The crash zoo end to end: each Java program of testdata/java crashes the way real
// services do, under holdfast as PID 1 of its own pid namespace. Every scenario checks
// the phases holdfast went through, run.json, the evidence files, and that holdfast is
// still PID 1 and alive while it holds. The harness is in harness_test.go and hfrun.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

func TestCrashHoldSpringFail(t *testing.T) {
	t.Parallel()
	jar := javaJar(t, "springfail")
	// A private /dev (an overlay over the host's) with a termination-log file, as the
	// kubelet bind-mounts one: holdfast writes its message there only if it exists.
	devUp, devWork := t.TempDir(), t.TempDir()
	pre := fmt.Sprintf("mount -t overlay overlay -o lowerdir=/dev,upperdir=%s,workdir=%s /dev\n: > /dev/termination-log", devUp, devWork)
	z := start(t, spec{
		pid1: true, probe: true,
		pre:  pre,
		args: []string{"--hold=true", "--max-restarts=2", "--backoff=100ms", "--hold-window=1h"},
		app:  javaArgv(t, "-jar", jar),
	})
	st := z.waitPhase(t, "held", 3)
	if st.Reason() != "startup-crash" || st.Restarts != 2 || st.BudgetUsed != 2 || st.MaxRestarts != 2 ||
		st.PID != nil || st.Ready || st.HeldSince == nil || st.HoldExpiresAt != nil {
		t.Errorf("held status: %+v, want hold_reason startup-crash, restarts 2, budget_used 2/2, pid null, not ready, held_since set, hold_expires_at null", st)
	}
	if e := st.LastExit; e == nil || e.Code != 1 || e.Run != 3 || e.Signal != "" {
		t.Errorf("last_exit %+v, want code 1 of run 3", e)
	}
	if st.EvidenceDir == nil || *st.EvidenceDir != hfrun.RunDir(z.stateDir, 3) {
		t.Errorf("evidence_dir %v, want %s", st.EvidenceDir, hfrun.RunDir(z.stateDir, 3))
	}
	hfrun.CheckTrail(t, z.watch, 3, "starting", "running", "backoff", "held")
	// Polling can miss a run that lives 0.2 s between 100 ms backoffs on a busy
	// machine, so what it saw must only be consistent (runs 1-3, in order); the
	// run.json records below prove that every run happened.
	if got := hfrun.RunsSeen(z.watch, "running"); len(got) == 0 || !slices.IsSorted(got) || got[0] < 1 || got[len(got)-1] > 3 {
		t.Errorf("runs seen running: %v, want an increasing subset of [1 2 3]; %s", got, z.watch)
	}
	z.assertPID1(t, st)

	for i, decision := range []string{"restart", "restart", "hold"} {
		n := i + 1
		r := hfrun.ReadRun(t, z.stateDir, n)
		hfrun.CheckRun(t, z.stateDir, r, n, n, 1, "startup-crash", decision)
		log := hfrun.ReadFile(t, filepath.Join(r.Dir, "output.log"))
		for _, want := range []string{"APPLICATION FAILED TO START", "Caused by:", "Spring Boot"} {
			if !strings.Contains(log, want) {
				t.Errorf("run %d output.log lacks %q:\n%s", n, want, log)
			}
		}
	}

	// The hold is loud on stderr (what kubectl logs shows).
	z.waitOutput(t, "APP HELD", hfrun.WaitLong)
	for _, want := range []string{"APP HELD", hfrun.RunDir(z.stateDir, 3), "holdfast restart", "holdfast release"} {
		if !strings.Contains(z.stderr.String(), want) {
			t.Errorf("holdfast's stderr lacks %q:\n%s", want, z.stderr)
		}
	}

	// logs --tail 5: the end of the last run's stack trace.
	out, errOut, code := runCLI(t, z.stateDir, "logs", "--tail", "5")
	lines := strings.Split(strings.TrimRight(hfrun.ReadFile(t, filepath.Join(hfrun.RunDir(z.stateDir, 3), "output.log")), "\n"), "\n")
	want := strings.Join(lines[len(lines)-5:], "\n") + "\n"
	if code != 0 || out != want || !strings.Contains(out, "Caused by: java.net.ConnectException") {
		t.Errorf("holdfast logs --tail 5 (exit %d, stderr %q):\n%q\nwant the end of the stack trace:\n%q", code, errOut, out, want)
	}

	// runs: three runs, as JSON and as a table.
	out, errOut, code = runCLI(t, z.stateDir, "runs", "--json")
	var runs []hfrun.RunRec
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 3 {
		t.Errorf("holdfast runs --json (exit %d, %s): want 3 runs, got:\n%s", code, errOut, out)
	} else {
		for i, r := range runs {
			if r.Run != i+1 || r.Code() != 1 {
				t.Errorf("holdfast runs --json entry %d: %+v", i, r)
			}
		}
	}
	out, errOut, code = runCLI(t, z.stateDir, "runs")
	for n := 1; n <= 3; n++ {
		if code != 0 || !strings.Contains(out, hfrun.RunDir(z.stateDir, n)) {
			t.Errorf("holdfast runs (exit %d, %s) does not list run %d:\n%s", code, errOut, n, out)
		}
	}

	z.checkHeldHTTP(t, "held")
	// Still held, still the same hold, still PID 1.
	st2 := cliStatus(t, z.stateDir)
	if st2.Phase != "held" || st2.HeldSince == nil || !st2.HeldSince.Equal(*st.HeldSince) || st2.Run != 3 {
		t.Errorf("after the checks: %+v, want the same hold of run 3", st2)
	}
	z.assertPID1(t, st2)

	if out, errOut, code := runCLI(t, z.stateDir, "release"); code != 0 {
		t.Fatalf("holdfast release exited %d: %s%s", code, out, errOut)
	}
	if code := z.waitExit(t, hfrun.WaitLong); code != 1 {
		t.Errorf("holdfast exited %d after release, want the app's 1", code)
	}
	// Negative control of the probe: no holdfast answers now.
	if _, _, code := runCLI(t, z.stateDir, "probe", "live"); code != 1 {
		t.Errorf("holdfast probe live with no holdfast running exited %d, want 1", code)
	}
	msg := hfrun.ReadFile(t, filepath.Join(devUp, "termination-log"))
	for _, want := range []string{"code 1", "startup-crash", "3 runs", hfrun.RunDir(z.stateDir, 3)} {
		if !strings.Contains(msg, want) {
			t.Errorf("/dev/termination-log lacks %q: %q", want, msg)
		}
	}
}

func TestCrashHoldPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	z := start(t, spec{
		pid1: true, probe: true,
		// Ready is checked right after the app prints that it listens: ready here
		// means the process exists, as this test was written.
		args: []string{"--hold=true", "--max-restarts=0", "--app-ready=process"},
		env:  []string{"PORT=" + strconv.Itoa(port)},
		app:  javaArgv(t, "-jar", javaJar(t, "portinuse")),
	})
	st := z.waitPhase(t, "held", 1)
	if st.Reason() != "startup-crash" || st.LastExit == nil || st.LastExit.Code != 1 {
		t.Errorf("held status %+v, want startup-crash with code 1", st)
	}
	z.assertPID1(t, st)
	r := hfrun.ReadRun(t, z.stateDir, 1)
	hfrun.CheckRun(t, z.stateDir, r, 1, 1, 1, "startup-crash", "hold")
	log := hfrun.ReadFile(t, filepath.Join(r.Dir, "output.log"))
	if want := fmt.Sprintf("Port %d was already in use", port); !strings.Contains(log, want) {
		t.Errorf("output.log lacks %q:\n%s", want, log)
	}
	z.checkHeldHTTP(t, "held")

	// Free the port and retry: the same app now starts (so the port was the cause).
	l.Close()
	if out, errOut, code := runCLI(t, z.stateDir, "restart"); code != 0 {
		t.Fatalf("holdfast restart exited %d: %s%s", code, out, errOut)
	}
	z.waitOutput(t, fmt.Sprintf("listening on %d", port), 3*hfrun.WaitLong)
	st = z.waitPhase(t, "running", 2)
	if !st.Ready || st.BudgetUsed != 0 {
		t.Errorf("after restart: %+v, want running, ready, budget_used 0", st)
	}
}

func TestCrashHoldOOMHeapDumps(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=1", "--backoff=100ms"},
		app:  javaArgv(t, "-Xmx16m", "-jar", javaJar(t, "oom")),
	})
	st := z.waitPhase(t, "held", 2)
	z.assertPID1(t, st)
	hfrun.CheckTrail(t, z.watch, 2, "starting", "running", "backoff", "held")
	var pids []int
	for i, decision := range []string{"restart", "hold"} {
		n := i + 1
		r := hfrun.ReadRun(t, z.stateDir, n)
		hfrun.CheckRun(t, z.stateDir, r, n, n, 1, "startup-crash", decision)
		pids = append(pids, r.PID)
		dumps := r.Of("heap-dump")
		// The JVM writes in the run's jvm/ dir, the one place the app may write.
		files, _ := filepath.Glob(filepath.Join(r.Dir, "jvm", "*.hprof"))
		if len(dumps) != 1 || len(files) != 1 || "jvm/"+filepath.Base(files[0]) != dumps[0].Name || dumps[0].Size < 1<<20 {
			t.Errorf("run %d: want its own heap dump (artifact kind heap-dump, >= 1 MiB); artifacts %+v, files %v", n, r.Artifacts, files)
		}
		log := hfrun.ReadFile(t, filepath.Join(r.Dir, "output.log"))
		if !strings.Contains(log, "java.lang.OutOfMemoryError") || !strings.Contains(log, "Heap dump file created") {
			t.Errorf("run %d: output.log lacks the OOM and the dump line:\n%s", n, log)
		}
	}
	z.checkHeldHTTP(t, "held")
	if out, errOut, code := runCLI(t, z.stateDir, "release"); code != 0 {
		t.Fatalf("holdfast release exited %d: %s%s", code, out, errOut)
	}
	if code := z.waitExit(t, hfrun.WaitLong); code != 1 {
		t.Errorf("holdfast exited %d after release, want 1", code)
	}
	first, err := os.ReadDir(hfrun.RunDir(z.stateDir, 1))
	if err != nil {
		t.Fatal(err)
	}

	// The container restarts on the same state dir (an emptyDir): a fresh namespace,
	// where java gets the same low pid again. Run numbers go on, and the new dump
	// lands in the new run's dir, next to the old ones, not over them.
	z2 := start(t, spec{
		pid1: true, probe: true,
		stateDir: z.stateDir,
		args:     []string{"--hold=true", "--max-restarts=0"},
		app:      javaArgv(t, "-Xmx16m", "-jar", javaJar(t, "oom")),
	})
	z2.waitPhase(t, "held", 3)
	r3 := hfrun.ReadRun(t, z.stateDir, 3)
	hfrun.CheckRun(t, z.stateDir, r3, 3, 1, 1, "startup-crash", "hold")
	pids = append(pids, r3.PID)
	if dumps := r3.Of("heap-dump"); len(dumps) != 1 || dumps[0].Size < 1<<20 {
		t.Errorf("run 3: want its own heap dump; artifacts %+v", r3.Artifacts)
	}
	again, err := os.ReadDir(hfrun.RunDir(z.stateDir, 1))
	if err != nil || len(again) != len(first) {
		t.Errorf("run 1's dir changed after the container restarted: %v -> %v (%v)", first, again, err)
	}
	t.Logf("java pids of runs 1, 2 (first container) and 3 (second): %v", pids)
}

func TestCrashHoldHardCrash(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=0"},
		app:  javaArgv(t, "-jar", javaJar(t, "hardcrash")),
	})
	st := z.waitPhase(t, "held", 1)
	z.assertPID1(t, st)
	if e := st.LastExit; e == nil || e.Code != 134 || e.Signal != "SIGABRT" {
		t.Errorf("last_exit %+v, want code 134 (SIGABRT)", e)
	}
	r := hfrun.ReadRun(t, z.stateDir, 1)
	hfrun.CheckRun(t, z.stateDir, r, 1, 1, 134, "startup-crash", "hold")
	if r.Signal != "SIGABRT" {
		t.Errorf("run.json signal %q, want SIGABRT", r.Signal)
	}
	errs := r.Of("hs-err")
	files, _ := filepath.Glob(filepath.Join(r.Dir, "jvm", "hs_err_pid*.log"))
	if len(errs) != 1 || len(files) != 1 || "jvm/"+filepath.Base(files[0]) != errs[0].Name {
		t.Fatalf("want one hs_err_pid*.log in %s as artifact kind hs-err; artifacts %+v, files %v", r.Dir, r.Artifacts, files)
	}
	if s := hfrun.ReadFile(t, files[0]); !strings.Contains(s, "SIGSEGV") {
		t.Errorf("%s does not name the SIGSEGV:\n%.2000s", files[0], s)
	}
}

func TestCrashHoldCrashAfter(t *testing.T) {
	t.Parallel()
	jar := javaJar(t, "crashafter")

	t.Run("inside-window", func(t *testing.T) {
		t.Parallel()
		z := start(t, spec{
			pid1: true, probe: true,
			args: []string{"--hold=true", "--max-restarts=1", "--backoff=100ms", "--hold-window=1h"},
			env:  []string{"CRASH_AFTER_MS=1000"},
			app:  javaArgv(t, "-jar", jar),
		})
		st := z.waitPhase(t, "held", 2)
		z.assertPID1(t, st)
		hfrun.CheckTrail(t, z.watch, 2, "starting", "running", "backoff", "held")
		hfrun.CheckRun(t, z.stateDir, hfrun.ReadRun(t, z.stateDir, 1), 1, 1, 3, "startup-crash", "restart")
		hfrun.CheckRun(t, z.stateDir, hfrun.ReadRun(t, z.stateDir, 2), 2, 2, 3, "startup-crash", "hold")
	})

	t.Run("late-exit", func(t *testing.T) {
		t.Parallel()
		z := start(t, spec{
			pid1: true, probe: true,
			// --max-restarts=0: a late crash taken for a startup crash would hold at once.
			args: []string{"--hold=true", "--max-restarts=0", "--hold-window=500ms"},
			env:  []string{"CRASH_AFTER_MS=2500"},
			app:  javaArgv(t, "-jar", jar),
		})
		z.until(t, "running outside the hold window", func(s hfrun.Status) bool { return s.Phase == "running" && !s.InHoldWindow })
		if code := z.waitExit(t, 3*hfrun.WaitLong); code != 3 {
			t.Errorf("holdfast exited %d after a late crash, want the app's 3", code)
		}
		hfrun.CheckTrail(t, z.watch, 0, "starting", "running", "stopping", "exited")
		r := hfrun.ReadRun(t, z.stateDir, 1)
		hfrun.CheckRun(t, z.stateDir, r, 1, 1, 3, "late-crash", "exit")
		if r.RanForSeconds < 2.5 {
			t.Errorf("run 1 ran %.2fs, want >= 2.5", r.RanForSeconds)
		}
		if _, err := os.Stat(hfrun.RunDir(z.stateDir, 2)); err == nil {
			t.Errorf("a second run was started after a late crash with --on-late-crash=exit")
		}
	})

	t.Run("late-restart", func(t *testing.T) {
		t.Parallel()
		z := start(t, spec{
			pid1: true, probe: true,
			args: []string{"--hold=true", "--max-restarts=0", "--hold-window=500ms", "--on-late-crash=restart", "--backoff=100ms"},
			env:  []string{"CRASH_AFTER_MS=2500"},
			app:  javaArgv(t, "-jar", jar),
		})
		r1 := hfrun.WaitRun(t, z.stateDir, 1)
		r2 := hfrun.WaitRun(t, z.stateDir, 2)
		st := z.until(t, "run 3 running", func(s hfrun.Status) bool { return s.Run >= 3 && s.Phase == "running" })
		hfrun.CheckRun(t, z.stateDir, r1, 1, 1, 3, "late-crash", "restart")
		// Run 2 crashed late too: restarted, never held.
		if r2.Code() != 3 || r2.Reason != "late-crash" || r2.Decision != "restart" {
			t.Errorf("run 2: %+v, want exit 3, late-crash, restart", r2)
		}
		if st.BudgetUsed != 0 || st.Restarts < 2 {
			t.Errorf("status %+v, want budget_used 0 and restarts >= 2", st)
		}
		z.assertPID1(t, st)
		hfrun.CheckTrail(t, z.watch, 0, "starting", "running", "backoff")
		z.signal(t, syscall.SIGTERM)
		if code := z.waitExit(t, hfrun.WaitLong); code != 143 && code != 3 {
			t.Errorf("holdfast exited %d after SIGTERM, want 143 (the JVM's answer to TERM) or 3 (TERM during a backoff)", code)
		}
		hfrun.CheckTrail(t, z.watch, 0, "starting", "running", "backoff", "stopping", "exited")
	})
}

// TestCrashHoldIgnoresTerm: a JVM that ignores TERM is killed after the grace period,
// and first leaves a thread dump: a threads-<time>.txt file in the run dir (through
// attach), listed in run.json; when attach is off in that JVM, the SIGQUIT fallback's
// dump in output.log and on holdfast's stdout.
func TestCrashHoldIgnoresTerm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		flags  []string
		toFile bool
	}{
		{"attach", nil, true},
		{"sigquit-fallback", []string{"-XX:+DisableAttachMechanism"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z := start(t, spec{
				pid1: true, probe: true,
				pre:  jcPrivateTmp(t, javaJar(t, "ignoreterm")), // the JVM's attach socket is its own
				args: []string{"--hold=true", "--hold-window=200ms", "--grace=2s"},
				app:  javaArgv(t, append(tc.flags, "-jar", javaJar(t, "ignoreterm"))...),
			})
			z.waitLine(t, "ready")
			st := z.until(t, "running outside the hold window", func(s hfrun.Status) bool { return s.Phase == "running" && !s.InHoldWindow })
			z.assertPID1(t, st)
			t0 := time.Now()
			z.signal(t, syscall.SIGTERM)
			code := z.waitExit(t, 3*hfrun.WaitLong)
			took := time.Since(t0)
			if code != 137 {
				t.Errorf("holdfast exited %d, want 137 (the app's SIGKILL)", code)
			}
			if took < 2*time.Second {
				t.Errorf("holdfast exited %v after SIGTERM, before the 2s grace period", took)
			}
			r := hfrun.ReadRun(t, z.stateDir, 1)
			hfrun.CheckRun(t, z.stateDir, r, 1, 1, 137, "stopped", "exit")
			if r.Signal != "SIGKILL" {
				t.Errorf("run.json signal %q, want SIGKILL", r.Signal)
			}
			log := hfrun.ReadFile(t, filepath.Join(r.Dir, "output.log"))
			if !strings.Contains(log, "ignoring TERM") {
				t.Errorf("output.log lacks \"ignoring TERM\":\n%.3000s", log)
			}
			files, _ := filepath.Glob(filepath.Join(r.Dir, "threads-*.txt"))
			listed := r.Of("thread-dump")
			if !tc.toFile {
				if len(files) != 0 || len(listed) != 0 || !strings.Contains(log, "Full thread dump") ||
					!strings.Contains(z.stdout.String(), "Full thread dump") {
					t.Errorf("attach off: want the SIGQUIT dump in output.log and on stdout and no file; files %v, listed %v, output.log:\n%.3000s", files, listed, log)
				}
				return
			}
			if len(files) != 1 || len(listed) != 1 || listed[0].Name != filepath.Base(files[0]) {
				t.Fatalf("thread dump files %v, listed %+v; want one threads-<time>.txt, listed as thread-dump", files, listed)
			}
			if dump := hfrun.ReadFile(t, files[0]); !strings.Contains(dump, "Full thread dump") || !strings.Contains(dump, `"main"`) {
				t.Errorf("%s is no thread dump:\n%.2000s", files[0], dump)
			}
		})
	}
}

// TestCrashHoldTimelyStopNoThreadDump is the negative control of TestCrashHoldIgnoresTerm:
// an app that stops on TERM within the grace period gets no SIGQUIT.
func TestCrashHoldTimelyStopNoThreadDump(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--hold-window=200ms", "--grace=30s"},
		env:  []string{"CRASH_AFTER_MS=600000"},
		app:  javaArgv(t, "-jar", javaJar(t, "crashafter")),
	})
	z.waitLine(t, "up")
	z.until(t, "running outside the hold window", func(s hfrun.Status) bool { return s.Phase == "running" && !s.InHoldWindow })
	t0 := time.Now()
	z.signal(t, syscall.SIGTERM)
	code := z.waitExit(t, 3*hfrun.WaitLong)
	if code != 143 {
		t.Errorf("holdfast exited %d, want the JVM's 143", code)
	}
	if took := time.Since(t0); took >= 30*time.Second {
		t.Errorf("a JVM that exits on TERM took %v to stop", took)
	}
	r := hfrun.ReadRun(t, z.stateDir, 1)
	hfrun.CheckRun(t, z.stateDir, r, 1, 1, 143, "stopped", "exit")
	if log := hfrun.ReadFile(t, filepath.Join(r.Dir, "output.log")); strings.Contains(log, "Full thread dump") || !strings.Contains(log, "up\n") {
		t.Errorf("output.log of a timely stop: want \"up\" and no thread dump:\n%s", log)
	}
}

var orphanLine = regexp.MustCompile(`(?m)^orphan (\d+)$`)

func TestCrashHoldOrphans(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=0"},
		env:  []string{"ORPHANS=3"},
		app:  javaArgv(t, "-jar", javaJar(t, "orphans")),
	})
	st := z.waitPhase(t, "held", 1)
	z.assertPID1(t, st)
	hfrun.CheckRun(t, z.stateDir, hfrun.ReadRun(t, z.stateDir, 1), 1, 1, 1, "startup-crash", "hold")
	m := orphanLine.FindAllStringSubmatch(z.stdout.String(), -1)
	if len(m) != 3 {
		t.Fatalf("want 3 \"orphan N\" lines, got %d:\n%s", len(m), z.stdout)
	}
	// Inside the namespace each sleep is now a child of PID 1 (holdfast).
	for _, g := range m {
		out, err := execInNS(t, z, "cat", "/proc/"+g[1]+"/stat")
		f := strings.Fields(out)
		if err != nil || len(f) < 4 || f[1] != "(sleep)" || f[3] != "1" {
			t.Errorf("orphan %s in the namespace: stat %q (%v), want (sleep) with ppid 1", g[1], out, err)
		}
	}
	// From the host: three sleeps, children of holdfast; the JVM was reaped (no zombie).
	hostPid := z.pid(t)
	nsLink, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", hostPid))
	if err != nil {
		t.Fatal(err)
	}
	// Holding the namespace open keeps its inode from being reused by another test's
	// namespace once holdfast's is gone, so the scan at the end means what it says.
	nsFile, err := os.Open(fmt.Sprintf("/proc/%d/ns/pid", hostPid))
	if err != nil {
		t.Fatal(err)
	}
	defer nsFile.Close()
	var sleeps []int
	var ps []proc
	hfrun.WaitFor(t, hfrun.WaitLong, "three sleeps under holdfast and no zombie", func() bool {
		ps, sleeps = nsProcs(hostPid), nil
		for _, p := range ps {
			if p.comm == "sleep" && p.ppid == hostPid && p.state != "Z" {
				sleeps = append(sleeps, p.pid)
			}
		}
		return len(sleeps) == 3 && countState(ps, "Z") == 0
	}, func() string { return fmt.Sprintf("namespace processes: %+v", ps) })

	// An orphan that dies while held is reaped by holdfast.
	if err := syscall.Kill(sleeps[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	hfrun.WaitFor(t, hfrun.WaitLong, "the killed orphan to be reaped", func() bool {
		_, err := procStat(sleeps[0])
		return err != nil
	}, func() string { p, _ := procStat(sleeps[0]); return fmt.Sprintf("it is %+v", p) })
	code, body, err := hfrun.Fetch(z.base + "/metrics")
	if n := hfrun.Metric(body, "holdfast_reaped_processes_total"); err != nil || code != 200 || n < 1 {
		t.Errorf("/metrics holdfast_reaped_processes_total = %v (%d, %v), want >= 1", n, code, err)
	}
	if st := cliStatus(t, z.stateDir); st.Phase != "held" {
		t.Errorf("after an orphan died: phase %s, want still held", st.Phase)
	}

	if out, errOut, code := runCLI(t, z.stateDir, "release"); code != 0 {
		t.Fatalf("holdfast release exited %d: %s%s", code, out, errOut)
	}
	if code := z.waitExit(t, hfrun.WaitLong); code != 1 {
		t.Errorf("holdfast exited %d after release, want 1", code)
	}
	// Nothing of the namespace is left: no process has its pid namespace, and the
	// orphans' host pids are gone.
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && l == nsLink {
				p, _ := procStat(pid)
				t.Errorf("process %+v of holdfast's namespace outlived it", p)
			}
		}
	}
	for _, pid := range sleeps[1:] {
		if p, err := procStat(pid); err == nil && p.comm == "sleep" {
			t.Errorf("orphan %+v outlived holdfast", p)
		}
	}
}

func TestCrashHoldRestartFreshBudget(t *testing.T) {
	t.Parallel()
	fix := filepath.Join(t.TempDir(), "application.properties")
	z := start(t, spec{
		pid1: true, probe: true,
		// Ready is checked right after "Tomcat started": ready here means the
		// process exists, as this test was written.
		args: []string{"--hold=true", "--max-restarts=2", "--backoff=100ms", "--app-ready=process"},
		env:  []string{"MODE=crash-unless-file", "FIX_FILE=" + fix, "PORT=0"},
		app:  javaArgv(t, "-jar", javaJar(t, "health")),
	})
	st := z.waitPhase(t, "held", 3)
	if st.BudgetUsed != 2 || st.Restarts != 2 || st.Reason() != "startup-crash" {
		t.Errorf("held: %+v, want budget_used 2, restarts 2, startup-crash", st)
	}
	z.assertPID1(t, st)
	for n := 1; n <= 3; n++ {
		if log := hfrun.ReadFile(t, filepath.Join(hfrun.RunDir(z.stateDir, n), "output.log")); !strings.Contains(log, "APPLICATION FAILED TO START") {
			t.Errorf("run %d output.log lacks the failure:\n%s", n, log)
		}
	}

	// The fix, then a retry with a fresh budget.
	if err := os.WriteFile(fix, []byte("spring.datasource.url=jdbc:postgresql://db/shop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runCLI(t, z.stateDir, "restart"); code != 0 || !strings.Contains(out, "restart") {
		t.Fatalf("holdfast restart exited %d: %s%s", code, out, errOut)
	}
	st = z.waitPhase(t, "running", 4)
	z.waitOutput(t, "Tomcat started on port(s)", 3*hfrun.WaitLong)
	st = cliStatus(t, z.stateDir)
	if st.Phase != "running" || st.Run != 4 || st.BudgetUsed != 0 || st.Restarts != 3 || st.PID == nil || !st.Ready || st.HoldReason != nil {
		t.Errorf("after restart: %+v, want running run 4, budget_used 0, restarts 3, a pid, ready, no hold", st)
	}
	hfrun.CheckTrail(t, z.watch, 3, "starting", "running", "backoff", "held")
	if out, errOut, code := runCLI(t, z.stateDir, "stop"); code != 0 {
		t.Fatalf("holdfast stop exited %d: %s%s", code, out, errOut)
	}
	if code := z.waitExit(t, hfrun.WaitLong); code != 143 {
		t.Errorf("holdfast exited %d after stop, want the JVM's 143", code)
	}
	// Run 4 is the first start of a fresh budget (run.json's attempt field).
	hfrun.CheckRun(t, z.stateDir, hfrun.ReadRun(t, z.stateDir, 4), 4, 1, 143, "stopped", "exit")
}
