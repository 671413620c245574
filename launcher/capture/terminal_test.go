package capture

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"
)

// testTerminal returns a pty's terminal end and what has been written to
// it so far (read from its master end, with the pty's \r\n line ends).
func testTerminal(t *testing.T) (*os.File, func() string) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("cannot open a pty: %v", err)
	}
	var mu sync.Mutex
	var got bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			got.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		master.Close()
		<-done
	})
	return tty, func() string {
		mu.Lock()
		defer mu.Unlock()
		return got.String()
	}
}

// testSink returns a temp file and a reader of what was written to it.
func testSink(t *testing.T) (*os.File, func() string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "console")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, func() string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// A stream whose console file is a terminal is handed to the app as it is
// (the app's isatty is true for it, as under tini) and is not kept: the
// retained log and output.log start with a note naming it and keep the
// other stream, and the hand-over is logged once however many runs there
// are. Files on both sides are the control: nothing changes.
func TestTerminalPassedThrough(t *testing.T) {
	const (
		outLine = "out: isatty 1=%v 2=%v\n"
		errLine = "err: isatty 1=%v 2=%v\n"
	)
	for _, tc := range []struct {
		name           string
		outTTY, errTTY bool
		note           string
	}{
		{"neither", false, false, ""},
		{"stdout", true, false, "[holdfast: the app's stdout went straight to holdfast's terminal and is not kept]\n"},
		{"stderr", false, true, "[holdfast: the app's stderr went straight to holdfast's terminal and is not kept]\n"},
		{"both", true, true, "[holdfast: the app's stdout and stderr went straight to holdfast's terminal and are not kept]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func(tty bool) (*os.File, func() string) {
				if tty {
					return testTerminal(t)
				}
				return testSink(t)
			}
			outF, seenOut := open(tc.outTTY)
			errF, seenErr := open(tc.errTTY)
			con := NewConsole(outF, errF)
			var logBuf syncBuf
			logger := slog.New(slog.NewTextHandler(&logBuf, nil))

			wantOut := fmt.Sprintf(outLine, tc.outTTY, tc.errTTY)
			wantErr := fmt.Sprintf(errLine, tc.outTTY, tc.errTTY)
			want := tc.note
			if !tc.outTTY {
				want += wantOut
			}
			if !tc.errTTY {
				want += wantErr
			}
			for range 2 { // the log line comes once, the note every run
				logPath := t.TempDir() + "/output.log"
				run, err := Start(Options{Console: con, LogPath: logPath, Logger: logger})
				if err != nil {
					t.Fatal(err)
				}
				cmd := child(t, run, nil, "isatty")
				finish(t, run, cmd)
				// The order of two streams is the order they were read in;
				// with one line each, compare as a set.
				if got := run.Bytes(); !sameLines(string(got), want) {
					t.Errorf("retained log %q; want the lines of %q", got, want)
				}
				if got := readFile(t, logPath); !bytes.Equal(got, run.Bytes()) {
					t.Errorf("output.log %q differs from the retained log %q", got, run.Bytes())
				}
				if got := len(run.Direct()); got != btoi(tc.outTTY)+btoi(tc.errTTY) {
					t.Errorf("Direct() = %v", run.Direct())
				}
			}
			for _, c := range []struct {
				tty  bool
				line string
				seen func() string
			}{{tc.outTTY, wantOut, seenOut}, {tc.errTTY, wantErr, seenErr}} {
				want := c.line
				if c.tty {
					want = strings.ReplaceAll(want, "\n", "\r\n") // the pty's ONLCR
				}
				waitFor(t, "the app's lines on the console", func() bool { return strings.Count(c.seen(), want) == 2 })
			}
			reported := strings.Count(logBuf.String(), "holdfast keeps no copy")
			if tty := tc.outTTY || tc.errTTY; reported != btoi(tty) {
				t.Errorf("the terminal hand-over was logged %d times over two runs; want %d:\n%s", reported, btoi(tty), logBuf.String())
			}
		})
	}
}

func sameLines(a, b string) bool {
	la, lb := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	if len(la) != len(lb) || !strings.HasSuffix(a, "\n") {
		return false
	}
	seen := map[string]int{}
	for _, l := range la {
		seen[l]++
	}
	for _, l := range lb {
		seen[l]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
