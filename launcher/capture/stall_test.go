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

	"github.com/holdfast-dev/holdfast/internal/pipes"
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

// stalledConsole returns a console whose stdout, out, nobody reads yet
// (read it from drain to unstall it) and whose stderr is /dev/null.
func stalledConsole(t *testing.T) (drain, out *os.File, con *Console) {
	t.Helper()
	drain, out = stuckPipe(t)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	return drain, out, NewConsole(out, null)
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
	drain, _, con := stalledConsole(t)
	run, err := Start(Options{Console: con})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64 << 20
	cmd := child(t, run, nil, "bulk", strconv.Itoa(n))
	waitFor(t, "the app to block writing its stdout", func() bool {
		return blockedWriting(cmd.Process.Pid, 1)
	})
	// The app's pipe, the backlog (and the chunk that filled it), the chunk
	// being written and the one the reader holds.
	bound := int64(pipes.Size + relayBacklog + 3*maxRead)
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
	drain, out, con := stalledConsole(t)
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

// When Finish gives up on a stalled console, what the app wrote is partly
// still in its pipe: the reader was waiting for room in its queue. Finish
// has the readers take it then, so output.log has all the app wrote. A
// quiet pipe that something else still holds open (a grandchild) must not
// hold that up: its reader, asleep in read(2), is woken and found caught up.
// The run with noHurry is the negative control: the same stall then leaves
// output.log without the end.
func TestFinishTakesWhatThePipeHolds(t *testing.T) {
	for _, hurry := range []bool{true, false} {
		t.Run(fmt.Sprintf("hurry=%v", hurry), func(t *testing.T) {
			drain, _, con := stalledConsole(t)
			logPath := filepath.Join(t.TempDir(), "output.log")
			run, err := Start(Options{Console: con, LogPath: logPath})
			if err != nil {
				t.Fatal(err)
			}
			run.noHurry = !hurry
			// A grandchild's copy of the stderr pipe: it stays open and quiet.
			held, err := unix.Dup(int(run.StderrW.Fd()))
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(held)

			// Fill the relay until its reader waits for the stuck console.
			var want []byte
			piece := make([]byte, 64<<10)
			outR := run.pipes[Stdout]
			for i := 0; ; i++ {
				waitFor(t, "the reader to take the pipe's bytes or wait for the console", func() bool {
					outR.mu.Lock()
					defer outR.mu.Unlock()
					return outR.waiting || pipeBytes(outR.p) == 0
				})
				outR.mu.Lock()
				full := outR.waiting
				outR.mu.Unlock()
				if full {
					break
				}
				if i > 100 {
					t.Fatal("the reader never waited for the stuck console")
				}
				for j := range piece {
					piece[j] = byte('a' + i%26)
				}
				if _, err := run.StdoutW.Write(piece); err != nil {
					t.Fatal(err)
				}
				want = append(want, piece...)
			}
			// The end of the app's output: it fits in the pipe at once.
			tail := bytes.Repeat([]byte("the end\n"), 32<<10)
			if _, err := run.StdoutW.Write(tail); err != nil {
				t.Fatal(err)
			}
			want = append(want, tail...)
			run.CloseWriters() // the app exited
			if n := pipeBytes(outR.p); n < len(tail) {
				t.Fatalf("the pipe holds %d bytes, want at least the tail's %d", n, len(tail))
			}

			short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if err := run.Finish(short); err == nil {
				t.Fatal("Finish returned nil with the console stalled")
			}
			got := readFile(t, logPath)
			if hurry {
				if !bytes.Equal(got, want) {
					t.Errorf("output.log has %d bytes, want all %d the app wrote", len(got), len(want))
				}
				select {
				case <-run.pipes[Stderr].caught:
				default:
					t.Error("Finish returned before the quiet stderr reader was found caught up")
				}
			} else if len(got) >= len(want) || !bytes.Equal(got, want[:len(got)]) {
				t.Errorf("control: output.log has %d bytes, want a prefix shorter than %d", len(got), len(want))
			}

			// Everything still reaches the console, in order.
			var console testutil.Buffer
			go io.Copy(&console, drain)
			unix.Close(held)
			ctx, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel2()
			if err := con.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the console to get all of stdout", func() bool { return len(console.String()) == len(want) })
			if console.String() != string(want) {
				t.Error("the console got other bytes than the app wrote")
			}
		})
	}
}
