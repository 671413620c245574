package main

import (
	"log/slog"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// trimSettle is how long the app must have been running, or holdfast held,
// in the same run before holdfast gives back its start-up pages: restarts,
// exits and start-up itself stay clear of the page faults that follow.
const trimSettle = time.Second

// trimWhenSettled calls trim (memtrim.Trim: page out the start-up-only
// pages of holdfast's binary) once the app has been running, or holdfast
// held, for settle in the same run: once per phase and run, since a later
// run, a hold or a restart puts more of the binary back in use. Other
// changes to the store (readiness, say) neither start nor delay it. It
// waits on the store, without a ticker, and returns when stop is closed or
// trim fails (a kernel without MADV_PAGEOUT).
func trimWhenSettled(store *state.Store, log *slog.Logger, stop <-chan struct{}, settle time.Duration, trim func() (uintptr, error)) {
	type epoch struct {
		phase state.Phase
		run   int
	}
	var cur epoch
	var t *time.Timer
	var fire <-chan time.Time // nil while nothing is due
	for {
		changed := store.Changed()
		snap := store.Load()
		if e := (epoch{snap.Phase, snap.Run}); e != cur {
			cur = e
			if t != nil {
				t.Stop()
				t, fire = nil, nil
			}
			if e.phase == state.Running || e.phase == state.Held {
				t = time.NewTimer(settle)
				fire = t.C
			}
		}
		select {
		case <-changed:
		case <-fire:
			t, fire = nil, nil
			n, err := trim()
			if err != nil {
				log.Info("keeping start-up pages resident", "err", err)
				return
			}
			log.Debug("gave back start-up pages", "mapped_bytes", n, "phase", cur.phase, "run", cur.run)
		case <-stop:
			if t != nil {
				t.Stop()
			}
			return
		}
	}
}
