package crashhold

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/holdfast-dev/holdfast/internal/redact"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// The methods below serve the control socket (internal/control.Backend).
// They read the store, the records and the captures; none of them touches
// the app or the supervisor's own fields.

// Status is the published snapshot.
func (s *Supervisor) Status() state.Snapshot { return s.d.Store.Load() }

// Runs lists every kept run record, oldest first.
func (s *Supervisor) Runs() []runrec.RunRecord {
	recs := s.d.Records.List()
	for i := range recs {
		// A record written before redaction existed is hidden here.
		recs[i].Command = redact.Argv(recs[i].Command)
	}
	return recs
}

// Logs returns a run's retained output; run 0 means the current or last run.
func (s *Supervisor) Logs(ctx context.Context, run int, follow bool) ([]byte, <-chan []byte, error) {
	if run == 0 {
		run = s.d.Store.Load().Run
	}
	if run == 0 {
		if recs := s.d.Records.List(); len(recs) > 0 {
			run = recs[len(recs)-1].Run
		}
	}
	if run == 0 {
		return nil, nil, fmt.Errorf("no run has started yet")
	}
	if c, ok := s.Capture(run); ok {
		var b []byte
		var more <-chan []byte
		var err error
		if follow {
			b, more, err = c.FollowOutput(ctx)
		} else {
			b, err = c.Output()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("the output of run %d is not available: %w", run, err)
		}
		return b, more, nil
	}
	rec, ok := s.d.Records.Get(run)
	if !ok {
		return nil, nil, fmt.Errorf("no run %d is kept (see `holdfast runs`)", run)
	}
	var b []byte
	err := fs.ErrNotExist
	if rec.Dir != "" {
		b, err = os.ReadFile(filepath.Join(rec.Dir, runrec.OutputFile))
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) && s.cfg.NoCapture:
		return nil, nil, fmt.Errorf("the output of run %d was not kept: holdfast runs with --capture=false, so the app writes straight to its stdout and stderr (kubectl logs)", run)
	case rec.Dir == "":
		return nil, nil, fmt.Errorf("the output of run %d was not kept", run)
	case err != nil:
		return nil, nil, fmt.Errorf("cannot read the output of run %d: %w", run, err)
	}
	return b, nil, nil
}
