package hfrun

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// WaitLong bounds every wait for something that should happen promptly: generous,
// because the box is shared, slow and runs tests in parallel.
const WaitLong = 30 * time.Second

// WaitFor polls cond every 20 ms for up to d; on timeout it fails naming what, with
// details from the optional explain funcs.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	if err := Poll(d, cond); err != nil {
		msg := fmt.Sprintf("timed out after %v waiting for %s", d, what)
		for _, e := range explain {
			msg += "\n" + e()
		}
		t.Fatal(msg)
	}
}

// Poll is WaitFor without a *testing.T.
func Poll(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Settle waits until get returns the same value for quiet (checked every 20 ms, at most
// d in all) and returns it: "nothing more arrives" as a condition, not a sleep.
func Settle(t testing.TB, quiet, d time.Duration, get func() string) string {
	t.Helper()
	last, since := get(), time.Now()
	WaitFor(t, d, "output to settle", func() bool {
		if v := get(); v != last {
			last, since = v, time.Now()
		}
		return time.Since(since) >= quiet
	})
	return last
}
