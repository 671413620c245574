package capture

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The test binary re-runs itself as the fake app (os/exec's
// TestHelperProcess pattern): CAPTURE_HELPER names what it does.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CAPTURE_HELPER"); mode != "" {
		if err := helper(mode, os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(mode string, args []string) error {
	num := func(i int) int64 {
		n, err := strconv.ParseInt(args[i], 10, 64)
		if err != nil {
			panic(err)
		}
		return n
	}
	ack := bufio.NewReader(os.Stdin)
	wait := func() error { _, err := ack.ReadByte(); return err }
	switch mode {
	case "bulk": // args: bytes; stdout gets bulk data in 64 KiB writes
		return writeBulk(os.Stdout, num(0))
	case "streams": // args: stdout bytes, stderr bytes, seed; both at once, odd chunk sizes
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []Stream{Stdout, Stderr} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := map[Stream]*os.File{Stdout: os.Stdout, Stderr: os.Stderr}[s]
				errs[i] = writeChunked(f, streamData(s, uint64(num(2)), int(num(int(s)-1))), uint64(num(2))+uint64(s))
			}()
		}
		wg.Wait()
		if errs[0] != nil {
			return errs[0]
		}
		return errs[1]
	case "pingpong": // args: rounds; one line per stream per round, each after an ack
		return pingpong(num(0), wait)
	case "prefill-pingpong": // args: prefill bytes, rounds; stdout prefill in one write, ack, then pingpong
		os.Stdout.Write(bytes.Repeat([]byte{'p'}, int(num(0))))
		if err := wait(); err != nil {
			return err
		}
		return pingpong(num(1), wait)
	case "partial": // stderr "abc", ack, "def\n", ack
		os.Stderr.WriteString("abc")
		if err := wait(); err != nil {
			return err
		}
		os.Stderr.WriteString("def\n")
		return wait()
	case "isatty": // each stream says whether it is a terminal
		fmt.Fprintf(os.Stdout, "out: isatty 1=%v 2=%v\n", isTerminal(os.Stdout), isTerminal(os.Stderr))
		fmt.Fprintf(os.Stderr, "err: isatty 1=%v 2=%v\n", isTerminal(os.Stdout), isTerminal(os.Stderr))
		return nil
	case "failure": // args: noise lines, mixed|ordered; noise, then an uncaught exception (see failure)
		return failure(int(num(0)), args[1])
	case "stacks": // args: bytes; stdout gets a Spring Boot service's stack-trace-heavy output in 64 KiB writes
		return writeStacks(os.Stdout, num(0))
	case "early-close": // args: bytes; closes stdout at once, then writes stderr
		os.Stdout.Close()
		return writeChunked(os.Stderr, streamData(Stderr, 7, int(num(0))), 7)
	}
	return fmt.Errorf("unknown mode")
}

// failureTrace is what failure ends with: a JVM's uncaught exception.
const failureTrace = "Exception in thread \"main\" java.lang.IllegalStateException: no config at /etc/app.yml\n" +
	"\tat com.example.App.load(App.java:41)\n\tat com.example.App.main(App.java:12)\n"

// failure writes lines of noise and then failureTrace. On "mixed" the
// noise goes to both streams at once and the trace to stderr; on
// "ordered" the stderr noise first, then the stdout noise and the trace,
// so that the trace ends the combined output.
func failure(lines int, how string) error {
	out, errs := bufio.NewWriter(os.Stdout), bufio.NewWriter(os.Stderr)
	for i := range lines {
		if i%3 == 0 {
			fmt.Fprintf(errs, "2026-12-06T10:00:00Z DEBUG [main] c.e.App : detail %d\n", i)
		}
		if how == "mixed" {
			fmt.Fprintf(out, "2026-12-06T10:00:00Z INFO [main] c.e.App : step %d of the start\n", i)
		}
		if i%512 == 0 {
			out.Flush()
			errs.Flush()
		}
	}
	errs.Flush()
	out.Flush()
	trace := errs
	if how == "ordered" {
		for i := range lines {
			fmt.Fprintf(out, "2026-12-06T10:00:00Z INFO [main] c.e.App : step %d of the start\n", i)
		}
		trace = out
	}
	trace.WriteString(failureTrace)
	return trace.Flush()
}

func pingpong(rounds int64, wait func() error) error {
	for i := range rounds {
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			if _, err := fmt.Fprintf(f, "%s %d\n", f.Name(), i); err != nil {
				return err
			}
			if err := wait(); err != nil {
				return err
			}
		}
	}
	return nil
}

// The byte loops of the test helpers skip race instrumentation
// (//go:norace): they touch only their own slices, and instrumented they
// made the -race run minutes long.

// streamData is n pseudo-random bytes of stream s: NULs and invalid UTF-8
// included. Stdout bytes are below 0x80 and stderr bytes above, so each
// stream's subsequence can be picked out of output.log.
//
//go:norace
func streamData(s Stream, seed uint64, n int) []byte {
	b := make([]byte, n)
	fillRandom(b, seed<<8|uint64(s))
	for i := range b {
		if s == Stdout {
			b[i] &= 0x7f
		} else {
			b[i] |= 0x80
		}
	}
	return b
}

// fillRandom fills b with xorshift64 output from seed: every byte value,
// NULs and invalid UTF-8 included.
//
//go:norace
func fillRandom(b []byte, seed uint64) {
	x := seed*0x9e3779b97f4a7c15 | 1
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, next())
		b = b[8:]
	}
	for i := range b {
		b[i] = byte(next())
	}
}

// writeChunked writes b in writes of random sizes up to 64 KiB.
func writeChunked(w io.Writer, b []byte, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(64<<10))
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

const bulkChunk = 64 << 10

// bulkBase is the body of every bulk chunk: random bytes, none a newline.
var bulkBase = func() []byte {
	b := make([]byte, bulkChunk)
	fillRandom(b, 1)
	for i := range b {
		if b[i] == '\n' {
			b[i] = 0
		}
	}
	return b
}()

// bulkAt fills dst with the bulk stream from offset off: chunk i is
// bulkBase with its first 16 bytes replaced by i in hex, so a lost or
// repeated chunk shows.
func bulkAt(off int64, dst []byte) {
	var chunk [bulkChunk]byte
	for len(dst) > 0 {
		i, o := off/bulkChunk, int(off%bulkChunk)
		copy(chunk[:], bulkBase)
		_ = fmt.Appendf(chunk[:0], "%016x", i)
		n := copy(dst, chunk[o:])
		dst, off = dst[n:], off+int64(n)
	}
}

func writeBulk(w io.Writer, n int64) error {
	chunk := append([]byte(nil), bulkBase...)
	for i := int64(0); n > 0; i++ {
		_ = fmt.Appendf(chunk[:0], "%016x", i)
		k := min(n, bulkChunk)
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// child starts the test binary as the fake app with the run's pipes as its
// stdout and stderr, then closes the parent's copies, as the lead does.
func child(t testing.TB, run *Run, stdin *os.File, mode string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CAPTURE_HELPER="+mode)
	cmd.Stdin = stdin
	cmd.Stdout, cmd.Stderr = run.StdoutW, run.StderrW
	err := cmd.Start()
	run.CloseWriters()
	if err != nil {
		t.Fatalf("cannot start helper: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// testConsole returns a Console over two temp files and readers of them.
func testConsole(t *testing.T) (con *Console, stdout, stderr func() []byte) {
	t.Helper()
	dir := t.TempDir()
	open := func(name string) (*os.File, func() []byte) {
		f, err := os.Create(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f, func() []byte {
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	out, readOut := open("stdout")
	errF, readErr := open("stderr")
	return NewConsole(out, errF), readOut, readErr
}

// waitFor polls cond every 10 ms for up to 30 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finish calls run.Finish with a generous bound and waits for the child.
func finish(t testing.TB, run *Run, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run.Finish(ctx); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if cmd != nil {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitStreams picks each stream's bytes out of a log of streamData.
//
//go:norace
func splitStreams(log []byte) (stdout, stderr []byte) {
	stdout, stderr = make([]byte, 0, len(log)), make([]byte, 0, len(log))
	for _, c := range log {
		if c < 0x80 {
			stdout = append(stdout, c)
		} else {
			stderr = append(stderr, c)
		}
	}
	return stdout, stderr
}

func sum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// startWithAck starts a capture and makes the pipe a test child reads its
// acknowledgements from: the child gets ackR as stdin (the caller closes its
// copy after starting the child), the test writes to ackW.
func startWithAck(t testing.TB, opts Options) (*Run, *os.File, *os.File) {
	t.Helper()
	run, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	ackR, ackW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	return run, ackR, ackW
}
