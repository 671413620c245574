package main

import (
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// readinessRows adds what "ready" means, the last readiness check and the
// startup deadline to the status. Their labels fit the status's column of
// ten ("last exit:"), which scripts and the README's examples keep.
func readinessRows(s state.Snapshot, row func(k, format string, a ...any)) {
	if s.ReadyRule != "" {
		row("ready by:", "%s", s.ReadyRule)
	}
	if c := s.LastReadiness; c != nil {
		verdict := "failed"
		if c.OK {
			verdict = "ok"
		}
		row("checked:", "%s: %s (%s ago)", verdict, c.Detail, ago(c.At))
	}
	if d := s.StartupDeadline; d != nil {
		row("startup:", "held as never-ready at %s (in %s) unless ready first", d.UTC().Format(time.RFC3339), time.Until(*d).Round(time.Second))
	}
}
