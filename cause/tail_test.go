package cause

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// noise is n lines of a busy service's INFO output.
func noise(lines int) []byte {
	var b bytes.Buffer
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "2026-12-06T10:00:00.%03dZ  INFO 1 --- [nio-8080-exec-%d] c.e.orders.web.OrdersController          : GET /orders/%d 200\n", i%1000, i%10, i)
	}
	return b.Bytes()
}

// TestCorpusAfterLongOutput runs every corpus output after more noise
// than the head holds, so that its failure is read from the tail: the
// cause must be the same, its line moved by the noise.
func TestCorpusAfterLongOutput(t *testing.T) {
	const lines = 4000 // about 500 KiB, past headBytes on each stream
	pre := noise(lines)
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			want := c.run(0)
			long := c
			if c.stream == splitStreams {
				var b bytes.Buffer
				for _, ln := range bytes.SplitAfter(pre, []byte("\n")) {
					if len(ln) > 0 {
						b.WriteString("O|")
						b.Write(ln)
					}
				}
				for _, ln := range bytes.SplitAfter(pre, []byte("\n")) {
					if len(ln) > 0 {
						b.WriteString("E|")
						b.Write(ln)
					}
				}
				long.output = append(b.Bytes(), c.output...)
			} else {
				long.output = append(append([]byte{}, pre...), c.output...)
			}
			for _, chunk := range []int{0, 4096, -4096} {
				var got *Cause
				if chunk < 0 {
					got = long.runTailSource(-chunk) // the tail from a TailSource
				} else {
					got = long.run(chunk)
				}
				if want == nil || got == nil {
					if want != got {
						t.Fatalf("chunks of %d: got %+v, want %+v", chunk, got, want)
					}
					continue
				}
				w := *want
				if w.Line > 0 {
					w.Line += lines
					if c.stream == splitStreams {
						w.Line += lines
					}
				}
				if *got != w {
					t.Errorf("chunks of %d:\ngot  %+v\nwant %+v", chunk, *got, w)
				}
			}
		})
	}
}

func TestTailLineNumbersInterleaved(t *testing.T) {
	e := New()
	out, errs := noise(3000), noise(3000)
	for len(out) > 0 || len(errs) > 0 {
		n := min(1000, len(out))
		e.Write(Stdout, out[:n])
		out = out[n:]
		m := min(700, len(errs))
		e.Write(Stderr, errs[:m])
		errs = errs[m:]
	}
	before := e.Lines()
	e.Write(Stdout, []byte("Terminating due to java.lang.OutOfMemoryError: Java heap space\n"))
	e.Write(Stderr, []byte("after\n"))
	c := e.Result(Exit{Code: 3})
	if c == nil || c.Kind != OOMHeap || c.Line != before+1 {
		t.Fatalf("got %+v, want oom-heap at line %d", c, before+1)
	}
	if e.LastStderr() != "after" {
		t.Errorf("last stderr %q", e.LastStderr())
	}
}

// TestMiddleIsNotRead documents the trade: evidence after the head and
// before the tail is not read. A heap dump in the run directory still
// names an OOM.
func TestMiddleIsNotRead(t *testing.T) {
	e := New()
	e.Write(Stdout, noise(4000))
	e.Write(Stdout, []byte(`Exception in thread "worker-3" java.lang.OutOfMemoryError: Java heap space`+"\n"))
	e.Write(Stdout, noise(4000))
	if c := e.Result(Exit{Code: 1}); c.Kind != ExitCode || !strings.Contains(c.Summary, "no cause recognised") {
		t.Fatalf("got %+v, want an unrecognised exit", c)
	}
}

// TestTailBigChunk passes a chunk larger than the window after the head:
// line numbers still count the part of it that was not kept.
func TestTailBigChunk(t *testing.T) {
	var all []byte
	for _, e := range []*Extractor{New(), NewWithTail(func(Stream) []byte { return all })} {
		all = nil
		tailBigChunk(t, e, &all)
	}
}

func tailBigChunk(t *testing.T, e *Extractor, all *[]byte) {
	head := noise(3000) // past headBytes
	e.Write(Stdout, head)
	big := append(noise(4000), []byte("Error: Unable to access jarfile /app/x.jar\n")...)
	e.Write(Stdout, big)
	*all = append(append(*all, head...), big...)
	c := e.Result(Exit{Code: 1})
	if c == nil || c.Kind != JVMLaunch || c.Line != 7001 {
		t.Fatalf("got %+v, want jvm-launch at line 7001", c)
	}
}
