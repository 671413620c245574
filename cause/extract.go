package cause

import (
	"bytes"
)

// Stream is which of the app's streams a chunk came from.
type Stream uint8

const (
	Stdout Stream = 0
	Stderr Stream = 1
)

const (
	// maxLine is the longest line kept whole: room for a JSON log line
	// with its stack trace. The rest of a longer line is dropped.
	maxLine = 64 << 10
	// maxPrev is how much of the line before an exception is kept to read
	// its log level.
	maxPrev = 256
	// maxLastStderr is how much of the last non-empty stderr line is kept.
	maxLastStderr = 512
	// headBytes of each stream are read line by line as they pass: a
	// failed startup is all there. After them, only the last tailBytes
	// are kept (a copy and a newline count per chunk) and read at Close:
	// a late failure is at the end.
	headBytes = 256 << 10
	tailBytes = 128 << 10
	// maxMarks is how many chunk marks the tail keeps for line numbers.
	maxMarks = 1024
)

// rank orders the candidate slots: a higher rank is more specific and
// wins; within a rank the later candidate wins.
type rank int

const (
	rankException rank = iota
	rankLaunch
	rankOOM
	rankCrash
	rankSpring
	nRanks
)

// Extractor reads the app's output as it passes and keeps the best
// candidate cause of the run. Write takes each chunk in the order the
// chunks reach output.log; Close ends the run's output; Best and Result
// read the outcome.
//
// Each stream's first headBytes are read line by line as they pass: one
// partial line is kept (at most maxLine bytes), the work per byte is a
// newline search, and a line costs a few byte comparisons unless it can
// start or continue a candidate. After the head, a chunk is copied into
// the stream's window of its last tailBytes and its newlines counted; the
// window is read at Close. Best before Close has not read the windows.
//
// An Extractor is not safe for concurrent use.
type Extractor struct {
	lines    int // newlines seen in the combined output
	streams  [2]stream
	slots    [nRanks]*Cause
	heapDump string // the last "Dumping heap to" path
	lastErr  []byte // the last non-empty stderr line
	closed   bool
	tailSrc  TailSource // nil: the Extractor keeps its own windows
}

// TailBytes is the most of a stream's tail the Extractor reads at Close:
// a TailSource need not return more.
const TailBytes = tailBytes

// TailSource returns the last bytes the app wrote to stream s (any
// length; the Extractor reads at most the last tailBytes). A relay that
// keeps the run's output in memory anyway can give the Extractor its
// tail this way at Close, and the Extractor then copies nothing after the
// head: it only counts newlines.
type TailSource func(s Stream) []byte

type stream struct {
	seen int64 // bytes of the stream so far
	// tail: the head is over. ring holds the last tailBytes of the
	// stream (ring[i%tailBytes] is byte i), from tailFrom on; marks say
	// where chunks began, for line numbers.
	tail     bool
	tailFrom int64
	tailMid  bool // the head ended inside a line
	ring     []byte
	marks    []mark
	nMarks   int // marks ever added; marks[i%maxMarks]

	partial   bool   // a line has begun and not yet ended
	carry     []byte // its bytes so far, at most maxLine
	carryLine int    // its line number: where its longest piece begins
	carryLong int    // the length of that piece
	p         parser
	// lastErr is the last non-empty line of this Write when it is still
	// a slice of the caller's chunk.
	lastErr []byte
}

// mark says that the chunk starting at byte off of a stream followed
// lines newlines of the combined output.
type mark struct {
	off   int64
	lines int
}

// New returns an Extractor for one run.
func New() *Extractor {
	e := &Extractor{}
	for i := range e.streams {
		e.streams[i].p.prevBuf = make([]byte, 0, maxPrev)
	}
	return e
}

// NewWithTail returns an Extractor that keeps no window of its own: at
// Close it reads each stream's tail from src.
func NewWithTail(src TailSource) *Extractor {
	e := New()
	e.tailSrc = src
	return e
}

// Write reads one chunk of stream s. It never keeps p.
func (e *Extractor) Write(s Stream, p []byte) {
	if e.closed || int(s) >= len(e.streams) {
		return
	}
	st := &e.streams[s]
	if st.tail || st.seen >= headBytes {
		e.keepTail(st, p)
		return
	}
	st.seen += int64(len(p))
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if st.partial {
			// A line written in pieces, with the other stream's lines in
			// between, is split over lines of the combined output (a
			// JVM's 'Exception in thread "main" ', then its stdout, then
			// the exception): its number is where its longest piece
			// begins.
			piece := p
			if i >= 0 {
				piece = p[:i]
			}
			if len(piece) > st.carryLong {
				st.carryLine, st.carryLong = e.lines+1, len(piece)
			}
			if i < 0 {
				st.add(p)
				break
			}
			st.add(p[:i])
			e.lines++
			st.partial = false
			e.line(st, s, st.carry, st.carryLine, true)
			st.carry = st.carry[:0]
			p = p[i+1:]
			continue
		}
		if i < 0 {
			st.partial = true
			st.carryLine, st.carryLong = e.lines+1, len(p)
			st.add(p)
			break
		}
		e.lines++
		e.line(st, s, p[:i], e.lines, false)
		p = p[i+1:]
	}
	// Nothing may point into p after Write returns.
	st.p.keepPrev()
	if st.lastErr != nil {
		e.setLastErr(st.lastErr)
		st.lastErr = nil
	}
}

// keepTail copies a chunk past the head into the stream's window.
func (e *Extractor) keepTail(st *stream, p []byte) {
	if !st.tail {
		st.tail, st.tailFrom = true, st.seen
		if e.tailSrc == nil {
			st.ring = make([]byte, tailBytes)
		}
		st.marks = make([]mark, maxMarks)
		st.p.end(e) // what the head left open; its partial line is dropped
		st.tailMid = st.partial
		st.partial, st.carry = false, nil
	}
	st.mark(st.seen, e.lines)
	if drop := len(p) - tailBytes; drop > 0 {
		// Only the chunk's last tailBytes stay: mark where they start.
		e.lines += bytes.Count(p[:drop], []byte{'\n'})
		st.seen += int64(drop)
		p = p[drop:]
		st.mark(st.seen, e.lines)
	}
	e.lines += bytes.Count(p, []byte{'\n'})
	if st.ring == nil {
		st.seen += int64(len(p))
		return
	}
	at := int(st.seen % tailBytes)
	n := copy(st.ring[at:], p)
	copy(st.ring, p[n:])
	st.seen += int64(len(p))
}

func (st *stream) mark(off int64, lines int) {
	st.marks[st.nMarks%maxMarks] = mark{off, lines}
	st.nMarks++
}

// readTail reads the stream's window, line by line, with a parser of its
// own; it runs once, at Close.
func (e *Extractor) readTail(s Stream, st *stream) {
	w, from := e.window(s, st)
	pos := 0
	if from > st.tailFrom || st.tailMid {
		// The window starts inside a line (or after the head's partial
		// line, which was dropped): skip to the next.
		if i := bytes.IndexByte(w, '\n'); i >= 0 {
			pos = i + 1
		} else {
			return
		}
	}
	p := parser{prevBuf: make([]byte, 0, maxPrev)}
	first := max(0, st.nMarks-maxMarks)
	mi := -1 // the mark at or before pos, -1 when none is kept
	count := 0
	for pos < len(w) {
		off := from + int64(pos)
		for mi+1 < st.nMarks-first && st.marks[(first+mi+1)%maxMarks].off <= off {
			mi++
			m := st.marks[(first+mi)%maxMarks]
			count = bytes.Count(w[max(0, int(m.off-from)):pos], []byte{'\n'})
		}
		end := bytes.IndexByte(w[pos:], '\n')
		line := w[pos:]
		if end >= 0 {
			line = w[pos : pos+end]
		}
		n := 0
		if mi >= 0 {
			n = st.marks[(first+mi)%maxMarks].lines + count + 1
		}
		if len(line) > maxLine {
			line = line[:maxLine]
		}
		e.lineWith(&p, s, line, n)
		if end < 0 {
			break
		}
		pos += end + 1
		count++
	}
	p.end(e)
}

// window is the stream's tail to read: its last bytes, at most tailBytes,
// not before tailFrom, and the stream offset where they start.
func (e *Extractor) window(s Stream, st *stream) (w []byte, from int64) {
	if e.tailSrc != nil {
		w = e.tailSrc(s)
		w = w[max(0, len(w)-tailBytes):]
		if int64(len(w)) > st.seen-st.tailFrom {
			w = w[int64(len(w))-(st.seen-st.tailFrom):]
		}
		return w, st.seen - int64(len(w))
	}
	from = max(st.tailFrom, st.seen-tailBytes)
	w = make([]byte, 0, st.seen-from)
	at := int(from % tailBytes)
	if end := at + int(st.seen-from); end <= tailBytes {
		w = append(w, st.ring[at:end]...)
	} else {
		w = append(append(w, st.ring[at:]...), st.ring[:end-tailBytes]...)
	}
	st.ring = nil
	return w, from
}

// lineWith reads a line of a window with parser p.
func (e *Extractor) lineWith(p *parser, s Stream, b []byte, n int) {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	if s == Stderr && !blank(b) {
		e.setLastErr(b)
	}
	p.line(e, b, n)
}

func (st *stream) add(b []byte) {
	if room := maxLine - len(st.carry); len(b) > room {
		b = b[:room]
	}
	if need := len(st.carry) + len(b); need > cap(st.carry) {
		grown := make([]byte, len(st.carry), min(max(need, 2*cap(st.carry), 256), maxLine))
		copy(grown, st.carry)
		st.carry = grown
	}
	st.carry = append(st.carry, b...)
}

// line handles one complete line. owned says b is the stream's carry,
// which is reused after the call.
func (e *Extractor) line(st *stream, s Stream, b []byte, n int, owned bool) {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	if s == Stderr && !blank(b) {
		if owned {
			e.setLastErr(b)
			st.lastErr = nil
		} else {
			st.lastErr = b
		}
	}
	st.p.line(e, b, n)
	if owned {
		st.p.keepPrev()
	}
}

func (e *Extractor) setLastErr(b []byte) {
	if len(b) > maxLastStderr {
		b = b[:maxLastStderr]
	}
	e.lastErr = append(e.lastErr[:0], b...)
}

// Close ends the run's output: a last line without a newline is read, and
// a block still open (a stack trace, a failure analysis) is finished.
// Write after Close does nothing.
func (e *Extractor) Close() {
	if e.closed {
		return
	}
	for i := range e.streams {
		st := &e.streams[i]
		if st.tail {
			e.readTail(Stream(i), st)
			continue
		}
		if st.partial {
			st.partial = false
			e.line(st, Stream(i), st.carry, st.carryLine, true)
			st.carry = st.carry[:0]
		}
		st.p.end(e)
	}
	e.closed = true
}

// Lines is how many lines the combined output has had so far.
func (e *Extractor) Lines() int { return e.lines }

// LastStderr is the last non-empty line the app wrote to stderr.
func (e *Extractor) LastStderr() string { return string(e.lastErr) }

// Best is the best candidate so far, or nil: the most specific rule that
// matched, and of those the latest. The result is a copy. A candidate is
// not yet a cause: an app that is still running, or exits 0, has none;
// Result (at the run's end) decides.
func (e *Extractor) Best() *Cause {
	for r := nRanks - 1; r >= 0; r-- {
		if c := e.slots[r]; c != nil {
			out := *c
			if r == rankOOM && out.HeapDump == "" {
				out.HeapDump = e.heapDump
			}
			return &out
		}
	}
	return nil
}

// HeapDump is the path of the last heap dump the JVM said it was writing.
func (e *Extractor) HeapDump() string { return e.heapDump }

// Footprint is the memory the Extractor holds, in bytes: its buffers'
// capacities and its candidates' strings. It is what stays bounded.
func (e *Extractor) Footprint() int {
	n := cap(e.lastErr) + len(e.heapDump)
	for i := range e.streams {
		st := &e.streams[i]
		n += cap(st.carry) + cap(st.ring) + cap(st.marks)*16 + st.p.footprint()
	}
	for _, c := range e.slots {
		if c != nil {
			n += c.size()
		}
	}
	return n
}

func (c *Cause) size() int {
	return len(c.Summary) + len(c.Exception) + len(c.Message) + len(c.Frame) +
		len(c.Description) + len(c.Action) + len(c.HeapDump) + len(c.HsErr) + 128
}

// offer records c as the candidate of rank r; it replaces one from an
// earlier line. A candidate whose evidence had nothing printable (its
// summary cleaned to "") is no candidate: the exit facts speak instead.
func (e *Extractor) offer(r rank, c *Cause) {
	if c.Summary == "" {
		return
	}
	if old := e.slots[r]; old != nil && c.Line < old.Line {
		return
	}
	e.slots[r] = c
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
