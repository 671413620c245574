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
	"time"
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
	Console *Console
	LogPath string // <run dir>/output.log; "" = memory only
	// OnNoSpace is called by output.log's writer when a write fails for a
	// full disk (ENOSPC, EDQUOT); when it returns true (room was made) the
	// write is tried again. May be nil.
	OnNoSpace func() bool
	MaxBytes  int64                 // retention cap for this run (head half + tail half); 0 = DefaultMaxBytes
	Budget    *Budget               // memory for retained output, shared by all runs; nil = none
	OnBytes   func(s Stream, n int) // may be nil; called from the relay goroutines
	Logger    *slog.Logger
	// NoCause turns off the cause extractor (benchmarks: the relay with
	// and without it); Cause then decides from the exit facts alone.
	NoCause bool
}

// Run is the capture of one run of the app.
type Run struct {
	// StdoutW and StderrW are for the child's Stdout and Stderr: the write
	// end of the stream's pipe, or, for a stream whose console file is a
	// terminal, that file itself. The parent closes its pipe ends with
	// CloseWriters.
	StdoutW, StderrW *os.File

	opts    Options
	log     *retained
	file    *fileLog // nil when LogPath is ""
	totals  [3]atomic.Int64
	pipes   [3]*pipeRelay // by Stream; nil for a stream handed a terminal
	direct  []Stream      // the streams the app writes to a terminal directly
	owned   []*os.File    // the pipes' write ends, for CloseWriters
	closeW  sync.Once
	hurried sync.Once
	readers sync.WaitGroup
	writers sync.WaitGroup
	drained chan struct{} // every pipe reached EOF and all went to the console

	noHurry bool // tests: Finish does not take the rest of the pipes (negative control)
}

// relayBacklog is how many bytes a stream's reader may queue ahead of its
// console writer (a chunk read is queued while fewer are). Within it, a
// stalled console delays nothing that is retained, so output.log keeps the
// order in which the app wrote; past it the reader waits, and the app
// feels the stall as it would on a bare pipe.
const relayBacklog = 1 << 20

// hurryWait bounds how long Finish waits for the readers to take what the
// app's pipes hold (at most a pipe's worth each, from memory).
const hurryWait = 5 * time.Second

// pipeRelay carries one stream from its pipe to the console: the reader
// retains each chunk and queues it, the console writer takes it from the
// queue.
type pipeRelay struct {
	s Stream
	p *os.File // the read end

	mu      sync.Mutex
	cond    sync.Cond // queue, eof or hurry changed
	queue   []loan
	queued  int  // bytes in queue
	eof     bool // the reader is done: no more chunks
	hurry   bool // take what the pipe holds now, without waiting for the console
	waiting bool // the reader waits for room in the queue

	caughtOnce sync.Once
	caught     chan struct{} // the reader took what the pipe held at the hurry, or is done
}

// Start makes a pipe for each stream and starts relaying them. A stream
// whose console file is a terminal gets no pipe: the app is handed the
// terminal itself, as under tini, so that it sees a terminal (colours, line
// buffering, the window size); that stream is not kept, the retained log
// starts with a note that says so, and the console logs it once. The caller
// hands StdoutW/StderrW to the child's Stdout/Stderr, then calls
// CloseWriters in the parent right after spawning (or after a failed
// spawn).
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
	r := &Run{
		opts:    opts,
		log:     newRetained(opts.MaxBytes),
		drained: make(chan struct{}),
	}
	if err := r.makePipes(); err != nil {
		return nil, err
	}
	if opts.LogPath != "" {
		r.file = openFileLog(opts.LogPath, r.log, opts.MaxBytes, opts.Logger)
		r.file.onNoSpace = opts.OnNoSpace
	}
	if b := opts.Budget; b != nil {
		r.log.budget = b
		if r.file != nil && r.file.f != nil {
			r.log.setDisk(diskLive)
		} else {
			r.log.fitMemoryOnly()
		}
		b.add(r.log)
	}
	if !opts.NoCause {
		r.log.startWhy()
	}
	if len(r.direct) > 0 {
		r.log.giveBack(r.log.commit(terminalNote(r.direct)))
		if r.file != nil {
			r.file.wake()
		}
		opts.Console.reportTerminal(opts.Logger, r.direct)
	}
	relays := r.relays()
	r.readers.Add(len(relays))
	r.writers.Add(len(relays))
	for _, pr := range relays {
		go r.relay(pr)
		go r.pass(pr)
	}
	opts.Console.pending.Add() // Drain waits for this run's output
	go func() {
		r.readers.Wait()
		r.log.end() // followers are done at EOF
		r.writers.Wait()
		close(r.drained)
		opts.Console.pending.Done()
	}()
	return r, nil
}

// makePipes gives each stream a pipe, or the console's terminal for it.
func (r *Run) makePipes() error {
	for _, s := range []Stream{Stdout, Stderr} {
		w := r.opts.Console.terminal(s)
		if w != nil {
			r.direct = append(r.direct, s)
		} else {
			pr, pw, err := newPipe()
			if err != nil {
				for _, p := range r.relays() {
					p.p.Close()
				}
				for _, f := range r.owned {
					f.Close()
				}
				return fmt.Errorf("cannot create the app's %s pipe: %w", s, err)
			}
			r.pipes[s] = newPipeRelay(s, pr)
			r.owned = append(r.owned, pw)
			w = pw
		}
		if s == Stdout {
			r.StdoutW = w
		} else {
			r.StderrW = w
		}
	}
	return nil
}

// CloseWriters closes the parent's copies of the pipes' write ends, so that
// the relays see EOF once the app (and whatever inherited its stdio) is
// done. A terminal handed to the app stays open: it is holdfast's own.
// Idempotent.
func (r *Run) CloseWriters() {
	r.closeW.Do(func() {
		for _, f := range r.owned {
			f.Close()
		}
	})
}

// relays returns the streams' relays, without those handed a terminal.
func (r *Run) relays() []*pipeRelay {
	var out []*pipeRelay
	for _, pr := range r.pipes[Stdout:] {
		if pr != nil {
			out = append(out, pr)
		}
	}
	return out
}

// Direct returns the streams the app writes straight to holdfast's
// terminal: they are not kept.
func (r *Run) Direct() []Stream { return r.direct }

func newPipeRelay(s Stream, p *os.File) *pipeRelay {
	pr := &pipeRelay{s: s, p: p, caught: make(chan struct{})}
	pr.cond.L = &pr.mu
	return pr
}

// relay reads one stream until EOF, retains each chunk and queues it for
// the stream's console writer.
func (r *Run) relay(pr *pipeRelay) {
	defer r.readers.Done()
	defer pr.end()
	defer pr.p.Close()
	owed := 0 // bytes to take before waiting for the console again
	for {
		if pr.takeHurry() {
			// Finish stopped waiting for the console. The app is gone and
			// all it wrote that is not read yet is in the pipe: take that
			// much now, so that output.log gets it, and queue it however
			// long the queue gets (it is at most a pipe's worth).
			if owed = pipeBytes(pr.p); owed == 0 {
				pr.caughtUp()
			}
		}
		want := maxRead
		if owed > 0 {
			want = min(owed, maxRead)
		}
		n, err := pr.p.Read(r.log.space(pr.s, want))
		if n > 0 {
			l := r.log.commitRead(pr.s, n)
			if r.file != nil {
				r.file.wake()
			}
			r.totals[pr.s].Add(int64(n))
			if r.opts.OnBytes != nil {
				r.opts.OnBytes(pr.s, n)
			}
			pr.put(l, owed > 0)
			if owed > 0 {
				if owed -= n; owed <= 0 {
					owed = 0
					pr.caughtUp()
				}
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // Finish woke the reader to hurry
			}
			if !errors.Is(err, io.EOF) {
				// Not seen on a pipe; stopping would leave the app to block
				// on a full pipe, but retrying a broken fd would spin.
				r.opts.Logger.Error("cannot read the app's output", "stream", pr.s.String(), "err", err)
			}
			return
		}
	}
}

// pass writes one stream's chunks to the console, in order.
func (r *Run) pass(pr *pipeRelay) {
	defer r.writers.Done()
	for {
		l, ok := pr.get()
		if !ok {
			return
		}
		if err := r.opts.Console.writeApp(pr.s, l.p); err != nil {
			r.opts.Logger.Warn("cannot pass the app's output on; it is still kept", "stream", pr.s.String(), "err", err)
		}
		r.log.giveBack(l)
	}
}

// put queues a chunk for the console writer. Unless now, it first waits
// while the queue is full and nobody hurries.
func (pr *pipeRelay) put(l loan, now bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for !now && !pr.hurry && pr.queued >= relayBacklog {
		pr.waiting = true
		pr.cond.Wait()
	}
	pr.waiting = false
	pr.queue = append(pr.queue, l)
	pr.queued += len(l.p)
	pr.cond.Broadcast()
}

// get returns the next chunk, waiting for one; false once the reader is
// done and the queue is empty.
func (pr *pipeRelay) get() (loan, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for len(pr.queue) == 0 && !pr.eof {
		pr.cond.Wait()
	}
	if len(pr.queue) == 0 {
		return loan{}, false
	}
	l := pr.queue[0]
	pr.queue[0] = loan{}
	pr.queue = pr.queue[1:]
	pr.queued -= len(l.p)
	pr.cond.Broadcast()
	return l, true
}

// hurryUp asks the reader to take what the pipe holds without waiting for
// the console, and wakes it wherever it waits: for room in the queue, or in
// a read of an empty pipe (through the read deadline).
func (pr *pipeRelay) hurryUp() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.hurry = true
	_ = pr.p.SetReadDeadline(time.Now()) // fails once the reader closed p: it is done
	pr.cond.Broadcast()
}

// takeHurry reports (once) that hurryUp was called, and clears its read
// deadline. Only the reader calls it.
func (pr *pipeRelay) takeHurry() bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if !pr.hurry {
		return false
	}
	pr.hurry = false
	_ = pr.p.SetReadDeadline(time.Time{})
	return true
}

func (pr *pipeRelay) caughtUp() { pr.caughtOnce.Do(func() { close(pr.caught) }) }

// end tells the console writer that no more chunks come.
func (pr *pipeRelay) end() {
	pr.mu.Lock()
	pr.eof = true
	pr.cond.Broadcast()
	pr.mu.Unlock()
	pr.caughtUp()
}

// Finish is called once the app has exited. It waits until both pipes
// reach EOF and everything read went to the console, or until ctx is done
// (grandchildren may hold the pipes forever, a console reader may stall).
// In that case the readers first take what the pipes hold, without waiting
// for the console: all the app wrote is then retained. Either way
// output.log is then made equal to Bytes and closed; output that still
// arrives is passed through and kept in memory only, and what was read but
// not yet written still goes to the console (Console.Drain waits for all of
// it). It returns an error when ctx ended the wait. Safe to call more than
// once.
func (r *Run) Finish(ctx context.Context) error {
	var err error
	select {
	case <-r.drained:
	case <-ctx.Done():
		select {
		case <-r.drained:
		default:
			err = fmt.Errorf("cannot wait for the app's output to end (a process still holds its stdout or stderr, or the console is stuck): %w", ctx.Err())
			r.takeRest()
		}
	}
	// The extractor reads its tails from memory now, before the budget
	// may release it; later output is not read.
	r.log.closeCause()
	if r.file != nil {
		r.file.finish()
		if r.file.f != nil {
			r.log.setDisk(r.file.outcome())
		}
	}
	if r.log.budget != nil {
		r.log.budget.fit() // an older run's copy may be released now
	}
	return err
}

// takeRest has the readers take what the app's pipes hold now, without
// waiting for a slow console, and waits (briefly) until they have: the app
// has exited, so that is the rest of what it wrote, and it belongs in
// output.log. Once.
func (r *Run) takeRest() {
	if r.noHurry {
		return
	}
	r.hurried.Do(func() {
		timeout := time.NewTimer(hurryWait)
		defer timeout.Stop()
		for _, pr := range r.relays() {
			pr.hurryUp()
		}
		for _, pr := range r.relays() {
			select {
			case <-pr.caught:
			case <-timeout.C:
				r.opts.Logger.Warn("output.log may lack the end of the app's output: its pipe was not read in time", "stream", pr.s.String(), "waited", hurryWait)
				return
			}
		}
	})
}

// Bytes returns the retained log (head, marker, tail) as it is in memory
// now. Output returns it wherever it is kept.
func (r *Run) Bytes() []byte { return r.log.bytes() }

// Output returns the run's retained log: from memory, or from output.log
// once the memory budget made the run give up its memory copy. It returns
// an error wrapping ErrDropped when the output was dropped for memory.
func (r *Run) Output() ([]byte, error) {
	b, kept, n := r.log.snapshot()
	switch kept {
	case keptDisk:
		return r.readFile()
	case keptDropped:
		return nil, droppedError(n)
	}
	return b, nil
}

// FollowOutput is Follow for a run whose output is in memory, and Output
// with a closed channel for one whose output is not.
func (r *Run) FollowOutput(ctx context.Context) ([]byte, <-chan []byte, error) {
	b, more, kept, n := r.log.followFrom(ctx)
	switch kept {
	case keptDisk:
		b, err := r.readFile()
		return b, more, err
	case keptDropped:
		return nil, more, droppedError(n)
	}
	return b, more, nil
}

func (r *Run) readFile() ([]byte, error) {
	b, err := os.ReadFile(r.opts.LogPath)
	if err != nil {
		return nil, fmt.Errorf("cannot read the retained output: %w", err)
	}
	return b, nil
}

// Release gives up the run's memory copy and its place in the budget: the
// run is no longer kept.
func (r *Run) Release() { r.log.forget() }

// Follow returns the retained bytes so far and a channel of later chunks,
// closed when the run's pipes reach EOF or ctx is done. A follower that
// falls followBuffer chunks behind gets a marker and its channel closed:
// the relay never waits for it. Chunks are shared: do not modify them.
func (r *Run) Follow(ctx context.Context) ([]byte, <-chan []byte) {
	b, more, _, _ := r.log.followFrom(ctx)
	return b, more
}

// Total returns the bytes seen on stream s.
func (r *Run) Total(s Stream) int64 {
	if s != Stdout && s != Stderr {
		return 0
	}
	return r.totals[s].Load()
}
