package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
)

// Stream names one of the app's output streams.
type Stream int

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// String is the stream's name, as in the holdfast_log_bytes_total label.
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return fmt.Sprintf("stream(%d)", int(s))
}

// Options configure the capture of one run.
type Options struct {
	Console  *Console
	LogPath  string                // <run dir>/output.log; "" = memory only
	MaxBytes int64                 // retention cap for this run (head half + tail half); 0 = DefaultMaxBytes
	OnBytes  func(s Stream, n int) // may be nil; called from the relay goroutines
	Logger   *slog.Logger
}

// Run is the capture of one run of the app.
type Run struct {
	// StdoutW and StderrW are the write ends of the pipes, for the child's
	// Stdout and Stderr. The parent closes them with CloseWriters.
	StdoutW, StderrW *os.File

	opts    Options
	log     *retained
	file    *fileLog // nil when LogPath is ""
	totals  [3]atomic.Int64
	closeW  sync.Once
	readers sync.WaitGroup
	writers sync.WaitGroup
	drained chan struct{} // both pipes reached EOF and all went to the console
}

// relayBacklog is how many chunks a stream's reader may be ahead of its
// console writer. Within it, a stalled console delays nothing that is
// retained, so output.log keeps the order in which the app wrote; past it
// the reader waits, and the app feels the stall as it would on a bare pipe.
const relayBacklog = 8

// Start makes the two pipes and starts relaying them. The caller hands
// StdoutW/StderrW to the child's Stdout/Stderr, then calls CloseWriters in
// the parent right after spawning (or after a failed spawn).
func Start(opts Options) (*Run, error) {
	if opts.Console == nil {
		return nil, errors.New("cannot start output capture: no console")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	outR, outW, err := newPipe()
	if err != nil {
		return nil, fmt.Errorf("cannot create the app's stdout pipe: %w", err)
	}
	errR, errW, err := newPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("cannot create the app's stderr pipe: %w", err)
	}
	r := &Run{
		StdoutW: outW,
		StderrW: errW,
		opts:    opts,
		log:     newRetained(opts.MaxBytes),
		drained: make(chan struct{}),
	}
	if opts.LogPath != "" {
		r.file = openFileLog(opts.LogPath, r.log, opts.MaxBytes, opts.Logger)
	}
	r.readers.Add(2)
	r.writers.Add(2)
	go r.relay(Stdout, outR)
	go r.relay(Stderr, errR)
	opts.Console.hold()
	go func() {
		r.readers.Wait()
		r.log.end() // followers are done at EOF
		r.writers.Wait()
		close(r.drained)
		opts.Console.release()
	}()
	return r, nil
}

// CloseWriters closes the parent's copies of the pipes' write ends, so that
// the relays see EOF once the app (and whatever inherited its stdio) is
// done. Idempotent.
func (r *Run) CloseWriters() {
	r.closeW.Do(func() {
		r.StdoutW.Close()
		r.StderrW.Close()
	})
}

// relay reads one stream until EOF, retains each chunk and hands it to the
// stream's console writer.
func (r *Run) relay(s Stream, p *os.File) {
	out := make(chan loan, relayBacklog)
	go r.pass(s, out)
	defer r.readers.Done()
	defer close(out)
	defer p.Close()
	buf := make([]byte, readSize)
	for {
		n, err := p.Read(buf)
		if n > 0 {
			l := r.log.commit(buf[:n])
			if r.file != nil {
				r.file.wake()
			}
			r.totals[s].Add(int64(n))
			if r.opts.OnBytes != nil {
				r.opts.OnBytes(s, n)
			}
			out <- l
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				// Not seen on a pipe; stopping would leave the app to block
				// on a full pipe, but retrying a broken fd would spin.
				r.opts.Logger.Error("cannot read the app's output", "stream", s.String(), "err", err)
			}
			return
		}
	}
}

// pass writes one stream's chunks to the console, in order.
func (r *Run) pass(s Stream, in <-chan loan) {
	defer r.writers.Done()
	for l := range in {
		if err := r.opts.Console.writeApp(s, l.p); err != nil {
			r.opts.Logger.Warn("cannot pass the app's output on; it is still kept", "stream", s.String(), "err", err)
		}
		r.log.giveBack(l)
	}
}

// Finish waits until both pipes reach EOF and everything read went to the
// console, or until ctx is done (grandchildren may hold the pipes forever,
// a console reader may stall). Either way output.log is then made equal to
// Bytes and closed; output that still arrives is passed through and kept
// in memory only, and what was read but not yet written still goes to the
// console (Console.Drain waits for all of it). It returns an error when ctx
// ended the wait. Safe to call more than once.
func (r *Run) Finish(ctx context.Context) error {
	var err error
	select {
	case <-r.drained:
	case <-ctx.Done():
		select {
		case <-r.drained:
		default:
			err = fmt.Errorf("cannot wait for the app's output to end (a process still holds its stdout or stderr, or the console is stuck): %w", ctx.Err())
		}
	}
	if r.file != nil {
		r.file.finish()
	}
	return err
}

// Bytes returns the retained log (head, marker, tail) as it is now.
func (r *Run) Bytes() []byte { return r.log.bytes() }

// Follow returns the retained bytes so far and a channel of later chunks,
// closed when the run's pipes reach EOF or ctx is done. A follower that
// falls followBuffer chunks behind gets a marker and its channel closed:
// the relay never waits for it. Chunks are shared: do not modify them.
func (r *Run) Follow(ctx context.Context) ([]byte, <-chan []byte) {
	return r.log.followFrom(ctx)
}

// Total returns the bytes seen on stream s.
func (r *Run) Total(s Stream) int64 {
	if s != Stdout && s != Stderr {
		return 0
	}
	return r.totals[s].Load()
}
