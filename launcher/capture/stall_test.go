package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/testutil"
)

// stuckPipe returns a pipe of one page that nobody reads yet.
func stuckPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	// F_SETPIPE_SZ rounds up to one page: the console stalls at once.
	if _, err := unix.FcntlInt(r.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	return r, w
}

type countWriter struct{ n *atomic.Int64 }

func (c countWriter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

// While holdfast's stdout is stalled, the app's stdout and stderr are still
// retained in the order the app wrote them: each line is acknowledged only
// once it is in the retained log. A relay that read only as fast as the
// console took the bytes would never retain the second stdout line, and
// this test would time out.
func TestStalledConsoleKeepsOrder(t *testing.T) {
	drain, out := stuckPipe(t)
	errF, err := os.Create(t.TempDir() + "/stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errF.Close()
	logPath := t.TempDir() + "/output.log"
	run, ackR, ackW := startWithAck(t, Options{Console: NewConsole(out, errF), LogPath: logPath})
	defer ackW.Close()
	_, chunks := run.Follow(context.Background())
	const prefill, rounds = 8192, 4 // two pages: the console writer blocks
	cmd := child(t, run, ackR, "prefill-pingpong", strconv.Itoa(prefill), strconv.Itoa(rounds))
	ackR.Close()

	want := bytes.Repeat([]byte{'p'}, prefill)
	var got []byte
	for len(got) < prefill {
		got = append(got, next(t, chunks)...)
	}
	ackW.Write([]byte{1})
	for i := range rounds {
		for _, name := range []string{"/dev/stdout", "/dev/stderr"} {
			line := fmt.Sprintf("%s %d\n", name, i)
			want = append(want, line...)
			c := next(t, chunks)
			if string(c) != line {
				t.Fatalf("retained %q, want %q", c, line)
			}
			ackW.Write([]byte{1})
		}
	}
	var console testutil.Buffer
	go io.Copy(&console, drain)
	finish(t, run, cmd)
	if got := readFile(t, logPath); !bytes.Equal(got, want) {
		t.Errorf("output.log %q, want %q", got, want)
	}
	waitFor(t, "the console to get all of stdout", func() bool {
		return console.String() == strings.Repeat("p", prefill)+
			"/dev/stdout 0\n/dev/stdout 1\n/dev/stdout 2\n/dev/stdout 3\n"
	})
}

// A stalled stdout holds the app back once the relay's backlog is full:
// what the relay keeps for the console is bounded, and nothing is lost.
func TestStalledConsoleBackpressure(t *testing.T) {
	drain, out := stuckPipe(t)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	run, err := Start(Options{Console: NewConsole(out, null)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64 << 20
	cmd := child(t, run, nil, "bulk", strconv.Itoa(n))
	waitFor(t, "the app to block writing its stdout", func() bool {
		return blockedWriting(cmd.Process.Pid, 1)
	})
	// The app's pipe, the backlog, the chunk being written and the one the
	// reader holds.
	bound := int64(pipeSize + (relayBacklog+2)*readSize)
	if got := run.Total(Stdout); got > bound {
		t.Errorf("relay took %d bytes from a stalled app, want <= %d", got, bound)
	}
	var got atomic.Int64
	go io.Copy(countWriter{&got}, drain)
	finish(t, run, cmd)
	waitFor(t, "all bytes at the console", func() bool { return got.Load() == n })
}

// next receives a chunk within 30 s.
func next(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("follow channel closed")
		}
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("no chunk retained within 30 s")
	}
	return nil
}

// blockedWriting reports whether a thread of pid sits in write(2) on fd.
func blockedWriting(pid, fd int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		// "1 0x1 ...": syscall 1 is write(2) on x86-64, then its arguments.
		if f := strings.Fields(string(b)); len(f) > 1 && f[0] == strconv.Itoa(unix.SYS_WRITE) && f[1] == fmt.Sprintf("0x%x", fd) {
			return true
		}
	}
	return false
}

// Finish gives up on a stalled console, but the app's output is still on its
// way there: Drain waits for all of it, so holdfast can exit without dropping
// the end of the app's output. The wait that times out while nobody reads is
// the negative control: a Drain that returned at once would pass the rest of
// the test only by luck, and fail that check.
func TestDrainWaitsForTheConsole(t *testing.T) {
	drain, out := stuckPipe(t)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	con := NewConsole(out, null)
	run, err := Start(Options{Console: con})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1 << 20 // far more than the stuck pipe holds
	cmd := child(t, run, nil, "bulk", strconv.Itoa(n))
	// The app has written it all and exited: its bytes are in its pipe, in
	// the relay's backlog and in the stuck console.
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := run.Finish(short); err == nil {
		t.Fatal("Finish returned nil with the console stalled and chunks still queued")
	}
	if err := con.Drain(short); err == nil {
		t.Fatal("Drain returned nil while the console is stalled")
	}

	var got atomic.Int64
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(countWriter{&got}, drain)
		read <- err
	}()
	ctx, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if err := con.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	out.Close() // what holdfast's exit does to its stdout
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if got.Load() != n {
		t.Errorf("the console got %d bytes after Drain, want all %d", got.Load(), n)
	}
}
