package bundle

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counter is an io.Writer that only counts.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// vmRSS is this process's resident set in bytes, from /proc/self/status.
func vmRSS(t *testing.T) int64 {
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
	tt := t.(*testing.T)
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

	var out counter
	var res Result
	var err error
	rssGrowth, heapGrowth, elapsed = peakGrowth(tt, func() { res, err = Write(&out, o) })
	must(tt, err)
	if res.Bytes < total {
		t.Fatalf("bundled %d bytes, want at least %d", res.Bytes, total)
	}
	t.Logf("streamed %d bytes (%d compressed) in %v", res.Bytes, out.n, elapsed)
	return rssGrowth, heapGrowth, elapsed
}

// peakGrowth runs fn and reports how much the RSS and the Go heap grew at
// their peak (sampled every 10 ms, and once more when fn returns) over
// what they were before.
func peakGrowth(t *testing.T, fn func()) (rss, heap int64, elapsed time.Duration) {
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

// TestStreamBoundedMemory: a 2 GiB run set streams with the memory of a
// small one. -short and -race stream 256 MiB.
func TestStreamBoundedMemory(t *testing.T) {
	total := int64(2 << 30)
	if testing.Short() || raceEnabled {
		total = 256 << 20
	}
	rss, heap, elapsed := streamBig(t, total)
	t.Logf("%d MiB: RSS grew %.1f MiB, Go heap %.1f MiB at their peak, %v", total>>20,
		float64(rss)/(1<<20), float64(heap)/(1<<20), elapsed)
	const bound = 32 << 20
	if rss > bound || heap > bound {
		t.Errorf("streaming %d MiB grew RSS by %d and the heap by %d bytes; bound %d", total>>20, rss, heap, bound)
	}
}
