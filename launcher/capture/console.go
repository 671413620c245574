package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/internal/inflight"
	"github.com/holdfast-dev/holdfast/internal/pipes"
)

// DefaultLineWait is how long a holdfast log line waits for the app to
// finish a partly written stderr line before it breaks the line.
const DefaultLineWait = 250 * time.Millisecond

// maxQueued bounds the holdfast log lines waiting for stderr. Only a stuck
// stderr fills it; holdfast's logging must not stall the supervisor then,
// so further lines are counted and dropped.
const maxQueued = 1 << 20

// Console owns holdfast's stdout and stderr. The app's stdout passes to
// stdout unchanged; the app's stderr and holdfast's own log lines share
// stderr without a log line ever splitting an app line. A stream whose file
// is a terminal is handed to the app itself (Start) and does not pass
// through the console; a log line may then land inside an app line there.
type Console struct {
	out, err *os.File
	tty      [3]bool   // by Stream: holdfast's file for it is a terminal
	ttyOnce  sync.Once // the hand-over of a terminal is logged once

	// lineWait is how long a log line waits for the app's newline;
	// splitLines turns the rule off (a test's negative control).
	lineWait   time.Duration
	splitLines bool

	outMu    sync.Mutex // one writer of stdout at a time, so chunks stay whole
	outState sink

	errMu    sync.Mutex // held while writing stderr; guards midLine
	midLine  bool       // the app's last stderr chunk did not end with '\n'
	errState sink

	// Runs whose output has not all reached the console yet (pipes not at
	// EOF, or chunks still queued for a stream's writer); Drain waits for
	// them before holdfast exits.
	pending inflight.Counter

	// The log-line queue. qmu is never held during I/O, so LogWriter never
	// blocks on stderr.
	qmu     sync.Mutex
	queue   []byte    // complete lines waiting for stderr
	since   time.Time // when the oldest queued line arrived
	lost    int       // lines dropped because the queue was full
	queued  uint64    // lines accepted (and lost) so far
	written uint64    // lines written (or lost) so far
	wrote   chan struct{}
	kick    chan struct{}
}

// sink remembers the fate of one of holdfast's output files.
type sink struct {
	broken   bool // EPIPE/EBADF: the reader is gone for good, stop writing
	reported bool // the first error was handed to a caller to log
}

// NewConsole returns the console over stdout and stderr (normally os.Stdout
// and os.Stderr).
func NewConsole(stdout, stderr *os.File) *Console {
	c := &Console{
		out:      stdout,
		err:      stderr,
		lineWait: DefaultLineWait,
		wrote:    make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
	c.tty[Stdout], c.tty[Stderr] = isTerminal(stdout), isTerminal(stderr)
	// The relay writes up to a pipe's worth of the app's output at a time;
	// into a default 64 KiB pipe it would block after every 64 KiB and be
	// woken again each time the reader frees a page, most of what the relay
	// costs beyond cat's copy (docs/benchmarks.md, "Relay CPU per GiB").
	pipes.GrowDefault(stdout)
	pipes.GrowDefault(stderr)
	go c.flusher()
	return c
}

// terminal returns holdfast's own file for stream s when it is a terminal,
// else nil. The app gets such a file itself rather than a pipe (Start).
func (c *Console) terminal(s Stream) *os.File {
	switch {
	case s == Stdout && c.tty[Stdout]:
		return c.out
	case s == Stderr && c.tty[Stderr]:
		return c.err
	}
	return nil
}

// reportTerminal logs, the first time a run is handed a terminal, which
// streams go to it directly and are not kept.
func (c *Console) reportTerminal(log *slog.Logger, direct []Stream) {
	c.ttyOnce.Do(func() {
		names := make([]string, len(direct))
		for i, s := range direct {
			names[i] = s.String()
		}
		log.Info("holdfast's output is a terminal: the app writes there directly, as under tini, and holdfast keeps no copy of that stream (output.log and holdfast logs say so)",
			"streams", strings.Join(names, ","))
	})
}

// LogWriter is where holdfast's slog handler writes. Each Write should be
// one or more complete lines (a missing final newline is added). Writes
// never block on stderr: lines are queued and written by the console, so
// call Flush before exiting.
func (c *Console) LogWriter() io.Writer { return logWriter{c} }

type logWriter struct{ c *Console }

func (w logWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c := w.c
	lines := uint64(bytes.Count(p, []byte{'\n'}))
	whole := p[len(p)-1] == '\n'
	if !whole {
		lines++
	}
	c.qmu.Lock()
	c.queued += lines
	if len(c.queue)+len(p) > maxQueued {
		c.lost += int(lines)
	} else {
		if len(c.queue) == 0 {
			c.since = time.Now()
		}
		c.queue = append(c.queue, p...)
		if !whole {
			// Not a whole line after all: end it, or the app's next bytes
			// would be glued to it.
			c.queue = append(c.queue, '\n')
		}
	}
	c.qmu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Flush waits until every log line written so far has reached stderr (or
// was dropped), at most until ctx is done.
func (c *Console) Flush(ctx context.Context) error {
	c.qmu.Lock()
	target := c.queued
	c.qmu.Unlock()
	for {
		c.qmu.Lock()
		done, wrote := c.written >= target, c.wrote
		c.qmu.Unlock()
		if done {
			return nil
		}
		select {
		case <-wrote:
		case <-ctx.Done():
			return fmt.Errorf("cannot flush holdfast's log lines: %w", ctx.Err())
		}
	}
}

// Drain waits until the output of every run has reached EOF and been
// written to holdfast's stdout and stderr (or failed to be), at most until
// ctx is done. A run's Finish gives up on a slow console after a short wait
// and leaves its writers behind; before exiting, holdfast waits for them
// here, so that a slow log reader does not lose the end of the app's output.
func (c *Console) Drain(ctx context.Context) error {
	n, idle := c.pending.Idle()
	if n == 0 {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cannot pass the rest of the app's output on (%d runs not done: a process left behind still holds the app's stdout or stderr, or holdfast's own are not being read): %w", n, ctx.Err())
	}
}

// flusher writes queued log lines as soon as stderr is at a line boundary,
// or when the oldest has waited lineWait.
func (c *Console) flusher() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-c.kick:
		case <-timer.C:
		}
		c.errMu.Lock()
		wait := c.flushLocked(false)
		c.errMu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
		}
	}
}

// flushLocked writes the queued lines unless the app is mid-line and the
// oldest line may still wait; it then returns how long. Caller holds errMu.
func (c *Console) flushLocked(force bool) time.Duration {
	c.qmu.Lock()
	if len(c.queue) == 0 && c.lost == 0 {
		c.qmu.Unlock()
		return 0
	}
	if c.midLine && !force && !c.splitLines {
		if wait := c.lineWait - time.Since(c.since); wait > 0 {
			c.qmu.Unlock()
			return wait
		}
	}
	lines, lost, target := c.queue, c.lost, c.queued
	c.queue, c.lost = nil, 0
	c.qmu.Unlock()

	var buf []byte
	if c.midLine && !c.splitLines {
		buf = append(buf, '\n') // the deadline passed: break the app's line
	}
	if lost > 0 {
		buf = fmt.Appendf(buf, "[holdfast: %d log lines dropped: stderr is blocked]\n", lost)
	}
	buf = append(buf, lines...)
	_ = c.write(c.err, &c.errState, buf) // nobody to tell: this is the log
	if len(buf) > 0 && !c.splitLines {
		c.midLine = false
	}

	c.qmu.Lock()
	c.written = target
	close(c.wrote)
	c.wrote = make(chan struct{})
	c.qmu.Unlock()
	return 0
}

// writeApp passes one chunk of the app's stream s to holdfast's own. The
// error is returned once, the first time writing fails, for the caller to
// log; later failures are silent.
func (c *Console) writeApp(s Stream, p []byte) error {
	if s == Stdout {
		c.outMu.Lock()
		defer c.outMu.Unlock()
		return c.write(c.out, &c.outState, p)
	}
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if !c.midLine {
		c.flushLocked(true) // lines that came while the app was between lines
	}
	var err error
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 && c.midLine && c.hasQueue() {
		// The app completes its line in this chunk: the waiting log lines
		// go right after the newline.
		err = c.write(c.err, &c.errState, p[:i+1])
		c.midLine = false
		c.flushLocked(true)
		p = p[i+1:]
	}
	if e := c.write(c.err, &c.errState, p); err == nil {
		err = e
	}
	if len(p) > 0 {
		c.midLine = p[len(p)-1] != '\n'
	}
	return err
}

func (c *Console) hasQueue() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue) > 0 || c.lost > 0
}

// write writes p to f unless f's reader is gone. Caller holds f's mutex.
func (c *Console) write(f *os.File, st *sink, p []byte) error {
	if st.broken || len(p) == 0 {
		return nil
	}
	_, err := f.Write(p)
	if err == nil {
		return nil
	}
	// EPIPE: the reader closed the pipe; EBADF: the fd was closed. Neither
	// comes back, so stop paying for the attempt. Anything else (ENOSPC on
	// a redirected file) may pass, so keep trying.
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EBADF) || errors.Is(err, os.ErrClosed) {
		st.broken = true
	}
	if st.reported {
		return nil
	}
	st.reported = true
	return fmt.Errorf("cannot write to %s: %w", f.Name(), err)
}
