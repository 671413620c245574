package e2e

// holdfast jcmd and holdfast dump against real JVMs of the zoo's "stuck" program: the
// hang hold's automatic thread dump and class histogram, the JDK's jcmd side by side,
// heap dumps a JVM writes into its run dir, the clear one-line failures, --user.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
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

// jcPrivateTmp is a spec.pre script (pid1) that gives holdfast's mount namespace a /tmp
// of its own, as a container has, with the host /tmp's entries that hold the test's
// files (its temp dirs, holdfast, the zoo's jars, paths) bound back at their places.
// HotSpot keeps its attach socket and hsperfdata in /tmp under its pid in its
// namespace, which is 2 for every JVM that is holdfast's first child: in one shared
// /tmp, concurrent tests' JVMs would find each other's.
func jcPrivateTmp(t *testing.T, paths ...string) string {
	t.Helper()
	return privateTmpScript(append([]string{t.TempDir(), holdfastBin, javaJar(t, "stuck")}, paths...))
}

// jcStuck starts holdfast (not PID 1: the CLI shares its pid namespace) with the stuck
// app, which deadlocks once the returned file exists, and waits until holdfast saw its
// liveness answer.
func jcStuck(t *testing.T, extraArgs, env []string, jvmFlags ...string) (*hf, string) {
	t.Helper()
	hang := filepath.Join(t.TempDir(), "hang")
	port := hfrun.Port(t)
	var app int
	t.Cleanup(func() { jcRemoveSocket(app) }) // runs last, once the JVM is killed
	z := start(t, spec{
		probe: true,
		args: append([]string{"--hold=true", "--hold-window=1h", "--grace=5s", "--app-probe-period=200ms",
			"--app-probe-timeout=500ms", "--app-probe-failure-threshold=2",
			fmt.Sprintf("--app-live-url=http://127.0.0.1:%d/live", port)}, extraArgs...),
		env: append([]string{"PORT=" + strconv.Itoa(port), "HANG_FILE=" + hang}, env...),
		app: javaArgv(t, append(jvmFlags, "-jar", javaJar(t, "stuck"))...),
	})
	app = z.trackApp(t)
	z.waitOutput(t, "liveness answered", 3*hfrun.WaitLong)
	return z, hang
}

// jcRemoveSocket removes the attach socket a killed JVM (host pid) left in our /tmp.
func jcRemoveSocket(pid int) {
	if pid > 0 {
		os.Remove(fmt.Sprintf("/tmp/.java_pid%d", pid))
	}
}

// jcCLI runs a holdfast subcommand with the test's state dir.
func jcCLI(t *testing.T, z *hf, sub string, args ...string) (string, string, int) {
	t.Helper()
	return runCLI(t, z.stateDir, sub, args...)
}

// jcFiles waits until the run dir holds a file matching glob and returns the matches.
func jcFiles(t *testing.T, dir, glob string) []string {
	t.Helper()
	var m []string
	hfrun.WaitFor(t, hfrun.WaitLong, glob+" in "+dir, func() bool {
		m, _ = filepath.Glob(filepath.Join(dir, glob))
		return len(m) > 0
	})
	return m
}

// TestJcmdHangHoldDeadlock: a deadlocked JVM held for its hang gets, on its own, a thread
// dump file that names the deadlock and a class histogram file in its run dir, both
// listed in run.json while it is held; `holdfast jcmd` and `holdfast dump` then work on
// the held JVM, and a SIGSTOPped one times out within its bound with holdfast unharmed.
func TestJcmdHangHoldDeadlock(t *testing.T) {
	t.Parallel()
	z, hang := jcStuck(t, nil, nil)
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := z.waitPhase(t, "held", 1)
	if st.Reason() != "hang" || st.PID == nil {
		t.Fatalf("status %+v, want a hang hold with the JVM's pid", st)
	}
	dir := hfrun.RunDir(z.stateDir, 1)
	threads := jcFiles(t, dir, "threads-*.txt")
	hist := jcFiles(t, dir, "histogram-*.txt")
	dump := hfrun.ReadFile(t, threads[0])
	for _, want := range []string{"Found one Java-level deadlock", `"deadlock-a"`, `"deadlock-b"`, "Full thread dump"} {
		if !strings.Contains(dump, want) {
			t.Errorf("%s lacks %q:\n%.3000s", threads[0], want, dump)
		}
	}
	if h := hfrun.ReadFile(t, hist[0]); !strings.Contains(h, "#instances") || !strings.Contains(h, "java.lang.String") {
		t.Errorf("%s is no class histogram:\n%.1000s", hist[0], h)
	}
	// The SIGQUIT dump still reaches output.log (and kubectl logs): sent after the
	// attach, it is not taken for the attach's trigger.
	hfrun.WaitFileHas(t, filepath.Join(dir, "output.log"), "Full thread dump", "Found one Java-level deadlock")
	hfrun.WaitFor(t, hfrun.WaitLong, "run.json to list both", func() bool {
		r := hfrun.ReadRun(t, z.stateDir, 1)
		return len(r.Of("thread-dump")) == 1 && len(r.Of("class-histogram")) == 1 && r.EndedAt == nil
	}, func() string { return fmt.Sprintf("%+v", hfrun.ReadRun(t, z.stateDir, 1)) })

	// holdfast jcmd: the held JVM's threads, as jcmd prints them (the pid first).
	out, errOut, code := jcCLI(t, z, "jcmd", "Thread.print", "-l")
	if code != 0 || !strings.HasPrefix(out, strconv.Itoa(*st.PID)+":\n") || !strings.Contains(out, "Found one Java-level deadlock") {
		t.Errorf("holdfast jcmd Thread.print -l: exit %d\n%.2000s\nstderr: %s", code, out, errOut)
	}

	// holdfast dump: each kind lands in the run dir (heap and JFR in the JVM's jvm/),
	// prints its path, and run.json lists it at once.
	for _, k := range []struct{ kind, glob, artifact string }{
		{"threads", "threads-*.txt", "thread-dump"},
		{"histogram", "histogram-*.txt", "class-histogram"},
		{"heap", "jvm/heap-*.hprof", "heap-dump"},
	} {
		out, errOut, code := jcCLI(t, z, "dump", k.kind)
		path := strings.TrimSpace(out)
		if ok, _ := filepath.Match(filepath.Join(dir, k.glob), path); code != 0 || !ok {
			t.Errorf("holdfast dump %s: exit %d, stdout %q, stderr %q; want a path like %s", k.kind, code, out, errOut, k.glob)
			continue
		}
		rel, _ := filepath.Rel(dir, path)
		r := hfrun.ReadRun(t, z.stateDir, 1)
		if !slices.ContainsFunc(r.Of(k.artifact), func(a hfrun.Artifact) bool { return a.Name == rel && a.Size > 0 }) {
			t.Errorf("run.json does not list %s as %s: %+v", rel, k.artifact, r.Artifacts)
		}
		if k.kind == "heap" {
			if h := hfrun.ReadFile(t, path); !strings.HasPrefix(h, "JAVA PROFILE 1.0.2\x00") {
				t.Errorf("%s does not start with the HPROF header: %q", path, h[:min(len(h), 20)])
			}
		}
	}

	// A stopped JVM: the attach times out within its bound; holdfast answers throughout.
	pid := *st.PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	out, errOut, code = jcCLI(t, z, "jcmd", "--timeout=3s", "Thread.print")
	took := time.Since(t0)
	if code != 1 || out != "" || !strings.Contains(errOut, "timed out") || !strings.Contains(errOut, "stopped") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 || took > 20*time.Second {
		t.Errorf("jcmd of a stopped JVM: exit %d after %v, stdout %q, stderr %q; want 1 and one line saying it timed out and is stopped", code, took, out, errOut)
	}
	if c, body, err := hfrun.Fetch(z.base + "/livez"); err != nil || c != http.StatusOK {
		t.Errorf("/livez after the timed-out attach: %d %s %v", c, body, err)
	}
	if st := cliStatus(t, z.stateDir); st.Phase != "held" {
		t.Errorf("status after the timed-out attach: %+v", st)
	}
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if out, errOut, code := jcCLI(t, z, "jcmd", "VM.uptime"); code != 0 {
		t.Errorf("jcmd after SIGCONT: exit %d %s %s", code, out, errOut)
	}
}

// jcVersion is the build string in `java -version`'s output ("17.0.15+6-Debian-1deb12u1").
var jcVersion = regexp.MustCompile(`\(build ([^)]+)\)`)

// threadNames are the names of the threads a thread dump lists, without the ones the
// JVM starts and ends on its own (compiler threads come and go).
func threadNames(dump string) []string {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(dump))
	for sc.Scan() {
		l := sc.Text()
		name, _, ok := strings.Cut(strings.TrimPrefix(l, `"`), `"`)
		if !ok || !strings.HasPrefix(l, `"`) {
			continue
		}
		if strings.Contains(name, "CompilerThread") || strings.HasPrefix(name, "C1 ") || strings.HasPrefix(name, "C2 ") {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestJcmdLikeJDK: on the same running JVM, `holdfast jcmd` answers what the JDK's own
// jcmd answers: VM.version names the build `java -version` prints, VM.flags is the same
// line, VM.system_properties the same properties, Thread.print the same threads and
// sections; GC.heap_dump writes a loadable .hprof into the run dir.
func TestJcmdLikeJDK(t *testing.T) {
	t.Parallel()
	jdkJcmd := hfrun.NeedTool(t, "jcmd")
	z, _ := jcStuck(t, nil, nil)
	pid := cliStatus(t, z.stateDir).PID
	if pid == nil {
		t.Fatal("no app pid")
	}
	ours := func(args ...string) string {
		t.Helper()
		out, errOut, code := jcCLI(t, z, "jcmd", args...)
		if code != 0 {
			t.Fatalf("holdfast jcmd %q: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	theirs := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(jdkJcmd, append([]string{strconv.Itoa(*pid)}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("jcmd %q: %v\n%s", args, err, out)
		}
		return string(out)
	}

	jv, err := exec.Command(javaBin(t), "-version").CombinedOutput()
	m := jcVersion.FindStringSubmatch(string(jv))
	if err != nil || m == nil {
		t.Fatalf("java -version: %v\n%s", err, jv)
	}
	if v := ours("VM.version"); !strings.Contains(v, m[1]) || !strings.Contains(v, "JDK ") {
		t.Errorf("VM.version does not name %s (from java -version):\n%s", m[1], v)
	}
	if a, b := ours("VM.flags"), theirs("VM.flags"); a != b {
		t.Errorf("VM.flags differ:\nholdfast: %s\njcmd:     %s", a, b)
	}
	// The first property line is the time the properties were listed;
	// user.timezone appears once something in the JVM asked for it.
	props := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "user.timezone=") {
				out = append(out, l)
			}
		}
		return out
	}
	if a, b := props(ours("VM.system_properties")), props(theirs("VM.system_properties")); !slices.Equal(a, b) {
		t.Errorf("VM.system_properties differ:\nholdfast: %q\njcmd:     %q", a, b)
	}
	a, b := ours("Thread.print"), theirs("Thread.print")
	if na, nb := threadNames(a), threadNames(b); !slices.Equal(na, nb) || len(na) < 5 {
		t.Errorf("Thread.print lists threads %q, jcmd %q", na, nb)
	}
	for _, s := range []string{"Full thread dump", `"main"`, "JNI global refs", `"Attach Listener"`} {
		if !strings.Contains(a, s) || !strings.Contains(b, s) {
			t.Errorf("Thread.print: %q in holdfast's %v, in jcmd's %v", s, strings.Contains(a, s), strings.Contains(b, s))
		}
	}
	for _, cmd := range []string{"GC.heap_info", "help"} {
		if la, lb := strings.Count(ours(cmd), "\n"), strings.Count(theirs(cmd), "\n"); la != lb {
			t.Errorf("%s: %d lines, jcmd's %d", cmd, la, lb)
		}
	}

	// holdfast dump jfr: the first starts a recording, the second dumps it into jvm/.
	if out, errOut, code := jcCLI(t, z, "dump", "jfr"); code != 0 || !strings.Contains(out, "started JFR recording") {
		t.Errorf("first holdfast dump jfr: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := jcCLI(t, z, "dump", "jfr")
	rec := strings.TrimSpace(out)
	if ok, _ := filepath.Match(filepath.Join(hfrun.RunDir(z.stateDir, 1), "jvm", "recording-*.jfr"), rec); code != 0 || !ok {
		t.Errorf("second holdfast dump jfr: exit %d\n%s%s", code, out, errOut)
	} else if h := hfrun.ReadFile(t, rec); !strings.HasPrefix(h, "FLR\x00") {
		t.Errorf("%s is no JFR recording", rec)
	} else if r := hfrun.ReadRun(t, z.stateDir, 1); len(r.Of("jfr")) != 1 {
		t.Errorf("run.json lists %+v, want the recording as jfr", r.Artifacts)
	}

	hprof := filepath.Join(hfrun.RunDir(z.stateDir, 1), "jvm", "by-jcmd.hprof")
	if out := ours("GC.heap_dump", hprof); !strings.Contains(out, "Heap dump file created") {
		t.Errorf("GC.heap_dump: %s", out)
	}
	if h := hfrun.ReadFile(t, hprof); !strings.HasPrefix(h, "JAVA PROFILE 1.0.2\x00") {
		t.Errorf("%s does not start with the HPROF header", hprof)
	}
}

// TestJcmdFailures: each target holdfast jcmd cannot attach to is one clear line on
// stderr and exit 1: a JVM with attach off, a dead pid, a process that is no JVM, and
// no holdfast to ask for the app's pid.
func TestJcmdFailures(t *testing.T) {
	t.Parallel()
	off := exec.Command(javaBin(t), "-XX:+DisableAttachMechanism", "-jar", javaJar(t, "stuck"))
	off.Env = javaEnv("PORT=0")
	stdout, err := off.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := off.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { off.Process.Kill(); off.Wait() })
	if !bufio.NewScanner(stdout).Scan() {
		t.Fatal("the JVM with attach off did not start")
	}
	sleep := exec.Command("sleep", "600")
	dead := exec.Command("true")
	for _, c := range []*exec.Cmd{sleep, dead} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	dead.Wait()

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"attach off", []string{"--pid", strconv.Itoa(off.Process.Pid), "Thread.print"}, "attach is disabled in this JVM"},
		{"dead pid", []string{"--pid", strconv.Itoa(dead.Process.Pid), "Thread.print"}, "no such process"},
		{"no JVM", []string{"--pid", strconv.Itoa(sleep.Process.Pid), "Thread.print"}, "not a JVM"},
		{"no holdfast", []string{"Thread.print"}, "no holdfast is running"},
	} {
		out, errOut, code := runCLI(t, t.TempDir(), "jcmd", c.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 and one line with %q", c.name, code, out, errOut, c.want)
		}
	}
	// The JVM with attach off was not signalled: it still runs, and printed no thread dump.
	if err := off.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the JVM with attach off is gone: %v", err)
	}
}

// TestJcmdUser: the app runs as uid 65534 under holdfast as root. holdfast jcmd attaches
// from root (switching to the JVM's uid for the attach) and from the app's user; a third
// user is refused cleanly, through the control socket and with --pid; holdfast dump works
// for the app's user.
func TestJcmdUser(t *testing.T) {
	t.Parallel()
	bin, _ := csShared(t)
	stateDir := filepath.Join(csOpenDir(t), "state")
	port := hfrun.Port(t)
	var appPid int
	t.Cleanup(func() { jcRemoveSocket(appPid) })
	z := start(t, spec{stateDir: stateDir, args: []string{fmt.Sprintf("--user=%d:%d", csNobody, csNobody)},
		env: []string{"PORT=" + strconv.Itoa(port)}, app: javaArgv(t, "-jar", javaJar(t, "stuck"))})
	appPid = z.trackApp(t)
	z.waitOutput(t, "Started on port", 3*hfrun.WaitLong)
	st := cliStatus(t, stateDir)
	if st.PID == nil {
		t.Fatal("no app pid")
	}
	app := &syscall.Credential{Uid: csNobody, Gid: csNobody}
	stranger := &syscall.Credential{Uid: acStranger, Gid: acStranger}
	cli := func(cred *syscall.Credential, argv ...string) csRes {
		return csCLI(t, bin, nil, "/", cred, append([]string{argv[0], "--state-dir", stateDir}, argv[1:]...)...)
	}
	for _, c := range []struct {
		who  string
		cred *syscall.Credential
	}{{"root", nil}, {"the app's user", app}} {
		if r := cli(c.cred, "jcmd", "Thread.print"); r.code != 0 || !strings.Contains(r.out, `"main"`) {
			t.Errorf("jcmd Thread.print as %s:\n%v", c.who, r)
		}
	}
	if r := cli(app, "dump", "threads"); r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.out), hfrun.RunDir(stateDir, 1)+"/threads-") {
		t.Errorf("dump threads as the app's user:\n%v", r)
	}
	if r := cli(stranger, "jcmd", "Thread.print"); r.code != 1 || r.out != "" || !strings.Contains(r.err, "control socket") {
		t.Errorf("jcmd as uid %d: want exit 1, refused by the control socket:\n%v", acStranger, r)
	}
	if r := cli(stranger, "jcmd", "--pid", strconv.Itoa(*st.PID), "Thread.print"); r.code != 1 || r.out != "" ||
		!strings.Contains(r.err, "permission denied") || !strings.Contains(r.err, "uid 65534") {
		t.Errorf("jcmd --pid as uid %d: want exit 1, refused before the attach:\n%v", acStranger, r)
	}
}

// TestDumpHeapKeepsLivez: while the JVM writes the heap dump of a 2 GiB heap (seconds),
// holdfast's /livez answers 200 every time, promptly.
func TestDumpHeapKeepsLivez(t *testing.T) {
	t.Parallel()
	z, _ := jcStuck(t, nil, []string{"ALLOC_MB=2048"}, "-Xmx3g", "-Xms3g")
	done := make(chan struct{})
	var out, errOut string
	var code int
	var took time.Duration
	go func() {
		defer close(done)
		t0 := time.Now()
		// 2 GiB to disk: seconds here, minutes on a loaded shared disk.
		out, errOut, code = runCLIWithin(t, 5*time.Minute, z.stateDir, "dump", "heap")
		took = time.Since(t0)
	}()
	var answers, failures int
	var slowest time.Duration
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(50 * time.Millisecond):
			t0 := time.Now()
			c, body, err := hfrun.Get(z.base+"/livez", 10*time.Second)
			d := time.Since(t0)
			slowest = max(slowest, d)
			if err != nil || c != http.StatusOK {
				failures++
				t.Logf("/livez: %d %s %v", c, body, err)
			} else {
				answers++
			}
		}
	}
	path := strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("holdfast dump heap: exit %d\n%s%s", code, out, errOut)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() < 2<<30 {
		t.Fatalf("heap dump %s: %v, want at least 2 GiB", path, err)
	}
	defer os.Remove(path)
	t.Logf("heap dump of %d MiB took %v; /livez answered %d times during it, the slowest in %v", fi.Size()>>20, took.Round(time.Millisecond), answers, slowest.Round(time.Millisecond))
	if took < time.Second || answers < 10 {
		t.Errorf("the dump took %v with %d /livez answers: too short to show anything", took, answers)
	}
	if failures > 0 || slowest > 2*time.Second {
		t.Errorf("/livez during the heap dump: %d failures, slowest %v; want none and under 2s", failures, slowest)
	}
}

// TestSSHJcmd: in an ssh session into holdfast's container (holdfast PID 1 of its pid
// namespace; the session runs there as a child of holdfast), `holdfast jcmd` attaches to
// the app's JVM like any other client, and `holdfast dump threads` writes into the run dir.
func TestSSHJcmd(t *testing.T) {
	t.Parallel()
	hfrun.NeedTool(t, "ssh")
	keys, bin, stateDir := t.TempDir(), t.TempDir(), t.TempDir()
	cl := sshClient{key: sshKeygen(t, keys, "client"), port: strconv.Itoa(hfrun.Port(t))}
	pub, err := os.ReadFile(cl.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(keys, "authorized_keys")
	if err := os.WriteFile(ak, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(holdfastBin, filepath.Join(bin, "holdfast")); err != nil {
		t.Fatal(err)
	}
	z := start(t, spec{pid1: true, stateDir: stateDir, pre: jcPrivateTmp(t, keys, bin, stateDir),
		env:  []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOLDFAST_STATE_DIR=" + stateDir, "HOME=" + t.TempDir(), "PORT=0"},
		args: []string{"--ssh-authorized-keys=" + ak, "--ssh-addr=127.0.0.1:" + cl.port},
		app:  javaArgv(t, "-jar", javaJar(t, "stuck"))})
	z.waitOutput(t, "ssh listening", hfrun.WaitLong)
	z.waitOutput(t, "Started on port", 3*hfrun.WaitLong)
	st := z.waitPhase(t, "running", 1)
	if st.PID == nil {
		t.Fatal("no app pid")
	}
	r := cl.run(t, "holdfast jcmd Thread.print")
	if r.rc != 0 || !strings.HasPrefix(r.stdout, strconv.Itoa(*st.PID)+":\n") || !strings.Contains(r.stdout, "Stuck.main") {
		t.Errorf("holdfast jcmd Thread.print over ssh (app pid %d in the namespace):\n%v", *st.PID, r)
	}
	r = cl.run(t, "holdfast dump threads")
	path := strings.TrimSpace(r.stdout)
	if r.rc != 0 || !strings.HasPrefix(path, hfrun.RunDir(stateDir, 1)+"/threads-") {
		t.Fatalf("holdfast dump threads over ssh:\n%v", r)
	}
	if d := hfrun.ReadFile(t, path); !strings.Contains(d, "Stuck.main") {
		t.Errorf("%s lacks the app's main thread:\n%.2000s", path, d)
	}
}
