package shellsrv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestConcurrentSessions(t *testing.T) {
	// 20 handshakes at once from one address: above the default pre-auth
	// limits (MaxStartups 10:30:100 drops some at random, as sshd would),
	// which are not what this test is about.
	h := newHarness(t, func(c *Config) {
		c.MaxUnauthPerIP = 40
		c.MaxStartups = MaxStartups{Start: 40, Rate: 30, Full: 100}
	})
	const n = 20
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run(t, "", nil, "ssh", h.sshArgs(h.key, "127.0.0.1", fmt.Sprintf("echo session-%d", i))...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.rc != 0 || r.stdout != fmt.Sprintf("session-%d\n", i) {
			t.Errorf("session %d: %v", i, r)
		}
	}
	if total := h.store.Load().Counters.SSHTotal; total != n {
		t.Errorf("SSHTotal %d, want %d", total, n)
	}
	// A session ends on the server once the client's close arrives, which
	// can be just after the client exits.
	waitFor(t, 20*time.Second, "SSHActive back to 0", func() bool { return h.store.Load().Counters.SSHActive == 0 })
}

func TestMaxSessions(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxSessions = 2 })
	var held []*runningCmd
	for range 2 {
		c := startCmd(t, "", nil, "ssh", h.sshArgs(h.key, "127.0.0.1", "echo started; sleep 60")...)
		if line := c.readLine(t, 20*time.Second); line != "started" {
			t.Fatalf("got %q", line)
		}
		held = append(held, c)
	}
	if got := h.store.Load().Counters.SSHActive; got != 2 {
		t.Fatalf("SSHActive %d, want 2", got)
	}
	r := run(t, "", nil, "ssh", logLevel(h.sshArgs(h.key, "127.0.0.1", "echo third"), "INFO")...)
	if r.rc != 255 || strings.Contains(r.stdout, "third") || !strings.Contains(r.stderr, "too many ssh sessions") {
		t.Fatalf("third session: want refused, got %v", r)
	}
	for _, c := range held {
		_ = syscall.Kill(c.child.Pid, syscall.SIGKILL)
	}
	// Negative control: with the slots free again the same command works.
	waitFor(t, 20*time.Second, "a free session slot", func() bool { return h.store.Load().Counters.SSHActive == 0 })
	if r := h.ssh("", "127.0.0.1", "echo third"); r.rc != 0 || r.stdout != "third\n" {
		t.Fatalf("after the others ended: %v", r)
	}
}

func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 2 * time.Second })
	// A silent command is cut after the idle timeout...
	c := startCmd(t, "", nil, "ssh", h.sshArgs(h.key, "127.0.0.1", "echo started; sleep 60; echo late")...)
	if line := c.readLine(t, 20*time.Second); line != "started" {
		t.Fatalf("got %q", line)
	}
	start := time.Now()
	if st := c.wait(t, 20*time.Second); st.ExitCode() != 255 || time.Since(start) > 15*time.Second {
		t.Fatalf("idle connection: exit %v after %v, want 255 after about 2s", st, time.Since(start))
	}
	// ...unless the client keeps the connection alive (negative control).
	if r := h.ssh("", "-o", "ServerAliveInterval=1", "127.0.0.1", "sleep 5; echo late"); r.rc != 0 || r.stdout != "late\n" {
		t.Fatalf("ServerAlive should keep it open: %v", r)
	}
}

func TestShutdownHangsUp(t *testing.T) {
	h := newHarness(t, nil)
	c := startCmd(t, "", nil, "ssh", h.sshArgs(h.key, "127.0.0.1", `sleep 1000 & echo $!; wait`)...)
	pid, err := strconv.Atoi(c.readLine(t, 20*time.Second))
	if err != nil || !alive(pid) {
		t.Fatalf("sleep not running: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a session open: %v, want the deadline", err)
	}
	waitFor(t, 20*time.Second, "the session's sleep to die after Shutdown", func() bool { return !alive(pid) })
	if st := c.wait(t, 20*time.Second); st.ExitCode() != 255 {
		t.Fatalf("client exit %v, want 255", st)
	}
}
