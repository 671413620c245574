package capture

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMemoryBudget is the memory for retained output across all runs
// when no budget is given: enough for a few MiB of a memory-only run's head
// and tail, small next to a JVM's heap.
const DefaultMemoryBudget = 8 << 20

// ErrDropped is returned for a run whose retained output was dropped to
// keep within the memory budget (it had no copy on disk).
var ErrDropped = errors.New("dropped to keep holdfast's memory within --retain-memory")

// Budget bounds the memory that retained output takes across runs. Every
// run's log counts its retained bytes against it; when the sum is over the
// limit, the oldest logs give way first:
//
//   - a log whose output.log is complete releases its memory copy and is
//     served from the file from then on;
//   - a log with no complete copy on disk (memory mode, or writing it
//     failed) is dropped;
//   - the newest log is never dropped: without a file it was given caps
//     that fit the limit on its own (see fitMemoryOnly). With a file it
//     holds what output.log still needs until the run ends (its tail is
//     written from memory then), and is released like the others after.
//
// Lock order: Budget.mu, then a log's mu. A log never takes Budget.mu while
// holding its own mu: it adds to used atomically and calls fit afterwards.
type Budget struct {
	limit int64
	used  atomic.Int64

	mu   sync.Mutex
	logs []*retained // registered, oldest first

	collecting atomic.Bool // a GC after a release is under way
	giveBackMu sync.Mutex
	giveBackT  *time.Timer // returns free memory to the kernel once releases stop
}

// After a fit releases giveBackAt bytes or more, a garbage collection makes
// them reusable at once (the next run then takes them instead of growing
// the heap), and once no such release came for giveBackQuiet, the runtime
// returns free memory to the kernel. A run's retained output is up to
// --log-max-bytes; left to the runtime's pacing, that much freed memory
// stays resident for minutes after a crash loop is held. Returning it
// after every run instead would make each run fault it in again (a tenth
// of the relay's speed in BenchmarkRelay, one run per op).
const (
	giveBackAt    = 4 << 20
	giveBackQuiet = 2 * time.Second
)

// NewBudget returns a budget of limit bytes; limit <= 0 means
// DefaultMemoryBudget.
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		limit = DefaultMemoryBudget
	}
	return &Budget{limit: limit}
}

// Limit is the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is the retained bytes held in memory now, across all runs.
func (b *Budget) Used() int64 { return b.used.Load() }

// Logs is how many runs' logs the budget tracks (tests: nothing grows).
func (b *Budget) Logs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.logs)
}

func (b *Budget) add(r *retained) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logs = append(b.logs, r)
}

// remove stops tracking r. r has already given back its bytes.
func (b *Budget) remove(r *retained) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, l := range b.logs {
		if l == r {
			b.logs = append(b.logs[:i], b.logs[i+1:]...)
			return
		}
	}
}

// fit sheds the oldest logs' memory until the sum is within the limit or
// only the newest log is left. It also forgets logs that hold nothing and
// never will again, so the list stays as short as the runs kept in memory.
func (b *Budget) fit() {
	if b.used.Load() <= b.limit {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	before := b.used.Load()
	for i, l := range b.logs {
		if b.used.Load() <= b.limit {
			break
		}
		l.shed(i == len(b.logs)-1)
	}
	if before-b.used.Load() >= giveBackAt {
		b.collect()
	}
	kept := b.logs[:0]
	for _, l := range b.logs {
		if !l.gone() {
			kept = append(kept, l)
		}
	}
	clear(b.logs[len(kept):])
	b.logs = kept
}

// collect runs a GC now and schedules the give-back, neither on the
// caller's goroutine: a relay must not wait for a GC.
func (b *Budget) collect() {
	if b.collecting.CompareAndSwap(false, true) {
		go func() {
			defer b.collecting.Store(false)
			runtime.GC()
		}()
	}
	b.giveBackMu.Lock()
	defer b.giveBackMu.Unlock()
	if b.giveBackT == nil {
		b.giveBackT = time.AfterFunc(giveBackQuiet, debug.FreeOSMemory)
	} else {
		b.giveBackT.Reset(giveBackQuiet)
	}
}

// droppedError says how much of a run's output was dropped for memory.
func droppedError(n int64) error {
	return fmt.Errorf("its %d retained bytes were %w (the state dir is not writable, so they were kept in memory only; newer runs came first)", n, ErrDropped)
}

// account brings the bytes counted against the budget up to date. Caller
// holds mu.
func (r *retained) account() {
	if r.budget == nil {
		return
	}
	now := int64(0)
	if r.kept == keptMemory {
		now = r.headLen + r.tailLen
	}
	if d := now - r.held; d != 0 {
		r.held = now
		r.budget.used.Add(d)
	}
}

// fitMemoryOnly lowers the caps of a log that has no output.log, before
// anything is retained, so that it fits the budget on its own: the newest
// run is never shed, so it must not outgrow the limit.
func (r *retained) fitMemoryOnly() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.budget == nil || r.total > 0 {
		return
	}
	if limit := r.budget.limit; r.headCap+r.tailCap > limit {
		r.headCap = limit / 2
		r.tailCap = limit - r.headCap
		r.blockSize = blockSizeFor(r.tailCap)
	}
}

// setDisk records what output.log holds now.
func (r *retained) setDisk(d diskState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disk = d
}

// shed gives up the memory copy of a run: released when output.log has it
// all, dropped when there is no complete copy on disk (never the newest
// run's), kept while output.log is still being written from it.
func (r *retained) shed(newest bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.kept != keptMemory || r.disk == diskLive:
		return
	case newest && r.disk != diskDone:
		return
	case r.disk == diskDone:
		r.release(keptDisk)
	default:
		n := r.headLen + r.tailLen
		r.release(keptDropped)
		r.dropped = n
	}
}

// release lets go of every retained block. Caller holds mu.
func (r *retained) release(to keptState) {
	for _, ents := range [][]entry{r.head, r.tail} {
		for _, e := range ents {
			e.b.refs--
			r.recycle(e.b)
		}
	}
	r.head, r.tail = nil, nil
	r.kept = to
	r.account()
}

// gone reports that r holds no memory and never will again.
func (r *retained) gone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kept != keptMemory
}

// forget releases r's memory and stops counting it: its run is no longer
// kept at all.
func (r *retained) forget() {
	r.mu.Lock()
	if r.kept == keptMemory {
		to := keptDropped
		if r.disk == diskDone {
			to = keptDisk
		}
		r.release(to)
	}
	r.mu.Unlock()
	if r.budget != nil {
		r.budget.remove(r)
	}
}

// outcome is what output.log holds once finish returned. (Here rather than
// in file.go: the budget is what needs it.)
func (fl *fileLog) outcome() diskState {
	if fl.failed {
		return diskFailed
	}
	return diskDone
}
