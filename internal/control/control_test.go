package control

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// fakeBackend is pure logic: the control server's job is the protocol.
type fakeBackend struct {
	snap    state.Snapshot
	logs    []byte
	more    chan []byte
	lastReq string
	reqErr  error
}

func (f *fakeBackend) Status() state.Snapshot   { return f.snap }
func (f *fakeBackend) Runs() []runrec.RunRecord { return []runrec.RunRecord{{Run: 1}} }
func (f *fakeBackend) Logs(ctx context.Context, run int, follow bool) ([]byte, <-chan []byte, error) {
	if run > 1 {
		return nil, nil, errors.New("no run 2 is kept")
	}
	if follow {
		return f.logs, f.more, nil
	}
	return f.logs, nil, nil
}
func (f *fakeBackend) Request(kind string) error { f.lastReq = kind; return f.reqErr }

func serveFake(t *testing.T, b Backend) (string, *Client) {
	t.Helper()
	dir := t.TempDir()
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(b, slog.New(slog.DiscardHandler))
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return dir, NewClient(dir)
}

func TestSocketModeAndStaleSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SocketName)
	// A stale socket from an earlier container: a bound-then-closed
	// listener that left its file behind.
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close()
	l, err := Listen(dir)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer l.Close()
	if l.Path != path || l.FallbackReason != "" {
		t.Errorf("socket at %s (%q), want %s", l.Path, l.FallbackReason, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode = %v, want socket 0600", fi.Mode())
	}
}

func TestNotRunning(t *testing.T) {
	c := NewClient(t.TempDir())
	err := c.Status(context.Background(), new(map[string]any))
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), c.path) {
		t.Errorf("err = %v, want ErrNotRunning naming %s", err, c.path)
	}
}

func TestStatusProbeAndActions(t *testing.T) {
	reason := state.ReasonStartupCrash
	b := &fakeBackend{snap: state.Snapshot{Phase: state.Held, HoldReason: &reason, NotReadyReason: "the app is held (startup-crash)"}}
	_, c := serveFake(t, b)
	ctx := context.Background()

	var snap state.Snapshot
	if err := c.Status(ctx, &snap); err != nil || snap.Phase != state.Held || *snap.HoldReason != reason {
		t.Fatalf("status = %+v, %v", snap, err)
	}
	if ok, _, err := c.Probe(ctx, "live"); !ok || err != nil {
		t.Errorf("live while held = %v, %v; want true", ok, err)
	}
	ok, why, err := c.Probe(ctx, "ready")
	if ok || err != nil || !strings.Contains(why, "held") {
		t.Errorf("ready while held = %v %q %v; want false with a reason", ok, why, err)
	}
	b.snap = state.Snapshot{Phase: state.Running, Ready: true}
	if ok, _, _ := c.Probe(ctx, "ready"); !ok {
		t.Error("ready while ready = false")
	}

	if err := c.Action(ctx, "restart"); err != nil || b.lastReq != "restart" {
		t.Errorf("restart: %v, backend got %q", err, b.lastReq)
	}
	b.reqErr = errors.New("the app is not held (phase running)")
	err = c.Action(ctx, "release")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 409 || !strings.Contains(err.Error(), "not held") {
		t.Errorf("release error = %v, want 409 with the supervisor's message", err)
	}
	if err := c.Action(ctx, "explode"); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestLogsTailAndFollow(t *testing.T) {
	b := &fakeBackend{logs: []byte("one\ntwo\nthree\n"), more: make(chan []byte, 2)}
	_, c := serveFake(t, b)
	var out bytes.Buffer
	if err := c.Logs(context.Background(), &out, 0, 2, false); err != nil || out.String() != "two\nthree\n" {
		t.Errorf("tail 2 = %q, %v", out.String(), err)
	}
	out.Reset()
	b.more <- []byte("four\n")
	close(b.more)
	if err := c.Logs(context.Background(), &out, 0, 0, true); err != nil || out.String() != "one\ntwo\nthree\nfour\n" {
		t.Errorf("follow = %q, %v", out.String(), err)
	}
	if err := c.Logs(context.Background(), &out, 2, 0, false); err == nil || !strings.Contains(err.Error(), "no run 2") {
		t.Errorf("missing run: %v", err)
	}
}

// The ready probe's reason names the ended run's cause, in one line, and
// the status carries the whole cause object.
func TestProbeReadyNamesTheCause(t *testing.T) {
	reason := state.ReasonStartupCrash
	c0 := &cause.Cause{Kind: cause.JVMLaunch, Summary: "Error: Unable to access jarfile /app/app.jar", Line: 2}
	b := &fakeBackend{snap: state.Snapshot{Phase: state.Held, HoldReason: &reason, Run: 3,
		NotReadyReason: "the app is held (startup-crash)", LastExit: &state.Exit{Code: 1, Run: 3, Cause: c0}}}
	_, c := serveFake(t, b)
	ctx := context.Background()

	ok, why, err := c.Probe(ctx, "ready")
	if want := "the app is held (startup-crash): " + c0.Summary; ok || err != nil || why != want {
		t.Errorf("ready while held = %v %q %v; want false, %q", ok, why, err, want)
	}
	var snap state.Snapshot
	if err := c.Status(ctx, &snap); err != nil || snap.LastExit == nil || snap.LastExit.Cause == nil || *snap.LastExit.Cause != *c0 {
		t.Errorf("status last_exit = %+v, %v; want the cause %+v", snap.LastExit, err, c0)
	}
}
