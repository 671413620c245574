package capture

import (
	"fmt"
	"sync"

	"github.com/holdfast-dev/holdfast/internal/pipes"
)

// DefaultMaxBytes is the retention cap of a run when Options.MaxBytes is 0.
const DefaultMaxBytes = 64 << 20

// readSize is the largest chunk commit takes, and the least room a relay
// reads into: a block with less free room is left for a new one.
const readSize = 128 << 10

// maxRead is the most a relay reads at once, straight into the retained
// log's current block (retained.space): a pipe's worth, so that one
// read(2) takes all the app has written, at most what is left of the block.
// Reading into the log instead of a buffer and copying from there spares a
// memmove of every byte (30% of BenchmarkRelay's profile); part of that
// comes back in the kernel's copy, which now lands in memory that is out
// of cache (docs/benchmarks.md, "Relay CPU per GiB against cat").
const maxRead = pipes.Size

// omittedMarker is the line that stands for the bytes dropped between head
// and tail.
func omittedMarker(n int64) []byte {
	return fmt.Appendf(nil, "\n[holdfast: %d bytes omitted]\n", n)
}

// retained is a run's output as kept in memory: the first headCap bytes and
// the last tailCap bytes, in arrival order.
//
// Each stream's relay reads its chunks straight into a block of its own
// stream (space, then commitRead), so that consecutive chunks share one
// entry; commit copies a chunk in instead (holdfast's note, tests). The
// entries keep the order in which chunks were committed, across streams.
// The retained chunk is also what goes to the console (lent to the
// stream's console writer): no byte is copied in user space. A block
// returns to the
// free list once the log has moved on, no entry refers to it and no chunk
// of it is still on its way to the console, unless a reader holds slices
// of the log without the lock (pins > 0); then it is left to the garbage
// collector. Reusing blocks spares zeroing fresh memory for every byte.
type retained struct {
	mu        sync.Mutex
	headCap   int64
	tailCap   int64
	blockSize int
	head      []entry // the first headCap bytes; never trimmed
	headLen   int64
	tail      []entry // the last tailCap bytes
	tailLen   int64
	total     int64     // bytes appended
	cur       [3]*block // by Stream (0: holdfast's note): where its next chunk goes, at curEnd
	curEnd    [3]int
	free      []*block
	pins      int
	follow    map[*follower]struct{}
	ended     bool // no more appends; followers are closed

	why *why // the run's cause extractor; nil when off

	budget  *Budget   // nil: no budget (tests of the log alone)
	held    int64     // bytes counted against budget
	disk    diskState // what output.log holds
	kept    keptState // where the retained output is now
	dropped int64     // retained bytes dropped for memory (kept == keptDropped)
}

// diskState is what a run's output.log holds.
type diskState int

const (
	diskNone   diskState = iota // no output.log: memory is the only copy
	diskLive                    // output.log is being written from memory
	diskDone                    // output.log equals the retained log and is closed
	diskFailed                  // writing output.log failed: it lacks bytes
)

// keptState is where a run's retained output is.
type keptState int

const (
	keptMemory  keptState = iota // in memory (and, per disk, on disk)
	keptDisk                     // memory released: output.log alone has it
	keptDropped                  // dropped for memory; no complete copy anywhere
)

// block is a unit of storage. Its bytes are written once, then only read
// until the block is recycled.
type block struct {
	buf     []byte
	refs    int  // entries referring to it, and chunks lent to a console writer
	retired bool // the log has moved on to another block
}

// entry is a run of retained bytes, buf[off:end] of one block, all from
// stream s (0 for holdfast's own note).
type entry struct {
	b        *block
	off, end int
	s        Stream
}

func (e entry) bytes() []byte { return e.b.buf[e.off:e.end:e.end] }

func newRetained(maxBytes int64) *retained {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	head := maxBytes / 2
	tail := maxBytes - head
	return &retained{
		headCap:   head,
		tailCap:   tail,
		blockSize: blockSizeFor(tail),
		follow:    map[*follower]struct{}{},
	}
}

// blockSizeFor sizes the blocks of a log with a tail of tailCap bytes: a
// short run holds little memory, so small caps get small blocks.
func blockSizeFor(tailCap int64) int {
	return int(min(max(tailCap/8, 4*readSize), 1<<20))
}

// commit retains p (at most readSize bytes, which the caller may reuse at
// once) and returns the retained copy, lent to the caller until it calls
// giveBack with it.
func (r *retained) commit(p []byte) loan { return r.commitFrom(0, p) }

// commitFrom is commit of a chunk of the app's stream s: it also goes to
// the run's cause extractor, in the order of the log.
func (r *retained) commitFrom(s Stream, p []byte) loan {
	r.mu.Lock()
	b, off := r.room(s, len(p))
	copy(b.buf[off:], p)
	l := r.keepLocked(s, len(p))
	r.mu.Unlock()
	if r.budget != nil {
		r.budget.fit()
	}
	return l
}

// space returns where the relay of stream s reads its next chunk to: the
// free end of the stream's current block, at most max bytes and at least
// min(max, readSize). The caller reads into it without the lock (nothing
// else touches a block past its stream's curEnd) and then calls
// commitRead. Reading straight into the log spares a copy of every byte.
func (r *retained) space(s Stream, max int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, off := r.room(s, min(max, readSize))
	end := min(len(b.buf), off+max)
	return b.buf[off:end:end]
}

// commitRead retains the n bytes the relay of stream s read into the
// slice space returned last, and returns them lent as commit does.
func (r *retained) commitRead(s Stream, n int) loan {
	r.mu.Lock()
	l := r.keepLocked(s, n)
	r.mu.Unlock()
	if r.budget != nil {
		r.budget.fit()
	}
	return l
}

// room returns stream s's current block and where its free end starts,
// first moving on to a new block when fewer than n bytes are free. A
// chunk never spans two blocks, so the loan is one slice; this leaves at
// most readSize of a block unused. Caller holds mu.
func (r *retained) room(s Stream, n int) (*block, int) {
	if c := r.cur[s]; c == nil || len(c.buf)-r.curEnd[s] < n {
		if c != nil {
			r.retire(c)
		}
		r.cur[s], r.curEnd[s] = r.newBlock(), 0
	}
	return r.cur[s], r.curEnd[s]
}

// keepLocked retains the n bytes at the free end of stream s's current
// block (room made room for them) and lends them out. Caller holds mu.
func (r *retained) keepLocked(s Stream, n int) loan {
	b, off := r.cur[s], r.curEnd[s]
	p := b.buf[off : off+n : off+n]
	if r.why != nil {
		r.why.write(s, p)
	}
	r.total += int64(n)
	r.curEnd[s] += n
	b.refs++ // the loan
	l := loan{p, b}
	if r.kept != keptMemory {
		p = nil // the loan only: the retained output is elsewhere or gone
	}
	if room := r.headCap - r.headLen; room > 0 && len(p) > 0 {
		k := int(min(room, int64(len(p))))
		r.head = keep(r.head, entry{b, off, off + k, s})
		r.headLen += int64(k)
		p, off = p[k:], off+k
	}
	if len(p) > 0 {
		r.tail = keep(r.tail, entry{b, off, off + len(p), s})
		r.tailLen += int64(len(p))
	}
	r.trim()
	r.account()
	if len(r.follow) > 0 {
		r.sendAll(l.p)
	}
	return l
}

// sendAll queues p for every follower, in pieces of at most readSize, so
// that followBuffer pieces bound what a follower holds however much one
// read took. Followers get their own copy: blocks are recycled. Caller
// holds mu.
func (r *retained) sendAll(p []byte) {
	c := append([]byte(nil), p...)
	for len(c) > 0 {
		n := min(len(c), readSize)
		for f := range r.follow {
			r.send(f, c[:n:n])
		}
		c = c[n:]
	}
}

// loan is a chunk on its way to the console; it lives in b until given back.
type loan struct {
	p []byte
	b *block
}

// giveBack ends a loan.
func (r *retained) giveBack(l loan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l.b.refs--
	r.recycle(l.b)
}

// keep appends e to ents, extending the last entry when e continues it
// (the same block and stream).
func keep(ents []entry, e entry) []entry {
	if n := len(ents); n > 0 && ents[n-1].b == e.b && ents[n-1].end == e.off && ents[n-1].s == e.s {
		ents[n-1].end = e.end
		return ents
	}
	e.b.refs++
	return append(ents, e)
}

// trim drops the oldest tail bytes beyond tailCap.
func (r *retained) trim() {
	for r.tailLen > r.tailCap {
		drop := r.tailLen - r.tailCap
		e := &r.tail[0]
		n := int64(e.end - e.off)
		if drop < n {
			e.off += int(drop)
			r.tailLen -= drop
			return
		}
		r.tailLen -= n
		b := e.b
		r.tail[0] = entry{}
		r.tail = r.tail[1:]
		b.refs--
		r.recycle(b)
	}
}

func (r *retained) newBlock() *block {
	if n := len(r.free); n > 0 {
		b := r.free[n-1]
		r.free = r.free[:n-1]
		*b = block{buf: b.buf}
		return b
	}
	return &block{buf: prefault(make([]byte, r.blockSize))}
}

func (r *retained) retire(b *block) {
	b.retired = true
	r.recycle(b)
}

// recycle keeps b for reuse once nothing can read it.
func (r *retained) recycle(b *block) {
	if b.refs == 0 && b.retired && r.pins == 0 && !r.ended && len(r.free) < 4 {
		r.free = append(r.free, b)
	}
}

// omitted is how many bytes lie between head and tail. Caller holds mu.
func (r *retained) omitted() int64 {
	return r.total - r.headLen - r.tailLen
}

// pieces returns the retained log: head, the marker when bytes were
// omitted, then the tail. Caller holds mu, and holds it until done with the
// pieces or pins them.
func (r *retained) pieces() [][]byte {
	out := make([][]byte, 0, len(r.head)+len(r.tail)+1)
	for _, e := range r.head {
		out = append(out, e.bytes())
	}
	if n := r.omitted(); n > 0 {
		out = append(out, omittedMarker(n))
	}
	for _, e := range r.tail {
		out = append(out, e.bytes())
	}
	return out
}

func (r *retained) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return concat(r.pieces())
}

// snapshot returns the retained log when it is in memory, and where it is.
func (r *retained) snapshot() ([]byte, keptState, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kept != keptMemory {
		return nil, r.kept, r.dropped
	}
	return concat(r.pieces()), keptMemory, 0
}

func concat(pieces [][]byte) []byte {
	n := 0
	for _, p := range pieces {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range pieces {
		out = append(out, p...)
	}
	return out
}

// pinned returns what pick selects under the lock, with the log's blocks
// kept from reuse until unpin is called.
func (r *retained) pinned(pick func() [][]byte) (pieces [][]byte, unpin func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pins++
	return pick(), func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.pins--
	}
}

// rawRange returns the slices holding stream offsets [from, to), or false
// when some of them are no longer retained. Caller holds mu.
func (r *retained) rawRange(from, to int64) ([][]byte, bool) {
	to = min(to, r.total)
	var out [][]byte
	// pick appends the part of ents (stream offsets from pos) in [from, to).
	pick := func(ents []entry, pos int64) {
		for _, e := range ents {
			if pos >= to {
				return
			}
			n := int64(e.end - e.off)
			if from < pos+n {
				lo := int64(e.off) + max(from-pos, 0)
				hi := int64(e.off) + min(to-pos, n)
				out = append(out, e.b.buf[lo:hi:hi])
			}
			pos += n
		}
	}
	pick(r.head, 0)
	tailStart := r.headLen + r.omitted()
	if max(from, r.headLen) < min(to, tailStart) {
		return nil, false // part of the range was dropped
	}
	pick(r.tail, tailStart)
	return out, true
}
