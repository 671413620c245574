package main

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// trimCalls records the phase and run the store showed at each trim.
type trimCalls struct {
	mu    sync.Mutex
	store *state.Store
	calls []string
	err   error
}

func (c *trimCalls) trim() (uintptr, error) {
	snap := c.store.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf("%s/%d", snap.Phase, snap.Run))
	return 4096, c.err
}

func (c *trimCalls) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func waitCalls(t *testing.T, c *trimCalls, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(c.get()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d trims within 30 s, want %d: %v", len(c.get()), n, c.get())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c.get()
}

// One trim per settled phase and run. Republishing the same phase and run
// (as readiness changes do) neither holds the trim off nor repeats it;
// starting and backoff never trim; a new run and a hold each trim again.
func TestTrimWhenSettled(t *testing.T) {
	const settle = 20 * time.Millisecond
	store := state.NewStore(state.Snapshot{Phase: state.Starting, Run: 1})
	c := &trimCalls{store: store}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		trimWhenSettled(store, slog.New(slog.DiscardHandler), stop, settle, c.trim)
		close(done)
	}()

	// Running, republished every quarter settle (readiness flapping) until
	// the first trim and for ten settles after it: the trim comes anyway,
	// and only once.
	running1 := state.Snapshot{Phase: state.Running, Run: 1}
	store.Publish(running1)
	trimmed := make(chan struct{})
	republished := make(chan struct{})
	go func() {
		defer close(republished)
		after := 0
		for i := 0; after < 40; i++ {
			running1.Ready = i%2 == 0
			store.Publish(running1)
			select {
			case <-trimmed:
				after++
			default:
			}
			time.Sleep(settle / 4)
		}
	}()
	waitCalls(t, c, 1)
	close(trimmed)
	<-republished

	// A crash, backoff and restart: run 2 trims once settled.
	store.Publish(state.Snapshot{Phase: state.Backoff, Run: 1})
	store.Publish(state.Snapshot{Phase: state.Starting, Run: 2})
	store.Publish(state.Snapshot{Phase: state.Running, Run: 2})
	waitCalls(t, c, 2)
	store.Publish(state.Snapshot{Phase: state.Held, Run: 2})
	got := waitCalls(t, c, 3)
	want := []string{"running/1", "running/2", "held/2"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("trims at %v, want %v", got, want)
	}

	// A failing trim (no MADV_PAGEOUT) ends the watcher.
	c.mu.Lock()
	c.err = errors.New("einval")
	c.mu.Unlock()
	store.Publish(state.Snapshot{Phase: state.Running, Run: 3})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("trimWhenSettled did not return after trim failed")
	}
	close(stop)
}

// stop ends the watcher with a trim still pending.
func TestTrimWhenSettledStops(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Running, Run: 1})
	c := &trimCalls{store: store}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		trimWhenSettled(store, slog.New(slog.DiscardHandler), stop, time.Hour, c.trim)
		close(done)
	}()
	close(stop)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("trimWhenSettled did not return after stop")
	}
	if got := c.get(); len(got) != 0 {
		t.Errorf("trims %v after stop, want none", got)
	}
}
