package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// budgetRun captures one run that writes n patterned bytes to stdout in
// random chunks, finishes it and returns it with what it wrote.
func budgetRun(t *testing.T, con *Console, b *Budget, logPath string, maxBytes int64, n int, seed uint64) (*Run, []byte) {
	t.Helper()
	run, err := Start(Options{Console: con, LogPath: logPath, MaxBytes: maxBytes, Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, n)
	fillRandom(data, seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for p := data; len(p) > 0; {
		k := min(len(p), 1+rng.IntN(64<<10))
		if _, err := run.StdoutW.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	run.CloseWriters()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run's output to reach the console", func() bool {
		select {
		case <-run.drained:
			return true
		default:
			return false
		}
	})
	return run, data
}

// cut is what retention keeps of data under maxBytes.
func cut(data []byte, maxBytes int64) []byte {
	if int64(len(data)) <= maxBytes {
		return data
	}
	h, tl := maxBytes/2, maxBytes-maxBytes/2
	out := append([]byte(nil), data[:h]...)
	out = append(out, omittedMarker(int64(len(data))-maxBytes)...)
	return append(out, data[int64(len(data))-tl:]...)
}

// With output.log, many runs of more than the budget each: after every
// run the memory held is within the budget, the newest run is still in
// memory, older runs are served from output.log byte for byte, and the
// budget tracks no more logs than hold memory.
func TestBudgetManyRunsOnDisk(t *testing.T) {
	con, _, _ := testConsole(t)
	dir := t.TempDir()
	const limit, maxBytes = 256 << 10, 192 << 10
	b := NewBudget(limit)
	type kept struct {
		run  *Run
		want []byte
	}
	var runs []kept
	for i := range 25 {
		path := filepath.Join(dir, fmt.Sprintf("output-%d.log", i))
		run, data := budgetRun(t, con, b, path, maxBytes, 100<<10+i*13<<10, uint64(i))
		runs = append(runs, kept{run, cut(data, maxBytes)})
		if used := b.Used(); used > limit {
			t.Fatalf("after run %d: %d bytes held, budget %d", i, used, limit)
		}
		if n := b.Logs(); n > 3 {
			t.Errorf("after run %d: the budget tracks %d logs; those on disk should be forgotten", i, n)
		}
		if _, kept, _ := run.log.snapshot(); kept != keptMemory {
			t.Fatalf("run %d, the newest: kept %v, want in memory", i, kept)
		}
	}
	onDisk := 0
	for i, k := range runs {
		got, err := k.run.Output()
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if !bytes.Equal(got, k.want) {
			t.Fatalf("run %d: Output has %d bytes, want %d, differs at %d", i, len(got), len(k.want), firstDiff(got, k.want))
		}
		if _, kept, _ := k.run.log.snapshot(); kept == keptDisk {
			onDisk++
		}
	}
	// Negative control: the budget did make older runs give up memory.
	if onDisk < 20 {
		t.Errorf("%d of %d runs are served from disk; the budget should have released most", onDisk, len(runs))
	}
}

// Without output.log, the budget still holds: the newest run's caps fit
// the budget, older runs are dropped oldest first, and a dropped run says
// so.
func TestBudgetMemoryOnly(t *testing.T) {
	con, _, _ := testConsole(t)
	const limit, maxBytes = 96 << 10, 1 << 20
	b := NewBudget(limit)
	var runs []*Run
	for i := range 12 {
		run, data := budgetRun(t, con, b, "", maxBytes, 30<<10+i*20<<10, uint64(100+i))
		runs = append(runs, run)
		if used := b.Used(); used > limit {
			t.Fatalf("after run %d: %d bytes held, budget %d", i, used, limit)
		}
		got, err := run.Output()
		if err != nil {
			t.Fatalf("run %d, the newest: %v", i, err)
		}
		if want := cut(data, limit); !bytes.Equal(got, want) {
			t.Fatalf("run %d, the newest: %d bytes kept, want %d (its caps fit the budget)", i, len(got), len(want))
		}
		if n := b.Logs(); n > 4 {
			t.Errorf("after run %d: the budget tracks %d logs", i, n)
		}
	}
	dropped := 0
	seenKept := false
	for i, run := range runs {
		_, err := run.Output()
		switch {
		case errors.Is(err, ErrDropped):
			if seenKept {
				t.Errorf("run %d was dropped after a newer one was kept: oldest go first", i)
			}
			dropped++
		case err != nil:
			t.Fatalf("run %d: %v", i, err)
		default:
			seenKept = true
		}
	}
	if dropped == 0 || dropped == len(runs) {
		t.Errorf("%d of %d runs dropped; want the oldest dropped and the newest kept", dropped, len(runs))
	}
	if _, err := runs[0].Output(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("--retain-memory")) {
		t.Errorf("a dropped run's error does not name --retain-memory: %v", err)
	}
}

// Release forgets a run: its memory is given back and the budget no longer
// tracks it.
func TestBudgetRelease(t *testing.T) {
	con, _, _ := testConsole(t)
	b := NewBudget(1 << 20)
	run, _ := budgetRun(t, con, b, "", 64<<10, 10<<10, 1)
	if b.Used() == 0 || b.Logs() != 1 {
		t.Fatalf("before Release: %d bytes, %d logs", b.Used(), b.Logs())
	}
	run.Release()
	if b.Used() != 0 || b.Logs() != 0 {
		t.Errorf("after Release: %d bytes, %d logs; want 0, 0", b.Used(), b.Logs())
	}
}

// A run with output.log keeps more than the budget while it is live (its
// tail goes to output.log from memory when it ends), and gives its memory
// up once it ended, newest or not; Output is then output.log, unchanged.
func TestBudgetNewestReleasedWhenDone(t *testing.T) {
	con, _, _ := testConsole(t)
	const limit, maxBytes = 64 << 10, 512 << 10
	b := NewBudget(limit)
	run, data := budgetRun(t, con, b, filepath.Join(t.TempDir(), "output.log"), maxBytes, 2<<20, 9)
	if used := b.Used(); used != 0 {
		t.Errorf("after the run ended: %d bytes held, want 0", used)
	}
	if _, kept, _ := run.log.snapshot(); kept != keptDisk {
		t.Errorf("kept %v, want on disk", kept)
	}
	got, err := run.Output()
	if want := cut(data, maxBytes); err != nil || !bytes.Equal(got, want) {
		t.Errorf("Output: %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	// logs --follow of it: the file, and a channel that is already closed.
	got, more, err := run.FollowOutput(context.Background())
	if _, open := <-more; open || err != nil || !bytes.Equal(got, cut(data, maxBytes)) {
		t.Errorf("FollowOutput: %d bytes, %v, channel open %v; want output.log and a closed channel", len(got), err, open)
	}
	// The same with a run that fits: it stays in memory (negative control).
	small, _ := budgetRun(t, con, b, filepath.Join(t.TempDir(), "output.log"), maxBytes, 10<<10, 10)
	if _, kept, _ := small.log.snapshot(); kept != keptMemory {
		t.Errorf("a run within the budget: kept %v, want in memory", kept)
	}
}
