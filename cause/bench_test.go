package cause

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// stackHeavy returns about size bytes of a Spring Boot service's output in
// which most bytes are stack traces: INFO lines, WARN traces, and ERROR
// chains of three levels with 60 to 100 frames, in the formats of the
// corpus.
func stackHeavy(size int) []byte {
	var b bytes.Buffer
	frames := []string{
		"\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.doCreateBean(AbstractAutowireCapableBeanFactory.java:562) ~[spring-beans-6.1.13.jar!/:6.1.13]\n",
		"\tat org.springframework.beans.factory.support.AbstractBeanFactory.lambda$doGetBean$0(AbstractBeanFactory.java:337) ~[spring-beans-6.1.13.jar!/:6.1.13]\n",
		"\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103) ~[na:na]\n",
		"\tat org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174) ~[tomcat-embed-core-10.1.30.jar!/:na]\n",
		"\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181) ~[HikariCP-5.1.0.jar!/:na]\n",
		"\tat java.base/java.lang.Thread.run(Thread.java:840) ~[na:na]\n",
	}
	for i := 0; b.Len() < size; i++ {
		for j := 0; j < 8; j++ {
			fmt.Fprintf(&b, "2026-12-06T10:%02d:%02d.%03dZ  INFO 1 --- [nio-8080-exec-%d] c.e.orders.web.OrdersController          : GET /orders/%d 200 in %d ms\n", i%60, j, i%1000, j, i*8+j, i%97)
		}
		level, n := "WARN", 30
		if i%3 == 0 {
			level, n = "ERROR", 90
		}
		fmt.Fprintf(&b, "2026-12-06T10:%02d:59.999Z %s 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception\n\n", i%60, level)
		b.WriteString("org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection; nested exception is org.hibernate.exception.JDBCConnectionException: Unable to acquire JDBC Connection\n")
		for k := 0; k < n; k++ {
			b.WriteString(frames[k%len(frames)])
		}
		b.WriteString("\tat com.example.orders.web.OrdersController.list(OrdersController.java:42) ~[!/:3.1.0]\n")
		b.WriteString("Caused by: org.hibernate.exception.JDBCConnectionException: Unable to acquire JDBC Connection\n")
		for k := 0; k < n/3; k++ {
			b.WriteString(frames[k%len(frames)])
		}
		fmt.Fprintf(&b, "\t... %d common frames omitted\n", n)
		b.WriteString("Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.\n")
		for k := 0; k < 8; k++ {
			b.WriteString(frames[k%len(frames)])
		}
		fmt.Fprintf(&b, "\t... %d common frames omitted\n\n", n+20)
	}
	return b.Bytes()
}

const (
	benchTotal = 1 << 30  // bytes per op: 1 GiB
	benchChunk = 64 << 10 // the relay's read size
	benchBlock = 16 << 20 // generated once, fed 64 times per op
)

var benchInput []byte

func input() []byte {
	if benchInput == nil {
		benchInput = stackHeavy(benchBlock)[:benchBlock]
	}
	return benchInput
}

// feedGiB passes 1 GiB of in in 64 KiB chunks to f.
func feedGiB(in []byte, f func([]byte)) {
	for done := 0; done < benchTotal; {
		for off := 0; off < len(in) && done < benchTotal; off += benchChunk {
			end := min(off+benchChunk, len(in))
			f(in[off:end])
			done += end - off
		}
	}
}

// BenchmarkCopy is the baseline: each 64 KiB chunk copied once, as a relay
// copies it into its retained log.
func BenchmarkCopy(b *testing.B) {
	in := input()
	dst := make([]byte, benchChunk)
	b.SetBytes(benchTotal)
	cpu := cpuNow()
	for b.Loop() {
		feedGiB(in, func(p []byte) { copy(dst, p) })
	}
	b.ReportMetric(float64(benchTotal)/(cpuNow().Sub(cpu)/float64(b.N))/1e6, "cpu-MB/s")
}

// BenchmarkExtract is the Extractor on the same chunks.
func BenchmarkExtract(b *testing.B) {
	in := input()
	b.SetBytes(benchTotal)
	peak := 0
	cpu := cpuNow()
	for b.Loop() {
		e := New()
		feedGiB(in, func(p []byte) {
			e.Write(Stdout, p)
		})
		peak = max(peak, e.Footprint())
		e.Close()
		if c := e.Best(); c == nil || c.Exception != "java.sql.SQLTransientConnectionException" {
			b.Fatalf("cause %+v", c)
		}
	}
	b.ReportMetric(float64(peak), "footprint-bytes")
	b.ReportMetric(float64(benchTotal)/(cpuNow().Sub(cpu)/float64(b.N))/1e6, "cpu-MB/s")
}

// BenchmarkSideBySide runs the byte-copy baseline, the Extractor, and the
// Extractor with a TailSource on the same 1 GiB in each op, interleaved,
// and reports the CPU each took: on a shared machine the ratios are
// steadier than any one number.
func BenchmarkSideBySide(b *testing.B) {
	in := input()
	dst := make([]byte, benchChunk)
	tail := in[len(in)-tailBytes:] // the input ends where each op ends
	var cp, ex, src float64
	for b.Loop() {
		t0 := cpuNow()
		feedGiB(in, func(p []byte) { copy(dst, p) })
		t1 := cpuNow()
		e := New()
		feedGiB(in, func(p []byte) { e.Write(Stdout, p) })
		e.Close()
		t2 := cpuNow()
		e = NewWithTail(func(Stream) []byte { return tail })
		feedGiB(in, func(p []byte) { e.Write(Stdout, p) })
		e.Close()
		t3 := cpuNow()
		cp += t1.Sub(t0)
		ex += t2.Sub(t1)
		src += t3.Sub(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(benchTotal)/(cp/n)/1e6, "copy-MB/s")
	b.ReportMetric(float64(benchTotal)/(ex/n)/1e6, "extract-MB/s")
	b.ReportMetric(ex/n*1e3, "extract-cpu-ms/GiB")
	b.ReportMetric(ex/cp, "extract/copy")
	b.ReportMetric(src/n*1e3, "tailsrc-cpu-ms/GiB")
	b.ReportMetric(src/cp, "tailsrc/copy")
}

// BenchmarkExtractHead is the line-by-line reading alone: each 256 KiB
// head of the input read by a new Extractor, as every run's first
// headBytes are.
func BenchmarkExtractHead(b *testing.B) {
	in := input()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		for off := 0; off+headBytes <= len(in); off += headBytes {
			e := New()
			for c := off; c < off+headBytes; c += benchChunk {
				e.Write(Stdout, in[c:c+benchChunk])
			}
			e.Close()
		}
	}
}

// BenchmarkRelayPipe relays 1 GiB of stack-heavy output from a child
// process through a pipe to /dev/null, as holdfast's reader does, with the
// Extractor off and on, the two interleaved in each op: the relay's CPU
// per GiB and the wall throughput of each. This bare relay (no retention,
// no console goroutine) is the cheapest there is, so the Extractor's share
// of it is an upper bound of its share of holdfast's relay.
func BenchmarkRelayPipe(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	var off, on, offWall, onWall float64
	b.SetBytes(2 * benchTotal)
	for b.Loop() {
		c, w := relayOnce(b, null, false)
		off, offWall = off+c, offWall+w
		c, w = relayOnce(b, null, true)
		on, onWall = on+c, onWall+w
	}
	n := float64(b.N)
	b.ReportMetric(off/n*1e3, "off-cpu-ms/GiB")
	b.ReportMetric(on/n*1e3, "on-cpu-ms/GiB")
	b.ReportMetric(float64(benchTotal)/(offWall/n)/1e6, "off-wall-MB/s")
	b.ReportMetric(float64(benchTotal)/(onWall/n)/1e6, "on-wall-MB/s")
	b.ReportMetric(offWall/onWall, "wall-on/off")
}

// relayOnce relays 1 GiB and returns the relay's CPU seconds and the
// wall seconds.
func relayOnce(b *testing.B, null io.Writer, extract bool) (cpu, wall float64) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "CAUSE_HELPER_BYTES="+strconv.Itoa(benchTotal))
	cmd.Stdout = w
	start, wall0 := cpuNow(), time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	var e *Extractor
	if extract {
		e = New()
	}
	buf := make([]byte, benchChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if e != nil {
				e.Write(Stdout, buf[:n])
			}
			null.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	r.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return cpuNow().Sub(start), time.Since(wall0).Seconds()
}

// TestHelperWriter is the app of BenchmarkRelayPipe: it writes
// CAUSE_HELPER_BYTES of stack-heavy output to stdout in 64 KiB writes.
func TestHelperWriter(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("CAUSE_HELPER_BYTES"))
	if err != nil {
		t.Skip("only as BenchmarkRelayPipe's app")
	}
	feedGiB(stackHeavy(benchBlock)[:benchBlock], func(p []byte) {
		if n <= 0 {
			return
		}
		os.Stdout.Write(p[:min(len(p), n)])
		n -= len(p)
	})
	os.Stdout.Close()
	os.Exit(0)
}

// TestBoundedMemory feeds what a hostile or broken app might write and
// checks the Extractor's footprint after every chunk, and the heap it
// keeps alive at the end.
func TestBoundedMemory(t *testing.T) {
	const bound = 300 << 10
	long := bytes.Repeat([]byte("x"), 1<<20)
	huge := func(prefix string) []byte { return append([]byte(prefix), long...) }
	inputs := [][]byte{
		huge("no newline at all "), // one 1 MiB line, then more of it
		long, []byte("\n"),
		huge("java.lang.IllegalStateException: "), []byte("\n\tat com.example.A.a(A.java:1)\n"), // a 1 MiB message
		huge("Caused by: java.lang.Error: "), []byte("\n"),
		[]byte("APPLICATION FAILED TO START\nDescription:\n"), huge(""), []byte("\n"), // a 1 MiB description
		huge("#  SIGSEGV "), []byte("\n# Problematic frame:\n"), huge("# C  [lib"), []byte("\n"),
		append(append([]byte(`{"level":"ERROR","stack_trace":"java.lang.Error: `), long...), []byte("\"}\n")...),
		[]byte("Error: Unable to access jarfile "), huge("/"), []byte("\n"),
	}
	chain := bytes.Repeat([]byte("Caused by: java.lang.Error: again\n\tat com.example.A.a(A.java:1)\n"), 10000)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	e := New()
	for round := 0; round < 20; round++ {
		for _, in := range inputs {
			for s := Stdout; s <= Stderr; s++ {
				for off := 0; off < len(in); off += benchChunk {
					e.Write(s, in[off:min(off+benchChunk, len(in))])
					if f := e.Footprint(); f > bound {
						t.Fatalf("round %d: footprint %d bytes, bound %d", round, f, bound)
					}
				}
			}
		}
		e.Write(Stdout, chain) // an endless chain of Caused by levels
	}
	e.Close()
	c := e.Best()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	kept := int64(ms.HeapAlloc) - int64(before)
	t.Logf("footprint %d bytes, heap kept %d bytes, cause %s", e.Footprint(), kept, c.Kind)
	if kept > 2*bound {
		t.Errorf("the Extractor keeps %d bytes of heap, want at most %d", kept, 2*bound)
	}
	if c == nil || len(c.Summary) > MaxSummary || len(c.Description) > maxField || len(c.Message) > maxField {
		t.Errorf("cause %+v", c)
	}
	runtime.KeepAlive(e)
	runtime.KeepAlive(inputs)
	runtime.KeepAlive(chain)
}
