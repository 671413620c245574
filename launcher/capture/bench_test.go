package capture

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU used so far by this process (the relay) and by its
// waited-for children (the app): on a shared machine it varies less than
// wall time.
func cpuTime() [2]time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return [2]time.Duration{tv(self.Utime) + tv(self.Stime), tv(kids.Utime) + tv(kids.Stime)}
}

func reportCPU(b *testing.B, start [2]time.Duration) {
	now := cpuTime()
	b.ReportMetric(float64(now[0]-start[0])/float64(b.N)/1e6, "relay-cpu-ms/op")
	b.ReportMetric(float64(now[1]-start[1])/float64(b.N)/1e6, "app-cpu-ms/op")
}

const benchBytes = 1 << 30

// BenchmarkBarePipe is the baseline: the app writes 1 GiB in 64 KiB chunks
// into a pipe that a reader copies to /dev/null, as cat would.
func BenchmarkBarePipe(b *testing.B) {
	null := devNull(b)
	b.SetBytes(benchBytes)
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "1073741824")
		cmd.Env = append(os.Environ(), "CAPTURE_HELPER=bulk")
		cmd.Stdout = w
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		w.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				null.Write(buf[:n])
			}
			if err != nil {
				break
			}
		}
		r.Close()
		cmd.Wait()
	}
}

// BenchmarkRelay is the same app through a capture Run: console on
// /dev/null, output.log in a temp dir, default cap.
func BenchmarkRelay(b *testing.B) { benchRelay(b, nullConsole(b), 0) }

// BenchmarkRelaySmallCap retains only 1 MiB, which stays in the CPU cache:
// the difference to BenchmarkRelay is the cost of writing a 64 MiB
// retained log to memory, which depends on the machine's memory bandwidth.
func BenchmarkRelaySmallCap(b *testing.B) { benchRelay(b, nullConsole(b), 1<<20) }

func nullConsole(b *testing.B) *Console {
	null := devNull(b)
	return NewConsole(null, null)
}

// benchRelay relays 1 GiB per op through a capture Run onto con, with the
// default memory budget as holdfast has it (the run's retained log is over
// it, so every chunk also asks the budget to fit).
func benchRelay(b *testing.B, con *Console, maxBytes int64) {
	dir := b.TempDir()
	b.SetBytes(benchBytes)
	budget := NewBudget(DefaultMemoryBudget)
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		run, err := Start(Options{Console: con, LogPath: dir + "/output.log", MaxBytes: maxBytes, Budget: budget})
		if err != nil {
			b.Fatal(err)
		}
		cmd := child(b, run, nil, "bulk", "1073741824")
		if err := run.Finish(context.Background()); err != nil {
			b.Fatal(err)
		}
		cmd.Wait()
		if run.Total(Stdout) != benchBytes {
			b.Fatalf("relayed %d bytes", run.Total(Stdout))
		}
	}
}

func devNull(b *testing.B) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// BenchmarkRelayToPipe is BenchmarkRelay with holdfast's stdout a pipe that
// a reader drains, as a container runtime's log pipe is: the pass-through
// then costs a copy of its own.
func BenchmarkRelayToPipe(b *testing.B) {
	null := devNull(b)
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	benchRelay(b, NewConsole(w, null), 0)
}
