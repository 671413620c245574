package crashhold

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/memwatch"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// freeAddr is a loopback address nothing listens on (for now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitSnap waits until ok accepts a published snapshot.
func (h *harness) waitSnap(what string, ok func(state.Snapshot) bool) state.Snapshot {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ch := h.store.Changed()
		snap := h.store.Load()
		if ok(snap) {
			return snap
		}
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
			h.t.Fatalf("%s not seen in 30s; last snapshot phase %s ready %v last_readiness %+v", what, snap.Phase, snap.Ready, snap.LastReadiness)
		}
	}
}

// A readiness URL that never answers: the status shows each failed check
// (connection refused) before the startup timeout, then the run is held
// never-ready with its process alive.
func TestStartupTimeoutHoldsNeverReady(t *testing.T) {
	addr := freeAddr(t)
	h := newHarness(t, Config{Policy: Policy{Hold: true, HoldWindow: time.Hour, ReadyGated: true},
		ReadyURL: "http://" + addr + "/ready", StartupTimeout: 2 * time.Second},
		"HF_FAKE=sleep")
	snap := h.waitSnap("a failed readiness check", func(s state.Snapshot) bool {
		return s.LastReadiness != nil && !s.LastReadiness.OK
	})
	if snap.Phase != state.Running || snap.Ready || snap.StartupDeadline == nil || snap.ReadyRule != ReadyURL {
		t.Fatalf("before the timeout: phase %s ready %v deadline %v rule %q", snap.Phase, snap.Ready, snap.StartupDeadline, snap.ReadyRule)
	}
	if !strings.Contains(snap.LastReadiness.Detail, "refused") {
		t.Errorf("last readiness detail %q, want connection refused", snap.LastReadiness.Detail)
	}
	snap = h.waitPhase(state.Held)
	if strPtr(snap.HoldReason) != state.ReasonNeverReady || snap.PID == 0 {
		t.Fatalf("held: reason %s pid %d", strPtr(snap.HoldReason), snap.PID)
	}
	if err := syscall.Kill(snap.PID, 0); err != nil {
		t.Errorf("never-ready process %d not alive: %v", snap.PID, err)
	}
	if snap.LastReadiness == nil || snap.StartupDeadline != nil {
		t.Errorf("held: last readiness %+v (want kept), deadline %v (want none)", snap.LastReadiness, snap.StartupDeadline)
	}
	waitOutput(t, h, "not ready within --startup-timeout")
	h.sigs <- syscall.SIGTERM
	h.exitCode()
}

// Negative control: an app ready before the timeout is not held, and the
// deadline is gone from the status once it is ready.
func TestStartupTimeoutReadyInTime(t *testing.T) {
	addr := freeAddr(t)
	h := newHarness(t, Config{Policy: Policy{Hold: true, HoldWindow: time.Hour, ReadyGated: true},
		ReadyURL: "http://" + addr + "/ready", StartupTimeout: 3 * time.Second},
		"HF_FAKE=http", "HF_ADDR="+addr, "HF_HANG_FILE="+filepath.Join(t.TempDir(), "never"))
	snap := h.waitSnap("ready", func(s state.Snapshot) bool { return s.Ready })
	if snap.StartupDeadline != nil || snap.LastReadiness == nil || !snap.LastReadiness.OK {
		t.Fatalf("ready: deadline %v last %+v", snap.StartupDeadline, snap.LastReadiness)
	}
	// Until past the timeout it still runs, unheld.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-h.store.Changed():
		case <-time.After(time.Until(deadline)):
		}
		if p := h.store.Load().Phase; p != state.Running {
			t.Fatalf("phase %s after becoming ready in time", p)
		}
	}
	h.sigs <- syscall.SIGTERM
	h.exitCode()
}

// --app-ready=listen: not ready until the app's process tree listens.
func TestReadyWhenListening(t *testing.T) {
	addr := freeAddr(t)
	h := newHarness(t, Config{Policy: quickPolicy(), ReadyRule: ReadyListen},
		"HF_FAKE=listen-late", "HF_ADDR="+addr, "HF_DELAY=1500ms")
	snap := h.waitSnap("a listen check", func(s state.Snapshot) bool { return s.LastReadiness != nil })
	if snap.Ready || snap.LastReadiness.OK || snap.ReadyRule != ReadyListen || !strings.Contains(snap.NotReadyReason, "listen") {
		t.Fatalf("before listening: ready %v last %+v rule %q reason %q", snap.Ready, snap.LastReadiness, snap.ReadyRule, snap.NotReadyReason)
	}
	snap = h.waitSnap("ready", func(s state.Snapshot) bool { return s.Ready })
	if !strings.Contains(snap.LastReadiness.Detail, addr) {
		t.Errorf("ready detail %q does not name %s", snap.LastReadiness.Detail, addr)
	}
	h.sigs <- syscall.SIGTERM
	h.exitCode()
}

// With --memory-watch, a living run is sampled into its run dir's
// timeline, and its record keeps the summary once it ends; nothing is
// sampled after the end.
func TestMemorySampledWhileRunning(t *testing.T) {
	if _, err := memwatch.Find(); err != nil {
		t.Skipf("no memory cgroup here: %v", err)
	}
	h := newHarness(t, Config{Policy: quickPolicy(), MemoryWatch: true}, "HF_FAKE=sleep")
	snap := h.waitPhase(state.Running)
	timeline := filepath.Join(h.records.RunDir(snap.Run), memwatch.TimelineName)
	deadline := time.Now().Add(30 * time.Second)
	for {
		pts, _ := memwatch.ReadTimeline(timeline)
		if len(pts) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timeline %s has %d points after 30s", timeline, len(pts))
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.sigs <- syscall.SIGTERM
	h.exitCode()
	rec, _ := h.records.Get(snap.Run)
	if rec.Memory == nil || rec.Memory.Samples < 2 || rec.Memory.Last == 0 || rec.Memory.LastRSS == 0 {
		t.Fatalf("run record memory %+v", rec.Memory)
	}
	pts, _ := memwatch.ReadTimeline(timeline)
	if uint64(len(pts)) != rec.Memory.Samples {
		t.Errorf("timeline has %d points, summary %d samples: sampled after the end?", len(pts), rec.Memory.Samples)
	}
}

// The memory sample spacing: slow far from the limit, fast near it, fast
// when the last rate would reach the watermark soon, and fast first.
func TestMemoryWait(t *testing.T) {
	const mib = 1 << 20
	t0 := time.Unix(1000, 0)
	pt := func(sec int, usage uint64) memwatch.Point {
		return memwatch.Point{Time: t0.Add(time.Duration(sec) * time.Second), Usage: usage * mib, Limit: 256 * mib}
	}
	for _, tc := range []struct {
		name    string
		prev, p memwatch.Point
		err     error
		want    time.Duration
	}{
		{"first sample", memwatch.Point{}, pt(1, 40), nil, memoryFast},
		{"flat and low", pt(1, 40), pt(6, 41), nil, memorySlow},
		{"above half", pt(1, 120), pt(6, 130), nil, memoryFast},
		{"low but fast growth", pt(1, 40), pt(2, 56), nil, memoryFast},
		{"slow growth", pt(1, 40), pt(6, 45), nil, memorySlow},
		{"no limit", pt(1, 40), memwatch.Point{Time: t0.Add(6 * time.Second), Usage: 1 << 40}, nil, memorySlow},
		{"error", pt(1, 40), memwatch.Point{}, errors.New("x"), memoryFast},
	} {
		if got := memoryWait(tc.prev, tc.p, tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
