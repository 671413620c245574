package crashhold

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test calls Advance; its
// timers fire there and nowhere else. The supervisor's goroutine arms
// timers; the test waits until the one it expects is armed (waitTimer),
// so scenarios on it are deterministic and never sleep.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	pending []*fakeTimer
	armed   chan struct{} // closed and replaced each time a timer is armed
}

type fakeTimer struct {
	c     chan time.Time
	d     time.Duration
	at    time.Time
	clock *fakeClock
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, armed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: make(chan time.Time, 1), d: d, at: c.now.Add(d), clock: c}
	c.pending = append(c.pending, t)
	close(c.armed)
	c.armed = make(chan struct{})
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.pending, t)
	if i < 0 {
		return false
	}
	c.pending = slices.Delete(c.pending, i, i+1)
	return true
}

// Advance moves the clock by d and fires every timer due by then.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.pending = slices.DeleteFunc(c.pending, func(t *fakeTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.c <- c.now
		return true
	})
}

// armedFor reports whether a timer of duration d is pending.
func (c *fakeClock) armedFor(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.pending, func(t *fakeTimer) bool { return t.d == d })
}

// waitFor waits, woken by each armed timer, until cond holds; it fails
// the test after 30 s of real time.
func (c *fakeClock) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		armed := c.armed
		c.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-armed:
		case <-deadline:
			t.Fatalf("%s: not within 30s", what)
		}
	}
}

// waitTimer waits until the supervisor has armed a timer of duration d.
func (c *fakeClock) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	c.waitFor(t, "a timer of "+d.String()+" armed", func() bool { return c.armedFor(d) })
}

// TestFakeClock checks the clock the scenarios rely on: a timer fires at
// its deadline and not a nanosecond before, Stop disarms, and waitTimer
// sees a timer armed by another goroutine.
func TestFakeClock(t *testing.T) {
	c := newFakeClock(t0)
	tm := c.NewTimer(time.Minute)
	c.Advance(time.Minute - 1)
	select {
	case <-tm.C():
		t.Fatal("fired a nanosecond early")
	default:
	}
	c.Advance(1)
	select {
	case at := <-tm.C():
		if !at.Equal(t0.Add(time.Minute)) {
			t.Errorf("fired at %v", at)
		}
	default:
		t.Fatal("did not fire at its deadline")
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer reported it pending")
	}
	stopped := c.NewTimer(time.Second)
	if !stopped.Stop() || c.armedFor(time.Second) {
		t.Error("Stop did not disarm")
	}
	c.Advance(time.Hour)
	select {
	case <-stopped.C():
		t.Error("a stopped timer fired")
	default:
	}
	go c.NewTimer(7 * time.Second)
	c.waitTimer(t, 7*time.Second)
}
