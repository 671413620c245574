package capture

import (
	"bytes"

	"github.com/holdfast-dev/holdfast/cause"
)

// why feeds a run's output to its cause extractor (package cause), chunk
// by chunk in the order of the retained log, and maps the extractor's
// line numbers to those of the retained log (output.log), which may start
// with holdfast's note and lack a middle. The retained log's lock guards
// it.
type why struct {
	e      *cause.Extractor
	note   int  // newlines of holdfast's note before the app's output
	closed bool // the extractor has read its tails
	// Set at close when the log omitted bytes: newlines in the head
	// (with the note), and in the omitted middle.
	omitted       bool
	headNL, midNL int
}

// startWhy gives r a cause extractor. When r's tail holds at least what
// the extractor reads of each stream's tail, the extractor keeps no window
// of its own: at close it takes each stream's tail from r.
func (r *retained) startWhy() {
	if r.tailCap >= cause.TailBytes {
		r.why = &why{e: cause.NewWithTail(r.streamTail)}
	} else {
		r.why = &why{e: cause.New()}
	}
}

// write hands the extractor a chunk of stream s; holdfast's own note (s
// 0) is only counted. Caller holds mu.
func (w *why) write(s Stream, p []byte) {
	switch s {
	case Stdout:
		w.e.Write(cause.Stdout, p)
	case Stderr:
		w.e.Write(cause.Stderr, p)
	default:
		w.note += bytes.Count(p, []byte{'\n'})
	}
}

// streamTail returns the last bytes of stream s that the log holds, at
// most cause.TailBytes, contiguous in the stream: from the tail, and on
// into the head when nothing was omitted between. It is the extractor's
// TailSource, called from its Close with mu held.
func (r *retained) streamTail(s cause.Stream) []byte {
	want := Stdout
	if s == cause.Stderr {
		want = Stderr
	}
	var parts [][]byte
	n := 0
	pick := func(ents []entry) bool {
		for i := len(ents) - 1; i >= 0 && n < cause.TailBytes; i-- {
			if e := ents[i]; e.s == want {
				b := e.bytes()
				b = b[max(0, len(b)-(cause.TailBytes-n)):]
				parts = append(parts, b)
				n += len(b)
			}
		}
		return n < cause.TailBytes
	}
	if pick(r.tail) && r.omitted() == 0 {
		pick(r.head)
	}
	out := make([]byte, 0, n)
	for i := len(parts) - 1; i >= 0; i-- {
		out = append(out, parts[i]...)
	}
	return out
}

// closeWhy ends the extractor's input: it reads the tails, and notes what
// the log omitted for the line numbers. Caller holds mu.
func (r *retained) closeWhy() {
	w := r.why
	if w == nil || w.closed {
		return
	}
	w.e.Close()
	w.closed = true
	if r.omitted() == 0 || r.kept != keptMemory {
		return
	}
	tailNL := 0
	for _, e := range r.head {
		w.headNL += bytes.Count(e.bytes(), []byte{'\n'})
	}
	for _, e := range r.tail {
		tailNL += bytes.Count(e.bytes(), []byte{'\n'})
	}
	w.omitted = true
	w.midNL = max(0, w.note+w.e.Lines()-w.headNL-tailNL)
}

// logLine maps the extractor's line n (of the app's output as it came) to
// the retained log's: after holdfast's note, and past the omitted middle,
// which the marker line stands for (omittedMarker: a line break, then the
// marker's own line). A line in the omitted middle is in no line of the
// log: 0. (The extractor reads each stream's tail; the log keeps the
// tail of both together, which may leave out a quiet stream's end.)
func (w *why) logLine(n int) int {
	if n <= 0 {
		return 0
	}
	n += w.note
	switch {
	case !w.omitted || n <= w.headNL:
		return n
	case n > w.headNL+w.midNL:
		return n - w.midNL + 2
	}
	return 0
}

// closeCause ends the extractor's input, if the run has one.
func (r *retained) closeCause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeWhy()
}

// result is the run's cause (cause.Decide of what the output showed and
// x), its line one of the retained log.
func (r *retained) result(x cause.Exit) *cause.Cause {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.why == nil {
		return cause.Decide(nil, x)
	}
	r.closeWhy()
	c := r.why.e.Result(x)
	if c != nil {
		c.Line = r.why.logLine(c.Line)
	}
	return c
}

// Cause is why the run ended: what its output showed (package cause read
// it as it passed), with the exit facts x, as cause.Decide combines them.
// Its Line is a line of output.log (and of Bytes). Call it once the app
// has exited, after Finish; output that arrives later is not read.
func (r *Run) Cause(x cause.Exit) *cause.Cause { return r.log.result(x) }
