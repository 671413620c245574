package hfrun

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// Seen is one (phase, run) the watcher saw.
type Seen struct {
	Phase string
	Run   int
}

// Watch polls /status every 20 ms and keeps every change of (phase, run), so a test
// can assert the path holdfast took, not only where it ended.
type Watch struct {
	base string
	mu   sync.Mutex
	seen []Seen
	last Status
	ok   bool // last is a real answer
	err  error
}

// WatchStatus starts a Watch of base+"/status" that runs until the test ends.
func WatchStatus(t testing.TB, base string) *Watch {
	w := &Watch{base: base}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			st, err := HTTPStatus(base)
			w.mu.Lock()
			w.err = err
			if err == nil {
				w.last, w.ok = st, true
				s := Seen{st.Phase, st.Run}
				if n := len(w.seen); n == 0 || w.seen[n-1] != s {
					w.seen = append(w.seen, s)
				}
			}
			w.mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return w
}

// Trail is what the watcher saw so far.
func (w *Watch) Trail() []Seen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

// Latest is the last status read, and whether there was one.
func (w *Watch) Latest() (Status, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.ok
}

func (w *Watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprintf("phases seen: %v; last status: %+v (err %v)", w.seen, w.last, w.err)
}

// CheckTrail checks that every (phase, run) the watcher saw is among allowed and
// that held was only seen in heldRun (0: never).
func CheckTrail(t testing.TB, w *Watch, heldRun int, allowed ...string) {
	t.Helper()
	for _, s := range w.Trail() {
		if !slices.Contains(allowed, s.Phase) {
			t.Errorf("phase %q seen (run %d); allowed %v; %s", s.Phase, s.Run, allowed, w)
		}
		if s.Phase == "held" && s.Run != heldRun {
			t.Errorf("held in run %d, want held only in run %d; %s", s.Run, heldRun, w)
		}
	}
}

// RunsSeen lists the runs the watcher saw in phase.
func RunsSeen(w *Watch, phase string) []int {
	var runs []int
	for _, s := range w.Trail() {
		if s.Phase == phase && !slices.Contains(runs, s.Run) {
			runs = append(runs, s.Run)
		}
	}
	return runs
}
