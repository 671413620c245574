package cause

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the corpus's golden files (review every change)")

// corpusCase is one output in testdata/corpus: NAME.txt is the output,
// NAME.exit the exit facts (optional, default "code=1"), NAME.golden.json
// the expected cause.
type corpusCase struct {
	name   string
	output []byte
	exit   Exit
	stream Stream
}

// readExit parses NAME.exit: space-separated key=value pairs: code=N,
// signal=N, sent=outside|stop|grace|hang, oom=rose|none, limit=N, peak=N,
// dump=NAME, stream=stdout|stderr|split (split: lines starting "E|" go to
// stderr, "O|" to stdout).
func readExit(t *testing.T, path string) (Exit, Stream) {
	x := Exit{Code: 1}
	s := Stdout
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return x, s
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Fields(string(b)) {
		k, v, _ := strings.Cut(kv, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "code":
			x.Code = n
		case "signal":
			x.Signal, x.Code = syscall.Signal(n), -1
		case "sent":
			x.SentBy = map[string]Sender{"outside": SentByOutside, "stop": SentByStop, "grace": SentByGrace, "hang": SentByHang}[v]
		case "oom":
			x.OOM = map[string]OOMEvidence{"rose": OOMRose, "none": OOMNone}[v]
		case "limit":
			x.MemoryLimit = uint64(n)
		case "peak":
			x.MemoryPeak = uint64(n)
		case "dump":
			x.HeapDumps = append(x.HeapDumps, v)
		case "stream":
			s = map[string]Stream{"stdout": Stdout, "stderr": Stderr, "split": splitStreams}[v]
		default:
			t.Fatalf("%s: unknown key %q", path, k)
		}
	}
	return x, s
}

// splitStreams marks a corpus output whose lines say their stream.
const splitStreams Stream = 9

func loadCorpus(t *testing.T) []corpusCase {
	paths, err := filepath.Glob("testdata/corpus/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cs []corpusCase
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".txt")
		out, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		x, s := readExit(t, strings.TrimSuffix(p, ".txt")+".exit")
		cs = append(cs, corpusCase{name, out, x, s})
	}
	return cs
}

// run feeds the output in chunks of size chunk (0: whole lines) and
// returns the cause.
func (c corpusCase) run(chunk int) *Cause { return c.runWith(New(), chunk, nil) }

// runTailSource is run with an Extractor whose tails come from a
// TailSource that has every byte written.
func (c corpusCase) runTailSource(chunk int) *Cause {
	var written [2][]byte
	e := NewWithTail(func(s Stream) []byte { return written[s] })
	return c.runWith(e, chunk, &written)
}

// runWith feeds the output to e; written, when not nil, records it.
func (c corpusCase) runWith(e *Extractor, chunk int, written *[2][]byte) *Cause {
	feed := func(s Stream, b []byte) {
		if written != nil {
			written[s] = append(written[s], b...)
		}
		if chunk <= 0 {
			e.Write(s, b)
			return
		}
		for len(b) > 0 {
			n := min(chunk, len(b))
			e.Write(s, b[:n])
			b = b[n:]
		}
	}
	if c.stream != splitStreams {
		feed(c.stream, c.output)
	} else {
		for _, ln := range bytes.SplitAfter(c.output, []byte("\n")) {
			switch {
			case bytes.HasPrefix(ln, []byte("E|")):
				feed(Stderr, ln[2:])
			case bytes.HasPrefix(ln, []byte("O|")):
				feed(Stdout, ln[2:])
			default:
				feed(Stdout, ln)
			}
		}
	}
	return e.Result(c.exit)
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 25 {
		t.Errorf("the corpus has %d outputs, want at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.run(0)
			for _, chunk := range []int{1, 7, 4096} {
				if other := c.run(chunk); !equalCause(got, other) {
					t.Errorf("chunks of %d give %+v, whole lines %+v", chunk, other, got)
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			gotJSON := buf.Bytes()
			golden := filepath.Join("testdata/corpus", c.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it, then review it)", err)
			}
			if !bytes.Equal(gotJSON, want) {
				t.Errorf("cause differs from %s:\ngot:\n%s\nwant:\n%s", golden, gotJSON, want)
			}
			if got != nil {
				checkSummary(t, got)
			}
		})
	}
}

func equalCause(a, b *Cause) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// checkSummary checks the summary's form: one line, not too long.
func checkSummary(t *testing.T, c *Cause) {
	t.Helper()
	if c.Summary == "" || len(c.Summary) > MaxSummary || strings.ContainsAny(c.Summary, "\n\r\t") {
		t.Errorf("summary %q: want one non-empty line of at most %d bytes", c.Summary, MaxSummary)
	}
}
