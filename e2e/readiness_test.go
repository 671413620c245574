package e2e

// What "ready" means (--app-ready) and the startup timeout (--startup-timeout): an app
// that is not ready in time is held never-ready with its process alive and a thread
// dump; without a readiness URL, ready means the app's process tree listens on a TCP
// port.

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// fakeListenLate waits args[0], creates the marker file, then listens on args[1] and
// serves nothing until killed.
func fakeListenLate(args []string) int {
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return fakeFail("bad delay %q", args[0])
	}
	time.Sleep(d)
	if err := os.WriteFile(os.Getenv(fakeMarker), nil, 0o644); err != nil {
		return fakeFail("cannot create marker: %v", err)
	}
	l, err := net.Listen("tcp", args[1])
	if err != nil {
		return fakeFail("cannot listen: %v", err)
	}
	fmt.Println("listening on", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			return 1
		}
		c.Close()
	}
}

// A JVM that binds its port but never reports ready: the status shows each failed
// check (HTTP 503) until --startup-timeout, then holdfast holds it never-ready with the
// JVM alive and its thread dump in the run's output.log. The timeout leaves a JVM on a
// loaded CI box time to reach its HTTP server first: with 8 s one was still in main,
// bootstrapping lambdas, when it was held, and never answered a check.
func TestStartupTimeoutNeverReady(t *testing.T) {
	t.Parallel()
	port := hfrun.Port(t)
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--app-probe-period=200ms", "--startup-timeout=45s",
			"--app-ready-url=" + prURL(port, "readiness")},
		env: []string{"MODE=ready-after", "PORT=" + strconv.Itoa(port), "READY_FILE=" + filepath.Join(t.TempDir(), "never")},
		app: javaArgv(t, "-jar", javaJar(t, "health")),
	})
	st := z.until(t, "a failed readiness check answered by the app", func(s hfrun.Status) bool {
		return s.LastReadiness != nil && strings.Contains(s.LastReadiness.Detail, "HTTP 503")
	})
	if st.Phase != "running" || st.Ready || st.StartupDeadline == nil || st.ReadyRule != "url" || st.LastReadiness.OK {
		t.Errorf("before the timeout: %+v, want running, not ready, a startup deadline, rule url", st)
	}
	out, errOut, code := runCLI(t, z.stateDir, "status")
	if code != 0 || !strings.Contains(out, "checked:") || !strings.Contains(out, "HTTP 503") || !strings.Contains(out, "never-ready") {
		t.Errorf("holdfast status before the timeout (exit %d) lacks the last check and the deadline:\n%s%s", code, out, errOut)
	}
	st = z.waitPhase(t, "held", 1)
	if st.Reason() != "never-ready" || st.PID == nil {
		t.Fatalf("held: %+v, want never-ready with the JVM's pid", st)
	}
	z.assertPID1(t, st)
	if st.LastReadiness == nil || !strings.Contains(st.LastReadiness.Detail, "HTTP 503") {
		t.Errorf("held: last readiness %+v, want the last HTTP 503 kept", st.LastReadiness)
	}
	z.checkHeldHTTP(t, "never-ready")
	// The JVM is alive (the same run), and its thread dump is in the run's output.log.
	if _, err := execInNS(t, z, "kill", "-0", strconv.Itoa(*st.PID)); err != nil {
		t.Errorf("the never-ready JVM (pid %d in the namespace) is not alive: %v", *st.PID, err)
	}
	hfrun.WaitFileHas(t, filepath.Join(hfrun.RunDir(z.stateDir, 1), "output.log"), "Full thread dump")
	z.waitOutput(t, "not ready within --startup-timeout", hfrun.WaitLong)
	hfrun.CheckTrail(t, z.watch, 1, "starting", "running", "held")
}

// Negative control: the same JVM ready well before --startup-timeout is not held, also
// once the deadline has passed.
func TestStartupTimeoutReadyInTime(t *testing.T) {
	t.Parallel()
	port := hfrun.Port(t)
	ready := filepath.Join(t.TempDir(), "ready")
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--app-probe-period=200ms", "--startup-timeout=20s",
			"--app-ready-url=" + prURL(port, "readiness")},
		env: []string{"MODE=ready-after", "PORT=" + strconv.Itoa(port), "READY_FILE=" + ready},
		app: javaArgv(t, "-jar", javaJar(t, "health")),
	})
	z.waitOutput(t, fmt.Sprintf("Tomcat started on port(s): %d", port), 3*hfrun.WaitLong)
	st := z.until(t, "a startup deadline", func(s hfrun.Status) bool { return s.StartupDeadline != nil })
	deadline := *st.StartupDeadline
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st = z.until(t, "ready", func(s hfrun.Status) bool { return s.Ready })
	if time.Now().After(deadline) {
		t.Skipf("the box was too slow: ready only after the deadline %v; nothing to control", deadline)
	}
	if st.StartupDeadline != nil || st.LastReadiness == nil || !st.LastReadiness.OK {
		t.Errorf("ready: %+v, want no deadline and a good last check", st)
	}
	// Past the deadline (and a few probe rounds), it still runs, ready, unheld.
	hfrun.WaitFor(t, time.Until(deadline)+hfrun.WaitLong, "the startup deadline to pass", func() bool {
		return time.Now().After(deadline.Add(time.Second))
	})
	st = z.waitPhase(t, "running", 1)
	if !st.Ready || st.HoldReason != nil {
		t.Errorf("after the deadline: %+v, want running and ready", st)
	}
	hfrun.CheckTrail(t, z.watch, 0, "starting", "running")
	if strings.Contains(z.output(), "not ready within --startup-timeout") {
		t.Errorf("a ready app was reported never-ready:\n%s", z.output())
	}
}

// Without a readiness URL, ready means listening: an app that listens only after 3 s
// is not ready (/readyz 503) until it does, then ready without any URL.
func TestReadyListenLate(t *testing.T) {
	t.Parallel()
	addr := hfrun.Addr(t)
	marker := filepath.Join(t.TempDir(), "listening")
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true"},
		env:  []string{fakeEnv + "=listen-late", fakeMarker + "=" + marker},
		app:  []string{selfExe, "3s", addr},
	})
	z.waitOutput(t, "readiness rule: listen", hfrun.WaitLong)
	var unready int
	hfrun.WaitFor(t, 3*hfrun.WaitLong, "GET /readyz to answer 200", func() bool {
		// Read the marker first: a 200 then proves the app had started to listen.
		_, err := os.Stat(marker)
		listening := err == nil
		code, body, err := hfrun.Get(z.base+"/readyz", 5*time.Second)
		switch {
		case err != nil:
		case code == http.StatusOK && !listening:
			// Only possible if the listen happened between the two reads: check it.
			if _, err := os.Stat(marker); err != nil {
				t.Fatalf("/readyz 200 before the app listens: %s", body)
			}
			return true
		case code == http.StatusOK:
			return true
		case code == http.StatusServiceUnavailable && !strings.Contains(body, "listen") && !strings.Contains(body, `"phase":"starting"`):
			t.Errorf("/readyz 503 without saying it waits for a listening socket: %s", body)
		case code == http.StatusServiceUnavailable:
			unready++
		}
		return z.exited()
	}, func() string { return z.watch.String() })
	if unready == 0 {
		t.Errorf("/readyz never answered 503 during the app's first 3 s")
	}
	st := z.until(t, "ready", func(s hfrun.Status) bool { return s.Ready })
	if st.ReadyRule != "listen" || st.LastReadiness == nil || !strings.Contains(st.LastReadiness.Detail, addr) {
		t.Errorf("ready: %+v (last %+v), want rule listen and a last check naming %s", st, st.LastReadiness, addr)
	}
	hfrun.CheckTrail(t, z.watch, 0, "starting", "running")
}

// An app that crashes before it listens is never ready, in any of its runs, though its
// process exists for a while each time (the old meaning of ready).
func TestReadyListenCrashNeverReady(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=2", "--backoff=100ms"},
		env:  []string{fakeEnv + "=crash-late"},
		app:  []string{selfExe, "1500ms"},
	})
	var ready atomic.Int32
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if code, _, err := hfrun.Get(z.base+"/readyz", 5*time.Second); err == nil && code == http.StatusOK {
				ready.Add(1)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	st := z.waitPhase(t, "held", 3)
	close(stop)
	<-done
	if n := ready.Load(); n != 0 {
		t.Errorf("/readyz answered 200 %d times for an app that never listened", n)
	}
	if st.Reason() != "startup-crash" {
		t.Errorf("held: %+v, want startup-crash", st)
	}
	if runs := hfrun.RunsSeen(z.watch, "running"); len(runs) != 3 {
		t.Errorf("runs seen running: %v, want 3 (the 1.5 s lives were observed)", runs)
	}
}

// Negative control for the test above: the same crashing app with --app-ready=process
// is ready while its process exists (the meaning of ready before --app-ready).
func TestReadyProcessCrashIsReadyAWhile(t *testing.T) {
	t.Parallel()
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=0", "--app-ready=process"},
		env:  []string{fakeEnv + "=crash-late"},
		app:  []string{selfExe, "3s"},
	})
	z.waitOutput(t, "readiness rule: process", hfrun.WaitLong)
	prWaitHTTP(t, z, "/readyz", http.StatusOK)
	z.waitPhase(t, "held", 1)
}
