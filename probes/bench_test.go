package probes

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as a stand-alone probe server for measuring with an
// external load generator, the way os/exec tests re-run the test binary:
//
//	go test -c -o /tmp/probes.test ./probes
//	HOLDFAST_PROBES_SERVE=127.0.0.1:18558 GOMAXPROCS=1 taskset -c 0 /tmp/probes.test &
//	taskset -c 1 wrk -t1 -c50 -d10s --latency http://127.0.0.1:18558/livez
func TestMain(m *testing.M) {
	if addr := os.Getenv("HOLDFAST_PROBES_SERVE"); addr != "" {
		os.Exit(serveForMeasurement(addr))
	}
	os.Exit(m.Run())
}

func serveForMeasurement(addr string) int {
	store := goldenStore()
	s := NewServer(store, nil, Options{})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.Shutdown(context.Background())
	}()
	if err := s.Serve(l); err != http.ErrServerClosed {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	return 0
}

// BenchmarkLivez measures /livez over real keep-alive connections on
// loopback, client and server in this process. Run with -cpu 1 for the
// one-core figure (which then also pays for the client).
func BenchmarkLivez(b *testing.B) {
	store := goldenStore()
	base, _ := startServer(b, NewServer(store, nil, Options{}))
	url := base + "/livez"
	var mu sync.Mutex
	var all []time.Duration
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tr := &http.Transport{MaxIdleConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t := time.Now()
			res, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
			lat = append(lat, time.Since(t))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) > 0 {
		slices.Sort(all)
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	}
}

// discardWriter is a ResponseWriter that throws the body away, so the scrape
// benchmark measures gathering and encoding, not buffer growth.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// prometheusAccept is what Prometheus 2.42 sends when it scrapes.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// BenchmarkMetricsScrape measures one /metrics scrape of the full registry
// (holdfast, Go and process collectors) through the handler, with the
// headers Prometheus sends. cpu-ns/scrape is process CPU time from getrusage
// over the whole run, so GC and every thread are included.
func BenchmarkMetricsScrape(b *testing.B) {
	store := goldenStore()
	h := NewServer(store, NewRegistry(store), Options{}).Handler()
	req, _ := http.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", prometheusAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/scrape")
}
