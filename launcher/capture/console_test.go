package capture

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/pipes"
	"github.com/holdfast-dev/holdfast/internal/testutil"
)

func flush(t *testing.T, c *Console) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// The app writes "abc", holdfast logs a line, the app writes "def\n": the
// line waits for the app's newline. With the rule off (the negative
// control) the same sequence splits the app's line.
func TestLineRule(t *testing.T) {
	for _, rule := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[rule], func(t *testing.T) {
			con, _, stderr := testConsole(t)
			con.lineWait = time.Minute // only the app's newline may release the line
			con.splitLines = !rule
			run, ackR, ackW := startWithAck(t, Options{Console: con})
			defer ackW.Close()
			cmd := child(t, run, ackR, "partial")
			ackR.Close()
			waitFor(t, `"abc" on stderr`, func() bool { return bytes.Equal(stderr(), []byte("abc")) })
			con.LogWriter().Write([]byte("level=INFO msg=hello\n"))
			if !rule {
				flush(t, con) // let the line out before the app goes on
			}
			ackW.Write([]byte{1, 1})
			finish(t, run, cmd)
			flush(t, con)

			want := "abcdef\nlevel=INFO msg=hello\n"
			if !rule {
				want = "abclevel=INFO msg=hello\ndef\n"
			}
			if got := string(stderr()); got != want {
				t.Errorf("stderr %q, want %q", got, want)
			}
			if got := string(run.Bytes()); got != "abcdef\n" {
				t.Errorf("retained %q: holdfast's lines must not enter the app's log", got)
			}
		})
	}
}

// When the app does not finish its line, the log line goes out after the
// deadline on a line of its own; the app's bytes are untouched.
func TestLineRuleDeadline(t *testing.T) {
	con, _, stderr := testConsole(t)
	con.lineWait = 20 * time.Millisecond
	run, ackR, ackW := startWithAck(t, Options{Console: con})
	defer ackW.Close()
	cmd := child(t, run, ackR, "partial")
	ackR.Close()
	waitFor(t, `"abc" on stderr`, func() bool { return bytes.Equal(stderr(), []byte("abc")) })
	start := time.Now()
	con.LogWriter().Write([]byte("msg=one\nmsg=two\n"))
	flush(t, con) // returns once the deadline let the lines out
	if waited := time.Since(start); waited < con.lineWait {
		t.Errorf("log lines went out after %v, before the %v deadline", waited, con.lineWait)
	}
	ackW.Write([]byte{1, 1})
	finish(t, run, cmd)
	flush(t, con)
	if got, want := string(stderr()), "abc\nmsg=one\nmsg=two\ndef\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// Waiting lines go right after the newline that ends the app's line, even
// inside a chunk; lines logged between app lines go out at once.
func TestLineRuleInsideChunk(t *testing.T) {
	con, _, stderr := testConsole(t)
	con.lineWait = time.Minute
	log := con.LogWriter()
	log.Write([]byte("L1\n"))
	flush(t, con) // not mid-line: no wait
	con.writeApp(Stderr, []byte("abc"))
	log.Write([]byte("L2\n"))
	log.Write(nil)
	con.writeApp(Stderr, []byte("def\nghi"))
	con.writeApp(Stderr, []byte("\n"))
	log.Write([]byte("L3 without newline"))
	con.writeApp(Stderr, []byte("jkl\n"))
	flush(t, con)
	if got, want := string(stderr()), "L1\nabcdef\nL2\nghi\nL3 without newline\njkl\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// LogWriter never blocks on a stuck stderr; what does not fit is counted
// and reported once stderr moves again.
func TestLogWriterNeverBlocks(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	con := NewConsole(w, w)
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 4 * maxQueued / len(line) { // 4 MiB: the pipe holds 64 KiB
			con.LogWriter().Write(line)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("LogWriter blocked on a stuck stderr")
	}
	var got testutil.Buffer
	go io.Copy(&got, r) // unstick stderr
	flush(t, con)
	waitFor(t, "the dropped-lines marker", func() bool {
		return strings.Contains(got.String(), "log lines dropped: stderr is blocked]")
	})
}

// holdfast's stdout and stderr, when pipes of the kernel's default size,
// are grown to a pipe's worth of the relay's reads; a pipe someone sized
// (the control) and a file are left as they are.
func TestConsoleGrowsDefaultPipes(t *testing.T) {
	pipe := func(size int) (r, w *os.File) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		if size != 0 {
			if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, size); err != nil {
				t.Fatal(err)
			}
		}
		return r, w
	}
	sizeOf := func(f *os.File) int {
		n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	_, out := pipe(0)
	_, sized := pipe(4096)
	if got := sizeOf(out); got != pipes.Default {
		t.Fatalf("a new pipe holds %d bytes, want the default %d", got, pipes.Default)
	}
	NewConsole(out, sized)
	if got := sizeOf(out); got != pipes.Size {
		t.Errorf("stdout, a default pipe, holds %d bytes after NewConsole, want %d", got, pipes.Size)
	}
	if got := sizeOf(sized); got != 4096 {
		t.Errorf("stderr, a pipe sized to 4096, holds %d bytes after NewConsole, want it left alone", got)
	}
	file, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	NewConsole(file, file) // not a pipe: nothing to do, nothing to fail
}
