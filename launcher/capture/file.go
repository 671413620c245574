package capture

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
)

// fileLog writes a run's retained log to output.log from a goroutine of its
// own, so that the relays never wait for the disk. While the run is under
// its cap the file is the stream so far; past the cap it stops growing at
// the cap (the head is in it) until finish rewrites the rest as marker and
// tail.
type fileLog struct {
	path  string
	log   *retained
	limit int64 // stream bytes written live: the cap
	f     *os.File
	warn  func(msg string, err error)

	kick    chan struct{}
	final   chan struct{}
	done    chan struct{}
	once    sync.Once
	written int64 // stream bytes in the file, from offset 0
	failed  bool  // a write failed: no more live writes, and it was logged
	stalled bool  // bytes the file still lacks left the tail before we got them
	// done writing live (cap reached, failed or stalled): wake is a no-op,
	// so a chatty app does not wake this goroutine for every chunk.
	liveDone atomic.Bool
}

// openFileLog creates path; on failure retention stays in memory only.
func openFileLog(path string, log *retained, limit int64, logger *slog.Logger) *fileLog {
	fl := &fileLog{
		path:  path,
		log:   log,
		limit: limit,
		kick:  make(chan struct{}, 1),
		final: make(chan struct{}),
		done:  make(chan struct{}),
		warn: func(msg string, err error) {
			logger.Warn(msg, "path", path, "err", err)
		},
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		fl.warn("cannot keep the app's output on disk; it is kept in memory only",
			fmt.Errorf("cannot create %s: %w", path, err))
		close(fl.done)
		return fl
	}
	fl.f = f
	go fl.run()
	return fl
}

// wake tells the writer that more output was retained. Never blocks.
func (fl *fileLog) wake() {
	if fl.liveDone.Load() {
		return
	}
	select {
	case fl.kick <- struct{}{}:
	default:
	}
}

// finish rewrites the file to equal the retained log as it is now, closes
// it and stops the writer. Later output stays in memory only. Idempotent.
func (fl *fileLog) finish() {
	fl.once.Do(func() {
		if fl.f != nil {
			close(fl.final)
		}
	})
	<-fl.done
}

func (fl *fileLog) run() {
	defer close(fl.done)
	for {
		select {
		case <-fl.kick:
			fl.writeLive()
			if fl.failed || fl.stalled || fl.written >= fl.limit {
				fl.liveDone.Store(true)
			}
		case <-fl.final:
			fl.writeFinal()
			if err := fl.f.Close(); err != nil {
				fl.fail(fmt.Errorf("cannot close %s: %w", fl.path, err))
			}
			return
		}
	}
}

func (fl *fileLog) fail(err error) {
	if !fl.failed {
		fl.failed = true
		fl.warn("cannot write the app's output to disk; it is still passed through and kept in memory", err)
	}
}

// writeLive appends the stream bytes the file lacks, up to the cap.
func (fl *fileLog) writeLive() {
	for !fl.failed && !fl.stalled && fl.written < fl.limit {
		var ok bool
		pieces, unpin := fl.log.pinned(func() (p [][]byte) {
			p, ok = fl.log.rawRange(fl.written, fl.limit)
			return p
		})
		err := fl.writePieces(pieces)
		unpin()
		if !ok {
			fl.stalled = true // finish will write the tail
			return
		}
		if err != nil {
			fl.fail(fmt.Errorf("cannot write %s: %w", fl.path, err))
			return
		}
		if len(pieces) == 0 {
			return
		}
	}
}

func (fl *fileLog) writePieces(pieces [][]byte) error {
	for _, p := range pieces {
		n, err := fl.f.Write(p)
		fl.written += int64(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// writeFinal makes the file equal the retained log: it keeps what the file
// already has in common with it and writes the rest.
func (fl *fileLog) writeFinal() {
	keep := fl.written
	pieces, unpin := fl.log.pinned(func() [][]byte {
		if fl.log.omitted() > 0 {
			keep = min(keep, fl.log.headLen)
		}
		return fl.log.pieces()
	})
	defer unpin()

	var off int64
	for _, p := range pieces {
		end := off + int64(len(p))
		if end > keep {
			skip := max(keep-off, 0)
			if _, err := fl.f.WriteAt(p[skip:], off+skip); err != nil {
				fl.fail(fmt.Errorf("cannot write %s: %w", fl.path, err))
				return
			}
		}
		off = end
	}
	if err := fl.f.Truncate(off); err != nil {
		fl.fail(fmt.Errorf("cannot truncate %s: %w", fl.path, err))
	}
}
