package probes

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// countingListener counts accepted connections, so the test knows its 500
// keep-alive clients really hold 500 connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slowloris opens a connection that sends part of a request header and then
// stalls. The returned channel yields how long the server took to close it,
// or -1 if it was still open after 30 s.
func slowloris(t *testing.T, addr string) <-chan time.Duration {
	t.Helper()
	// Taken before Dial: the server's header clock cannot start earlier, so
	// a close seen sooner than the timeout after this is a real early close
	// even when this goroutine is descheduled for a while.
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET /livez HTTP/1.1\r\nHost: x\r\nX-Stall: "); err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Duration, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.Copy(io.Discard, c) // returns at EOF, reset, or our deadline
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			closed <- -1
			return
		}
		closed <- time.Since(start)
	}()
	return closed
}

// hammer runs wrk with n keep-alive connections against url until the
// returned stop function is called; stop returns wrk's summary. wrk runs as
// its own process so the load does not compete with the server inside the
// Go scheduler, as a kubelet and a flood of clients would not.
func hammer(t *testing.T, url string, n int) (stop func() string) {
	t.Helper()
	wrk := requireTool(t, "wrk")
	var out bytes.Buffer
	cmd := exec.Command(wrk, "-t1", "-c"+strconv.Itoa(n), "-d120s", "--timeout", "30s", url)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start wrk: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cmd.Process.Signal(os.Interrupt) // wrk prints its summary on SIGINT
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

// probeOnce sends one request the way kubelet does (new connection,
// Connection: close) and returns the status. It is a bare connection rather
// than an http.Client because a client's own goroutines would queue behind
// the load inside this process, which a kubelet in its own process does not.
func probeOnce(addr, path string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: kube-probe/1.36\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// TestSlowlorisAndLoad: 500 keep-alive clients hammer /livez and 50
// slowloris connections stall mid-header; a fresh client still gets /livez
// within 1 s every time, and the server drops each slowloris connection at
// its read-header timeout.
func TestSlowlorisAndLoad(t *testing.T) {
	const (
		hammers    = 500
		stallers   = 50
		headerWait = DefaultReadHeaderTimeout
	)
	store := state.NewStore(state.Snapshot{Phase: state.Held, HoldReason: ptr(state.ReasonStartupCrash)})
	// The production defaults. A shorter header timeout also drops some of
	// wrk's own connections when the race detector and a loaded machine
	// delay the server's first read past the deadline (the deadline is
	// checked before the read, so data that did arrive in time is not read).
	s := NewServer(store, nil, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	base := startServerOn(t, s, cl)

	stop := hammer(t, base+"/livez", hammers)
	waitFor(t, "500 keep-alive connections", 60*time.Second, func() bool { return cl.n.Load() >= hammers })

	closedAt := make([]<-chan time.Duration, stallers)
	for i := range closedAt {
		closedAt[i] = slowloris(t, l.Addr().String())
	}

	// Fresh clients, one connection each, while the load and stalls go on.
	// Under the race detector every request costs several times more CPU,
	// so a round over 500 busy connections takes that much longer.
	bound := time.Second
	if raceEnabled {
		bound = 10 * time.Second
	}
	var worst time.Duration
	for range 20 {
		start := time.Now()
		code, err := probeOnce(l.Addr().String(), "/livez")
		took := time.Since(start)
		worst = max(worst, took)
		if err != nil || code != 200 || took > bound {
			t.Errorf("fresh /livez under load = %d, %v in %v, want 200 within %v", code, err, took, bound)
		}
	}
	t.Logf("fresh /livez under load: worst of 20 = %v", worst)

	for i, ch := range closedAt {
		select {
		case d := <-ch:
			if d < 0 {
				t.Errorf("slowloris %d still open after 30s", i)
			} else if d < headerWait {
				t.Errorf("slowloris %d closed after %v, before the %v header timeout", i, d, headerWait)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("slowloris %d: no result", i)
		}
	}
	if n := cl.n.Load(); n > hammers+stallers+20+10 {
		t.Errorf("%d connections accepted: keep-alive clients reconnected", n)
	}

	summary := stop()
	t.Logf("wrk:\n%s", summary)
	if !strings.Contains(summary, "requests in") {
		t.Fatalf("wrk printed no summary:\n%s", summary)
	}
	for _, bad := range []string{"Socket errors", "Non-2xx"} {
		if strings.Contains(summary, bad) {
			t.Errorf("wrk saw errors (%s)", bad)
		}
	}
}

// TestSlowlorisControl: without a read-header timeout the same stalled
// connection stays open, so the test above would notice a missing timeout.
// (1.5 s is less than the 2 s default; what matters is that nothing closes
// the connection, which a read that ends at our own deadline shows.)
func TestSlowlorisControl(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()} // no timeouts, on purpose
	go srv.Serve(l)
	defer srv.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Stall: ")
	c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond)) // 3x the timeout used above
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read on a stalled connection to a server without timeouts = %v, want our own deadline", err)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Running})
	base, _ := startServer(t, NewServer(store, nil, Options{}))
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	// Write in the background: the server may answer and close before it has
	// read everything.
	go io.WriteString(c, "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB header: %d, want 431", res.StatusCode)
	}
}
