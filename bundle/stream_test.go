package bundle

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counter counts what it passes on.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// vmRSS is this process's resident set in bytes, from /proc/self/status.
func vmRSS(t testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	must(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			must(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// streamBig bundles a run set of total bytes (sparse files: nothing is
// written to disk) and reports how much the RSS and the Go heap grew at
// their peak while it streamed.
func streamBig(t testing.TB, total int64) (rssGrowth, heapGrowth int64, elapsed time.Duration) {
	tt := t
	f := newFixture(tt)
	// Three runs share the total: output.log of each, and heap dumps with
	// WithHeap, as a held app that ran out of heap three times leaves them.
	per := total / 6
	for n := 1; n <= 3; n++ {
		dir := filepath.Join(f.runsDir, strconv.Itoa(n))
		sparse(tt, filepath.Join(dir, "output.log"), per)
		sparse(tt, filepath.Join(dir, "java_pid"+strconv.Itoa(n)+".hprof"), per)
	}
	o := f.opts
	o.WithHeap = true

	// GNU tar lists it from a pipe, in its own process.
	list := exec.Command("tar", "-tzvf", "-")
	stdin, err := list.StdinPipe()
	must(tt, err)
	var listing bytes.Buffer
	list.Stdout, list.Stderr = &listing, &listing
	must(tt, list.Start())
	out := &counter{w: stdin}
	var res Result
	rssGrowth, heapGrowth, elapsed = peakGrowth(tt, func() { res, err = Write(out, o) })
	must(tt, err)
	must(tt, stdin.Close())
	if err := list.Wait(); err != nil {
		t.Fatalf("tar -tzvf -: %v\n%s", err, listing.String())
	}
	if res.Bytes < total {
		t.Fatalf("bundled %d bytes, want at least %d", res.Bytes, total)
	}
	for n := 1; n <= 3; n++ {
		want := fmt.Sprintf(" %d %s", per, "")
		line := ""
		for _, l := range strings.Split(listing.String(), "\n") {
			if strings.HasSuffix(l, fmt.Sprintf("/runs/%d/output.log", n)) {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("tar -tzvf - lists run %d's output.log as %q, want %d bytes", n, line, per)
		}
	}
	t.Logf("streamed %d bytes (%d compressed) in %v", res.Bytes, out.n, elapsed)
	return rssGrowth, heapGrowth, elapsed
}

// peakGrowth runs fn and reports how much the RSS and the Go heap grew at
// their peak (sampled every 10 ms, and once more when fn returns) over
// what they were before.
func peakGrowth(t testing.TB, fn func()) (rss, heap int64, elapsed time.Duration) {
	debug.FreeOSMemory() // a GC that also returns freed pages, so that RSS starts low
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0, rss0 := int64(ms.HeapInuse), vmRSS(t)
	var peakRSS, peakHeap atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for last := false; ; {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if h := int64(ms.HeapInuse); h > peakHeap.Load() {
				peakHeap.Store(h)
			}
			if r := vmRSS(t); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			if last {
				return
			}
			select {
			case <-done:
				last = true
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	fn()
	elapsed = time.Since(start)
	close(done)
	<-sampled
	return peakRSS.Load() - rss0, peakHeap.Load() - heap0, elapsed
}

// TestPeakGrowthSeesGrowth is the negative control of the memory bound: a
// function that holds 64 MiB is seen to.
func TestPeakGrowthSeesGrowth(t *testing.T) {
	var keep []byte
	rss, heap, _ := peakGrowth(t, func() {
		keep = make([]byte, 64<<20)
		for i := range keep {
			keep[i] = byte(i)
		}
	})
	if rss < 48<<20 || heap < 48<<20 {
		t.Errorf("holding 64 MiB: RSS grew %d, heap %d bytes; the sampler misses growth", rss, heap)
	}
	runtime.KeepAlive(keep)
}

// TestStreamBoundedMemory: a 512 MiB run set streams with the memory of a
// small one (256 MiB with -short or -race); BenchmarkStream2GiB streams 2 GiB.
func TestStreamBoundedMemory(t *testing.T) {
	total := int64(512 << 20)
	if testing.Short() || raceEnabled {
		total = 256 << 20
	}
	checkStream(t, total)
}

// BenchmarkStream2GiB streams a 2 GiB run set once per iteration, reports
// the peak growth of RSS and heap, and fails above the bound:
//
//	go test -run '^$' -bench Stream2GiB -benchtime 1x ./bundle/
func BenchmarkStream2GiB(b *testing.B) {
	for b.Loop() {
		rss, heap := checkStream(b, 2<<30)
		b.ReportMetric(float64(rss)/(1<<20), "MiB-RSS-growth")
		b.ReportMetric(float64(heap)/(1<<20), "MiB-heap-growth")
	}
}

func checkStream(t testing.TB, total int64) (rss, heap int64) {
	rss, heap, elapsed := streamBig(t, total)
	t.Logf("%d MiB: RSS grew %.1f MiB, Go heap %.1f MiB at their peak, %v", total>>20,
		float64(rss)/(1<<20), float64(heap)/(1<<20), elapsed)
	const bound = 32 << 20
	if rss > bound || heap > bound {
		t.Errorf("streaming %d MiB grew RSS by %d and the heap by %d bytes; bound %d", total>>20, rss, heap, bound)
	}
	return rss, heap
}
