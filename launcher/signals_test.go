package launcher

import (
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestForwardable pins the list of forwarded signals: everything catchable
// except the runtime's own and SIGCHLD and SIGPIPE (see forwardable).
func TestForwardable(t *testing.T) {
	never := []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG,
		syscall.SIGPIPE, syscall.SIGPROF, 32, 33, 34}
	for s := syscall.Signal(1); s <= sigRTMax; s++ {
		want := !slices.Contains(never, s)
		if got := slices.Contains(forwardable, os.Signal(s)); got != want {
			t.Errorf("%s forwarded: %v, want %v", SignalName(s), got, want)
		}
	}
}

// routeSignalsChild, when set, makes TestRouteSignalsInChild run: it is the
// test binary re-executed by TestRouteSignals, because RouteSignals changes
// the process's signal handling for good and reaps every child of the
// process, which would take the children of the other tests.
const routeSignalsChild = "HOLDFAST_LAUNCHER_ROUTE_SIGNALS_CHILD"

func TestRouteSignals(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRouteSignalsInChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), routeSignalsChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test process with RouteSignals failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestRouteSignalsInChild") {
		t.Fatalf("the child test did not run:\n%s", out)
	}
}

func TestRouteSignalsInChild(t *testing.T) {
	if os.Getenv(routeSignalsChild) == "" {
		t.Skip("run by TestRouteSignals in a process of its own")
	}
	r := NewReaper()
	s := RouteSignals(r, nil)
	next := func() os.Signal {
		t.Helper()
		select {
		case sig := <-s.Forward:
			return sig
		case <-time.After(30 * time.Second):
			t.Fatal("nothing on Forward 30s after a signal")
			return nil
		}
	}
	self := os.Getpid()

	t.Run("every forwardable signal, once", func(t *testing.T) {
		for _, sig := range forwardable {
			if err := syscall.Kill(self, sig.(syscall.Signal)); err != nil {
				t.Fatal(err)
			}
			if got := next(); got != sig {
				t.Fatalf("sent %v, Forward delivered %v", sig, got)
			}
		}
	})

	t.Run("SIGPIPE is dropped", func(t *testing.T) {
		// Negative control: the process does receive the SIGPIPE.
		seen := make(chan os.Signal, 1)
		signal.Notify(seen, syscall.SIGPIPE)
		defer signal.Stop(seen)
		if err := syscall.Kill(self, syscall.SIGPIPE); err != nil {
			t.Fatal(err)
		}
		select {
		case <-seen:
		case <-time.After(30 * time.Second):
			t.Fatal("the process did not receive its own SIGPIPE")
		}
		// os/signal delivers pending signals in ascending order, so a
		// forwarded SIGPIPE (13) would come before this sentinel.
		sentinel := sigRTMin + 5
		if err := syscall.Kill(self, sentinel); err != nil {
			t.Fatal(err)
		}
		if got := next(); got != sentinel {
			t.Fatalf("after SIGPIPE and %v, Forward delivered %v first; SIGPIPE must never be forwarded", SignalName(sentinel), got)
		}
	})

	t.Run("SIGCHLD reaps every child, also when exits coalesce", func(t *testing.T) {
		// Twenty children in one group die of one kill(2): their SIGCHLDs
		// coalesce into fewer wake-ups, and nothing here calls Reap.
		const n = 20
		var kids []*Child
		pgid := 0
		for range n {
			cmd := exec.Command("sleep", "60")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
			c, err := r.Start(cmd, nil)
			if err != nil {
				t.Fatal(err)
			}
			if pgid == 0 {
				pgid = c.Pid
			}
			kids = append(kids, c)
		}
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(30 * time.Second)
		for i, c := range kids {
			select {
			case st := <-c.Done:
				if st.Signal != syscall.SIGKILL {
					t.Errorf("child %d: %v, want killed by SIGKILL", i, st)
				}
			case <-timeout:
				t.Fatalf("child %d (pid %d) and later: no status 30s after all were killed; unreaped", i, c.Pid)
			}
		}
	})
}

// routeDirectChild, when set, makes TestRouteSignalsDirectInChild run, in a
// process of its own as routeSignalsChild.
const routeDirectChild = "HOLDFAST_LAUNCHER_ROUTE_DIRECT_CHILD"

func TestRouteSignalsDirect(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRouteSignalsDirectInChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), routeDirectChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test process with RouteSignals and a Forwarder failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestRouteSignalsDirectInChild") {
		t.Fatalf("the child test did not run:\n%s", out)
	}
}

// With a Forwarder, a plain signal that reaches os/signal (here every one:
// nothing waits on the leader) goes to the target's group without passing
// Forward; SIGTERM and SIGINT arrive on Forward and are not forwarded.
func TestRouteSignalsDirectInChild(t *testing.T) {
	if os.Getenv(routeDirectChild) == "" {
		t.Skip("run by TestRouteSignalsDirect in a process of its own")
	}
	r := NewReaper()
	after, got := recordForwarded()
	f := NewForwarder(r, nil, after)
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c, err := r.Start(cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.SetTarget(c)
	s := RouteSignals(r, f)
	self := os.Getpid()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		if err := syscall.Kill(self, sig); err != nil {
			t.Fatal(err)
		}
		select {
		case fwd := <-s.Forward:
			if fwd != sig {
				t.Fatalf("sent %v, Forward delivered %v", sig, fwd)
			}
		case fw := <-got:
			t.Fatalf("%v was forwarded directly (%+v); it must go to the supervisor", sig, fw)
		case <-time.After(30 * time.Second):
			t.Fatalf("nothing on Forward 30s after %v", sig)
		}
	}
	if err := syscall.Kill(self, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case fw := <-got:
		if fw.Pid != c.Pid || fw.Sent != syscall.SIGUSR1 {
			t.Fatalf("forwarded %+v, want SIGUSR1 to pid %d", fw, c.Pid)
		}
	case sig := <-s.Forward:
		t.Fatalf("SIGUSR1 went to Forward as %v; it must be forwarded directly", sig)
	case <-time.After(30 * time.Second):
		t.Fatal("SIGUSR1 was not forwarded within 30s")
	}
	select {
	case st := <-c.Done: // the SIGCHLD goroutine reaps it
		if st.Signal != syscall.SIGUSR1 {
			t.Fatalf("the target ended with %v, want killed by SIGUSR1", st)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the target was not reaped within 30s of SIGUSR1")
	}
}
