package crashhold

import "time"

// Clock is the supervisor's source of time, injected so tests can control it:
// the scenarios on a fake clock (fakeclock_test.go, clockscenarios_test.go)
// run backoff, the crash-hold window, the hold timeout and a stop's
// escalation at their exact durations without waiting for them.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the supervisor uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// timerC is the channel of t, or nil (which blocks forever in a select)
// when no timer is armed.
func timerC(t Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

// stopTimer disarms *t and clears it.
func stopTimer(t *Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}
