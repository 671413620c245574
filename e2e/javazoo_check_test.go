package e2e

// Each zoo program run with plain java (no holdfast), so holdfast's tests can trust that
// a crash, hang or leak they see is the program's doing and not the supervisor's.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestJavaZooBuild(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"springfail", "portinuse", "oom", "hardcrash", "crashafter",
		"ignoreterm", "orphans", "health", "echoenv"} {
		if fi, err := os.Stat(javaJar(t, name)); err != nil || fi.Size() == 0 {
			t.Errorf("jar %s: %v", name, err)
		}
	}

	// A private copy of one program: built once, then served from the cache unchanged.
	src, cache := t.TempDir(), t.TempDir()
	javaCopy(t, "testdata/java/crashafter/CrashAfter.java", filepath.Join(src, "crashafter", "CrashAfter.java"))
	dir, cached, jars, err := javaBuildZoo(src, cache)
	if err != nil || cached {
		t.Fatalf("first build: cached=%v err=%v", cached, err)
	}
	dir2, cached2, _, err := javaBuildZoo(src, cache)
	if err != nil || !cached2 || dir2 != dir {
		t.Fatalf("second build: dir %s vs %s, cached=%v err=%v", dir2, dir, cached2, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("zoo dir %s: mode %v err %v, want 0755 so --user apps can read it", dir, fi.Mode(), err)
	}
	p := javaStart(t, "", javaEnv("CRASH_AFTER_MS=0", "CRASH_CODE=7"), "-jar", jars["crashafter"])
	if code := p.ExitCode(t); code != 7 {
		t.Errorf("cached jar exit = %d, want 7", code)
	}

	// Negative control: a source that does not compile fails the build, naming the file.
	javaWrite(t, filepath.Join(src, "broken", "Broken.java"), "public class Broken { syntax error }")
	if _, _, _, err := javaBuildZoo(src, cache); err == nil || !strings.Contains(err.Error(), "Broken.java") {
		t.Errorf("broken source: err = %v, want a javac error naming Broken.java", err)
	}
	// A second top-level class would be missing from every jar: refused, not dropped.
	javaWrite(t, filepath.Join(src, "broken", "Broken.java"), "public class Broken {} class Helper {}")
	if _, _, _, err := javaBuildZoo(src, cache); err == nil || !strings.Contains(err.Error(), "class Helper") {
		t.Errorf("stray class: err = %v, want one naming class Helper", err)
	}
}

func TestJavaSpringFail(t *testing.T) {
	t.Parallel()
	p := javaStart(t, "", javaEnv(), "-jar", javaJar(t, "springfail"))
	if code := p.ExitCode(t); code != 1 {
		t.Errorf("exit = %d, want 1", code)
	}
	javaContains(t, "stdout", p.Stdout.String(), "Spring Boot", "Starting Application")
	javaContains(t, "stderr", p.Stderr.String(), "APPLICATION FAILED TO START",
		`Exception in thread "main"`, "Caused by:", "java.net.ConnectException")
	if strings.Contains(p.Stdout.String(), "APPLICATION FAILED TO START") {
		t.Errorf("the failure analysis leaked to stdout:\n%s", p.Stdout)
	}
}

func TestJavaPortInUse(t *testing.T) {
	t.Parallel()
	t.Run("taken", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		p := javaStart(t, "", javaEnv(fmt.Sprintf("PORT=%d", port)), "-jar", javaJar(t, "portinuse"))
		if code := p.ExitCode(t); code != 1 {
			t.Errorf("exit = %d, want 1", code)
		}
		javaContains(t, "stderr", p.Stderr.String(),
			fmt.Sprintf("Web server failed to start. Port %d was already in use.", port))
	})
	t.Run("free", func(t *testing.T) {
		t.Parallel()
		p := javaStart(t, "", javaEnv("PORT=0"), "-jar", javaJar(t, "portinuse"))
		port := javaPort(t, p, `listening on (\d+)`)
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), javaWait)
		if err != nil {
			t.Fatalf("cannot dial the listening app: %v", err)
		}
		c.Close()
		p.Signal(t, syscall.SIGTERM)
		if code := p.ExitCode(t); code != 143 {
			t.Errorf("exit after TERM = %d, want 143", code)
		}
	})
}

func TestJavaOOM(t *testing.T) {
	t.Parallel()
	dumps := t.TempDir()
	p := javaStart(t, "", javaEnv(), "-Xmx16m", "-XX:+HeapDumpOnOutOfMemoryError",
		"-XX:HeapDumpPath="+dumps, "-jar", javaJar(t, "oom"))
	if code := p.ExitCode(t); code != 1 {
		t.Errorf("exit = %d, want 1", code)
	}
	javaContains(t, "stderr", p.Stderr.String(), "java.lang.OutOfMemoryError: Java heap space")
	want := filepath.Join(dumps, fmt.Sprintf("java_pid%d.hprof", p.Cmd.Process.Pid))
	if fi, err := os.Stat(want); err != nil || fi.Size() == 0 {
		t.Errorf("heap dump %s: %v (dir has %v)", want, err, javaLs(dumps))
	}

	// Negative control: without the flag there is no dump, not even in the working directory.
	cwd := t.TempDir()
	p = javaStart(t, cwd, javaEnv(), "-Xmx16m", "-jar", javaJar(t, "oom"))
	if code := p.ExitCode(t); code != 1 {
		t.Errorf("exit without dump flag = %d, want 1", code)
	}
	if files := javaLs(cwd); len(files) != 0 {
		t.Errorf("files without HeapDumpOnOutOfMemoryError: %v", files)
	}
}

func TestJavaHardCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Only %p is expanded in ErrorFile. -XX:-CreateCoredumpOnCrash would turn 134 into 1.
	p := javaStart(t, "", javaEnv(), "-XX:ErrorFile="+dir+"/hs_err_pid%p.log", "-jar", javaJar(t, "hardcrash"))
	if code := p.ExitCode(t); code != 134 {
		t.Errorf("exit = %d, want 134 (SIGABRT)", code)
	}
	javaContains(t, "stdout", p.Stdout.String(), "crashing", "A fatal error has been detected", "SIGSEGV")
	hsErr := filepath.Join(dir, fmt.Sprintf("hs_err_pid%d.log", p.Cmd.Process.Pid))
	b, err := os.ReadFile(hsErr)
	if err != nil {
		t.Fatalf("no hs_err file: %v (dir has %v)", err, javaLs(dir))
	}
	javaContains(t, hsErr, string(b), "SIGSEGV", "HardCrash.main")
}

func TestJavaCrashAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env   []string
		code  int
		after time.Duration
	}{
		{nil, 3, 2 * time.Second},
		{[]string{"CRASH_AFTER_MS=3000", "CRASH_CODE=42"}, 42, 3 * time.Second},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			t.Parallel()
			p := javaStart(t, "", javaEnv(tc.env...), "-jar", javaJar(t, "crashafter"))
			code := p.ExitCode(t)
			// A lower bound only: the JVM sleeps after it started, so this can never be early.
			if elapsed := time.Since(p.Started); elapsed < tc.after {
				t.Errorf("exited after %v, want at least %v", elapsed, tc.after)
			}
			if code != tc.code {
				t.Errorf("exit = %d, want %d", code, tc.code)
			}
			javaContains(t, "stdout", p.Stdout.String(), "up\n")
		})
	}
}

func TestJavaIgnoreTerm(t *testing.T) {
	t.Parallel()
	p := javaStart(t, "", javaEnv(), "-jar", javaJar(t, "ignoreterm"))
	p.WaitFor(t, p.Stdout, "ready\n")
	p.Signal(t, syscall.SIGTERM)
	p.WaitFor(t, p.Stdout, "ignoring TERM\n")
	p.Signal(t, syscall.SIGINT)
	p.WaitFor(t, p.Stdout, "ignoring INT\n")
	if !p.Alive() {
		t.Fatalf("died after TERM/INT: exit %d", p.ExitCode(t))
	}
	p.Signal(t, syscall.SIGQUIT)
	p.WaitFor(t, p.Stdout, "Full thread dump")
	p.WaitFor(t, p.Stdout, `"main"`)
	if !p.Alive() {
		t.Fatalf("died after QUIT: exit %d", p.ExitCode(t))
	}
	p.Signal(t, syscall.SIGKILL)
	if code := p.ExitCode(t); code != 137 {
		t.Errorf("exit after KILL = %d, want 137", code)
	}
}

func TestJavaOrphans(t *testing.T) {
	t.Parallel()
	p := javaStart(t, "", javaEnv("ORPHANS=2"), "-jar", javaJar(t, "orphans"))
	code := p.ExitCode(t)
	pids := regexp.MustCompile(`(?m)^orphan (\d+)$`).FindAllStringSubmatch(p.Stdout.String(), -1)
	for _, m := range pids {
		pid, _ := strconv.Atoi(m[1])
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	}
	if code != 1 {
		t.Errorf("exit = %d, want 1", code)
	}
	if len(pids) != 2 {
		t.Fatalf("want 2 orphan lines, got:\n%s", p.Stdout)
	}
	for _, m := range pids {
		cmdline, err := os.ReadFile("/proc/" + m[1] + "/cmdline")
		if err != nil || string(cmdline) != "sleep\x001000\x00" {
			t.Errorf("orphan %s: cmdline %q err %v, want a live sleep 1000", m[1], cmdline, err)
		}
		if err := javaNotZombie(m[1]); err != nil {
			t.Error(err)
		}
	}
}

func TestJavaEchoEnv(t *testing.T) {
	t.Parallel()
	args := []string{"plain", "with space", `"double quoted"`, `'single'`, "", `$HOME`, `back\slash`,
		"--opt=a b", "*", "ünïcödé"}
	dir := t.TempDir()
	// Java decodes argv with the locale's charset: under LANG=C non-ASCII becomes '?'.
	env := javaEnv("LC_ALL=C.UTF-8", "JAVA_TOOL_OPTIONS=-Dzoo=1", "ECHO_ENV=ZOO_VAR,ZOO_MISSING", "ZOO_VAR=a=b c")
	p := javaStart(t, dir, env, append([]string{"-jar", javaJar(t, "echoenv")}, args...)...)
	if code := p.ExitCode(t); code != 0 {
		t.Fatalf("exit = %d, want 0\nstderr:\n%s", code, p.Stderr)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("argc=%d\n", len(args))
	for i, a := range args {
		want += fmt.Sprintf("arg[%d]=%s\n", i, a)
	}
	want += "JAVA_TOOL_OPTIONS=-Dzoo=1\ncwd=" + real + "\nenv ZOO_VAR=a=b c\nenv ZOO_MISSING unset\n"
	if got := p.Stdout.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	javaContains(t, "stderr", p.Stderr.String(), "Picked up JAVA_TOOL_OPTIONS: -Dzoo=1")

	// Negative control: no JAVA_TOOL_OPTIONS, no args, and nothing on stderr.
	p = javaStart(t, "", javaEnv(), "-jar", javaJar(t, "echoenv"))
	if code := p.ExitCode(t); code != 0 {
		t.Fatalf("exit = %d, want 0", code)
	}
	javaContains(t, "stdout", p.Stdout.String(), "argc=0\nJAVA_TOOL_OPTIONS unset\n")
	if p.Stderr.String() != "" {
		t.Errorf("stderr without JAVA_TOOL_OPTIONS: %q", p.Stderr)
	}
}

// javaContains fails for each want missing from got.
func javaContains(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// javaPort waits for the line matching re (one group: the port) on stdout.
func javaPort(t testing.TB, p *javaProc, re string) int {
	t.Helper()
	rx := regexp.MustCompile(re)
	var port int
	javaEventually(t, "the port line "+re, func() bool {
		m := rx.FindStringSubmatch(p.Stdout.String())
		if m != nil {
			port, _ = strconv.Atoi(m[1])
		}
		return m != nil || !p.Alive()
	}, func() string { return "" })
	if port == 0 {
		t.Fatalf("no port line; exit %d\nstdout:\n%s\nstderr:\n%s", p.ExitCode(t), p.Stdout, p.Stderr)
	}
	return port
}

func javaLs(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func javaCopy(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	javaWrite(t, to, string(b))
}

func javaWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// javaNotZombie checks /proc/<pid>/stat: a process that exited but was not reaped is 'Z'.
func javaNotZombie(pid string) error {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return fmt.Errorf("cannot read the state of pid %s: %w", pid, err)
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return errors.New("cannot parse /proc/" + pid + "/stat")
	}
	if state := b[i+2]; state == 'Z' || state == 'X' {
		return fmt.Errorf("orphan %s is dead (state %c)", pid, state)
	}
	return nil
}

func TestJavaHealth(t *testing.T) {
	t.Parallel()
	const live, ready = "/actuator/health/liveness", "/actuator/health/readiness"
	// Windows are long enough that the first poll lands inside the first one even on a
	// loaded box; every answer is also checked against the app's own clock.
	t.Run("ready-after", func(t *testing.T) {
		t.Parallel()
		_, base := javaHealthStart(t, "MODE=ready-after", "READY_AFTER_MS=5000")
		want := func(ms int) (int, string) {
			if ms < 5000 {
				return 503, "DOWN"
			}
			return 200, "UP"
		}
		if code, _ := javaHealthCheck(t, base+ready, want); code != 503 {
			t.Fatalf("first readiness answer %d, want 503", code)
		}
		javaHealthIs(t, base+live, 200, "UP")
		javaHealthPoll(t, base+ready, want, 200, "UP")
	})
	t.Run("unready-later", func(t *testing.T) {
		t.Parallel()
		_, base := javaHealthStart(t, "MODE=unready-later", "READY_AFTER_MS=1000", "UNREADY_AFTER_MS=5000",
			"READINESS_DOWN_STATUS=OUT_OF_SERVICE")
		want := func(ms int) (int, string) {
			if ms < 1000 || ms >= 5000 {
				return 503, "OUT_OF_SERVICE"
			}
			return 200, "UP"
		}
		javaHealthPoll(t, base+ready, want, 200, "UP")
		javaHealthPoll(t, base+ready, want, 503, "OUT_OF_SERVICE")
		javaHealthIs(t, base+live, 200, "UP")
	})
	t.Run("live-hang", func(t *testing.T) {
		t.Parallel()
		p, base := javaHealthStart(t, "MODE=live-hang", "HANG_AFTER_MS=5000")
		javaHealthIs(t, base+live, 200, "UP")
		// Poll the way a kubelet does (1 s timeout) until liveness stops answering.
		var lastErr error
		javaEventually(t, "liveness to time out", func() bool {
			_, lastErr = javaGet(base+live, time.Second)
			return lastErr != nil
		}, func() string { return p.Stdout.String() })
		javaIsTimeout(t, lastErr)
		javaHealthIs(t, base+ready, 200, "UP")
	})
	t.Run("files", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		readyFile, hangFile := filepath.Join(dir, "ready"), filepath.Join(dir, "hang")
		p, base := javaHealthStart(t, "MODE=live-hang", "READY_FILE="+readyFile, "HANG_FILE="+hangFile)
		javaHealthIs(t, base+ready, 503, "DOWN")
		javaWrite(t, readyFile, "")
		javaHealthIs(t, base+ready, 200, "UP")
		javaHealthIs(t, base+live, 200, "UP")
		javaWrite(t, hangFile, "")
		_, err := javaGet(base+live, time.Second)
		javaIsTimeout(t, err)
		javaHealthIs(t, base+ready, 200, "UP")
		if err := os.Remove(readyFile); err != nil {
			t.Fatal(err)
		}
		javaHealthIs(t, base+ready, 503, "DOWN")
		p.Signal(t, syscall.SIGQUIT)
		p.WaitFor(t, p.Stdout, `"stuck-in-liveness"`)
		p.WaitFor(t, p.Stdout, "Health.waitForDatabaseLock")
		p.WaitFor(t, p.Stdout, `"db-connection-holder"`)
	})
	t.Run("crash-unless-file", func(t *testing.T) {
		t.Parallel()
		fix := filepath.Join(t.TempDir(), "fixed")
		p := javaStart(t, "", javaEnv("MODE=crash-unless-file", "FIX_FILE="+fix, "PORT=0"),
			"-jar", javaJar(t, "health"))
		if code := p.ExitCode(t); code != 1 {
			t.Errorf("exit without %s = %d, want 1", fix, code)
		}
		javaContains(t, "stderr", p.Stderr.String(), "APPLICATION FAILED TO START", fix)

		javaWrite(t, fix, "fixed\n")
		p, base := javaHealthStart(t, "MODE=crash-unless-file", "FIX_FILE="+fix)
		javaHealthIs(t, base+ready, 200, "UP")
		javaHealthIs(t, base+live, 200, "UP")
		p.Signal(t, syscall.SIGTERM)
		if code := p.ExitCode(t); code != 143 {
			t.Errorf("exit after TERM = %d, want 143", code)
		}
		javaContains(t, "stdout", p.Stdout.String(), "Graceful shutdown complete")
	})
}

// javaHealthStart starts the health app on a free port and returns it with its base URL.
func javaHealthStart(t *testing.T, env ...string) (*javaProc, string) {
	t.Helper()
	p := javaStart(t, "", javaEnv(append([]string{"PORT=0"}, env...)...), "-jar", javaJar(t, "health"))
	port := javaPort(t, p, `Tomcat started on port\(s\): (\d+) \(http\)`)
	return p, fmt.Sprintf("http://127.0.0.1:%d", port)
}

// javaHealthGet returns one answer's code, actuator status and the app's uptime header
// (15 s timeout: a cold JVM on a loaded box is slow, not hung).
func javaHealthGet(t *testing.T, url string) (code int, status string, uptimeMs int) {
	t.Helper()
	a, err := javaGet(url, 15*time.Second)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	m := regexp.MustCompile(`^\{"status":"([A-Z_]+)"\}$`).FindStringSubmatch(a.Body)
	up, err := strconv.Atoi(a.Header.Get("X-Zoo-Uptime-Ms"))
	if m == nil || err != nil {
		t.Fatalf("GET %s = %d %q, uptime header %q: not an actuator answer", url, a.Code, a.Body,
			a.Header.Get("X-Zoo-Uptime-Ms"))
	}
	return a.Code, m[1], up
}

// javaHealthIs checks one answer right now.
func javaHealthIs(t *testing.T, url string, code int, status string) {
	t.Helper()
	if c, s, _ := javaHealthGet(t, url); c != code || s != status {
		t.Fatalf("GET %s = %d %s, want %d %s", url, c, s, code, status)
	}
}

// javaHealthCheck gets one answer and checks it against want(the app's uptime).
func javaHealthCheck(t *testing.T, url string, want func(ms int) (int, string)) (int, string) {
	t.Helper()
	c, s, ms := javaHealthGet(t, url)
	if wc, ws := want(ms); c != wc || s != ws {
		t.Fatalf("GET %s at %d ms = %d %s, want %d %s", url, ms, c, s, wc, ws)
	}
	return c, s
}

// javaHealthPoll checks answers against want until one is code/status.
func javaHealthPoll(t *testing.T, url string, want func(ms int) (int, string), code int, status string) {
	t.Helper()
	javaEventually(t, fmt.Sprintf("GET %s = %d %s", url, code, status), func() bool {
		c, s := javaHealthCheck(t, url, want)
		return c == code && s == status
	}, func() string { return "" })
}

// javaIsTimeout fails unless err is a client timeout (not, say, connection refused).
func javaIsTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("liveness failed with %v, want a timeout", err)
	}
}
