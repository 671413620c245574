package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Random binary data on both streams at once reaches the console byte for
// byte, and output.log holds each stream's bytes in order.
func TestPassThroughBinary(t *testing.T) {
	con, stdout, stderr := testConsole(t)
	logPath := t.TempDir() + "/output.log"
	var counted [3]atomic.Int64
	run, err := Start(Options{
		Console: con,
		LogPath: logPath,
		OnBytes: func(s Stream, n int) { counted[s].Add(int64(n)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	const nOut, nErr, seed = 6 << 20, 3 << 20, 42
	cmd := child(t, run, nil, "streams", strconv.Itoa(nOut), strconv.Itoa(nErr), strconv.Itoa(seed))
	finish(t, run, cmd)

	wantOut, wantErr := streamData(Stdout, seed, nOut), streamData(Stderr, seed, nErr)
	if got := stdout(); sum(got) != sum(wantOut) {
		t.Errorf("console stdout: %d bytes, sha256 %s; want %d bytes, %s", len(got), sum(got), nOut, sum(wantOut))
	}
	if got := stderr(); sum(got) != sum(wantErr) {
		t.Errorf("console stderr: %d bytes, sha256 %s; want %d bytes, %s", len(got), sum(got), nErr, sum(wantErr))
	}
	file := readFile(t, logPath)
	if !bytes.Equal(file, run.Bytes()) {
		t.Errorf("output.log (%d bytes) differs from Bytes (%d bytes)", len(file), len(run.Bytes()))
	}
	gotOut, gotErr := splitStreams(file)
	if sum(gotOut) != sum(wantOut) || sum(gotErr) != sum(wantErr) {
		t.Errorf("output.log: stdout %d bytes (want %d), stderr %d bytes (want %d), or their order differs",
			len(gotOut), nOut, len(gotErr), nErr)
	}
	for s, n := range map[Stream]int64{Stdout: nOut, Stderr: nErr} {
		if run.Total(s) != n || counted[s].Load() != n {
			t.Errorf("%s: Total %d, OnBytes %d; want %d", s, run.Total(s), counted[s].Load(), n)
		}
	}
}

// Alternating writes, each acknowledged once it arrived, land in output.log
// in that order; the file grows while the run goes on.
func TestInterleaveArrivalOrder(t *testing.T) {
	con, stdout, stderr := testConsole(t)
	logPath := t.TempDir() + "/output.log"
	run, ackR, ackW := startWithAck(t, Options{Console: con, LogPath: logPath})
	defer ackW.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, chunks := run.Follow(ctx)
	const rounds = 40
	cmd := child(t, run, ackR, "pingpong", strconv.Itoa(rounds))
	ackR.Close()

	var want, wantOut, wantErr bytes.Buffer
	for i := range rounds {
		fmt.Fprintf(&want, "/dev/stdout %d\n/dev/stderr %d\n", i, i)
		fmt.Fprintf(&wantOut, "/dev/stdout %d\n", i)
		fmt.Fprintf(&wantErr, "/dev/stderr %d\n", i)
	}
	for i := 0; i < 2*rounds; i++ {
		if _, ok := <-chunks; !ok {
			t.Fatalf("follow channel closed after %d chunks", i)
		}
		if i == 2*rounds-1 { // the app waits: output.log must have it all already
			waitFor(t, "output.log to hold the whole run", func() bool {
				b, _ := os.ReadFile(logPath)
				return bytes.Equal(b, want.Bytes())
			})
		}
		ackW.Write([]byte{1})
	}
	finish(t, run, cmd)
	if got := readFile(t, logPath); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("output.log:\n%s\nwant:\n%s", got, want.Bytes())
	}
	if !bytes.Equal(stdout(), wantOut.Bytes()) || !bytes.Equal(stderr(), wantErr.Bytes()) {
		t.Errorf("console streams mixed:\nstdout %q\nstderr %q", stdout(), stderr())
	}
}

// wantCapped is what a run of the bulk stream of n bytes retains under cap.
func wantCapped(n, maxBytes int64) []byte {
	head, tail := maxBytes/2, maxBytes-maxBytes/2
	if n <= maxBytes {
		b := make([]byte, n)
		bulkAt(0, b)
		return b
	}
	h, tl := make([]byte, head), make([]byte, tail)
	bulkAt(0, h)
	bulkAt(n-tail, tl)
	return append(append(h, omittedMarker(n-maxBytes)...), tl...)
}

// Over the cap the head and the tail are kept exactly, with one marker
// between them, in memory and in output.log.
func TestOverCap(t *testing.T) {
	for _, n := range []int64{1 << 20, 5<<20 + 12345} {
		t.Run(strconv.FormatInt(n, 10), func(t *testing.T) {
			con, stdout, _ := testConsole(t)
			logPath := t.TempDir() + "/output.log"
			const maxBytes = 1 << 20
			run, err := Start(Options{Console: con, LogPath: logPath, MaxBytes: maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			cmd := child(t, run, nil, "bulk", strconv.FormatInt(n, 10))
			finish(t, run, cmd)

			want := wantCapped(n, maxBytes)
			got := run.Bytes()
			if !bytes.Equal(got, want) {
				t.Errorf("Bytes: %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			marker := bytes.Count(got, []byte("[holdfast: "))
			if wantMarker := map[bool]int{true: 1, false: 0}[n > maxBytes]; marker != wantMarker {
				t.Errorf("%d markers, want %d", marker, wantMarker)
			}
			if file := readFile(t, logPath); !bytes.Equal(file, got) {
				t.Errorf("output.log: %d bytes, Bytes %d; first difference at %d", len(file), len(got), firstDiff(file, got))
			}
			if int64(len(stdout())) != n {
				t.Errorf("console got %d bytes, want %d", len(stdout()), n)
			}
		})
	}
}

//go:norace
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A gigabyte without a newline passes through intact, at the default cap.
func TestLargeNoNewline(t *testing.T) {
	n := int64(1 << 30)
	if testing.Short() || raceEnabled {
		n = 96 << 20
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The console's stdout is a pipe; a reader compares it as it comes.
	checked := make(chan error, 1)
	go func() {
		defer r.Close()
		buf, want := make([]byte, 256<<10), make([]byte, 256<<10)
		var off int64
		for {
			k, err := r.Read(buf)
			bulkAt(off, want[:k])
			if !bytes.Equal(buf[:k], want[:k]) {
				checked <- fmt.Errorf("console stdout differs in %d bytes at offset %d", k, off)
				io.Copy(io.Discard, r)
				return
			}
			off += int64(k)
			if err == io.EOF {
				if off != n {
					err = fmt.Errorf("console stdout got %d bytes, want %d", off, n)
				} else {
					err = nil
				}
				checked <- err
				return
			}
		}
	}()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	logPath := t.TempDir() + "/output.log"
	run, err := Start(Options{Console: NewConsole(w, null), LogPath: logPath})
	if err != nil {
		t.Fatal(err)
	}
	cmd := child(t, run, nil, "bulk", strconv.FormatInt(n, 10))
	finish(t, run, cmd)
	w.Close()
	if err := <-checked; err != nil {
		t.Error(err)
	}
	got, want := run.Bytes(), wantCapped(n, DefaultMaxBytes)
	if !bytes.Equal(got, want) {
		t.Errorf("Bytes: %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	if file := readFile(t, logPath); !bytes.Equal(file, got) {
		t.Errorf("output.log: %d bytes, Bytes %d; first difference at %d", len(file), len(got), firstDiff(file, got))
	}
}

// The app closing its stdout early ends that relay only.
func TestEarlyClose(t *testing.T) {
	con, stdout, stderr := testConsole(t)
	run, err := Start(Options{Console: con})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2 << 20
	cmd := child(t, run, nil, "early-close", strconv.Itoa(n))
	finish(t, run, cmd)
	if len(stdout()) != 0 || run.Total(Stdout) != 0 {
		t.Errorf("stdout got %d bytes", len(stdout()))
	}
	want := streamData(Stderr, 7, n)
	if !bytes.Equal(stderr(), want) || !bytes.Equal(run.Bytes(), want) {
		t.Errorf("stderr: console %d bytes, Bytes %d; want %d", len(stderr()), len(run.Bytes()), n)
	}
}

// A process that keeps the pipe open (a grandchild) bounds Finish by its
// ctx: output.log is then final, and later output still passes through and
// is kept in memory.
func TestFinishWhileHeld(t *testing.T) {
	con, stdout, _ := testConsole(t)
	logPath := t.TempDir() + "/output.log"
	run, err := Start(Options{Console: con, LogPath: logPath})
	if err != nil {
		t.Fatal(err)
	}
	// The test plays the grandchild: it holds a copy of the write end.
	held, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(run.StdoutW.Fd())), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cmd := child(t, run, nil, "bulk", "100000")
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the app's output", func() bool { return run.Total(Stdout) == 100000 })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := run.Finish(ctx); err == nil {
		t.Fatal("Finish returned nil while the pipe is held open")
	}
	atFinish := run.Bytes()
	if file := readFile(t, logPath); !bytes.Equal(file, atFinish) {
		t.Fatalf("output.log after Finish: %d bytes, Bytes %d", len(file), len(atFinish))
	}

	follows, chunks := run.Follow(context.Background())
	held.WriteString("late\n")
	held.Close()
	if err := run.Finish(context.Background()); err != nil {
		t.Fatalf("second Finish: %v", err)
	}
	if got := run.Bytes(); !bytes.Equal(got, append(atFinish, "late\n"...)) {
		t.Errorf("Bytes does not end with the late line: %q", got[max(len(got)-20, 0):])
	}
	if !bytes.HasSuffix(stdout(), []byte("late\n")) {
		t.Error("the late line did not reach the console")
	}
	if file := readFile(t, logPath); !bytes.Equal(file, atFinish) {
		t.Errorf("output.log changed after the first Finish")
	}
	var late []byte
	for c := range chunks { // closed at EOF
		late = append(late, c...)
	}
	if !bytes.Equal(follows, atFinish) || string(late) != "late\n" {
		t.Errorf("follow: %d bytes then %q", len(follows), late)
	}
}
