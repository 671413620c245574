package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
)

// stackBlock is 16 MiB, made on first use, of a Spring Boot service's output in which most
// bytes are stack traces: INFO request lines, WARN traces of 30 frames and
// ERROR chains of two levels with up to 90 frames. The extractor names
// one of the ERROR chains near the end as the cause.
var stackBlock = sync.OnceValue(func() []byte {
	const size = 16 << 20
	frames := []string{
		"\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.doCreateBean(AbstractAutowireCapableBeanFactory.java:562) ~[spring-beans-6.1.13.jar!/:6.1.13]\n",
		"\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103) ~[na:na]\n",
		"\tat org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174) ~[tomcat-embed-core-10.1.30.jar!/:na]\n",
		"\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181) ~[HikariCP-5.1.0.jar!/:na]\n",
		"\tat java.base/java.lang.Thread.run(Thread.java:840) ~[na:na]\n",
	}
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		for j := range 8 {
			fmt.Fprintf(&b, "2026-12-06T10:%02d:%02d.%03dZ  INFO 1 --- [nio-8080-exec-%d] c.e.orders.web.OrdersController          : GET /orders/%d 200\n", i%60, j, i%1000, j, i*8+j)
		}
		level, n := "WARN", 30
		if i%3 == 0 {
			level, n = "ERROR", 90
		}
		fmt.Fprintf(&b, "2026-12-06T10:%02d:59.999Z %s 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception\n\n", i%60, level)
		b.WriteString("org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection\n")
		for k := range n {
			b.WriteString(frames[k%len(frames)])
		}
		b.WriteString("\tat com.example.orders.web.OrdersController.list(OrdersController.java:42) ~[!/:3.1.0]\n")
		b.WriteString("Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.\n")
		for k := range n / 3 {
			b.WriteString(frames[k%len(frames)])
		}
		fmt.Fprintf(&b, "\t... %d common frames omitted\n\n", n)
	}
	return b.Bytes()
})

// writeStacks writes n bytes of stackBlock, over and over, in 64 KiB
// writes, ending with a whole line.
func writeStacks(w io.Writer, n int64) error {
	blk := stackBlock()
	blk = blk[:bytes.LastIndexByte(blk, '\n')+1]
	for off := 0; n > 0; {
		k := int(min(n, bulkChunk, int64(len(blk)-off)))
		if _, err := w.Write(blk[off : off+k]); err != nil {
			return err
		}
		n -= int64(k)
		if off += k; off == len(blk) {
			off = 0
		}
	}
	return nil
}

// BenchmarkRelayCause relays 1 GiB of stack-trace-heavy output per op
// through a capture Run as holdfast has it (console on /dev/null,
// output.log, the default cap and budget), with the cause extractor off
// and on, the two interleaved in each op (in turns first) so that they
// share the machine's noise; use an even -benchtime. It reports each one's relay CPU per GiB and wall throughput, the
// ratios on/off, and the extractor's footprint at the end of the output.
func BenchmarkRelayCause(b *testing.B) {
	con := nullConsole(b)
	dir := b.TempDir()
	budget := NewBudget(DefaultMemoryBudget)
	size := int64(benchBytes)
	if s := os.Getenv("CAPTURE_BENCH_BYTES"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	b.SetBytes(2 * size)
	var cpu, wall [2]float64
	var cpuRatio, wallRatio []float64
	foot := 0
	for op := 0; b.Loop(); op++ {
		var c1, w1 [2]float64
		// Each op swaps the order: the first of a pair pays for the
		// release of the last run's retained log (the budget's GC).
		order := []int{0, 1}
		if op%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			c, w, f := relayStacks(b, con, dir, budget, i == 0, size)
			cpu[i] += c
			wall[i] += w
			c1[i], w1[i] = c, w
			foot = max(foot, f)
		}
		cpuRatio = append(cpuRatio, c1[0]/c1[1])
		wallRatio = append(wallRatio, w1[0]/w1[1])
		b.Logf("op %d: off %.0f ms cpu %.2f s wall, on %.0f ms cpu %.2f s wall", op, c1[0]*1e3, w1[0], c1[1]*1e3, w1[1])
	}
	n := float64(b.N)
	gib := float64(size) / (1 << 30)
	b.ReportMetric(cpu[0]/n/gib*1e3, "off-cpu-ms/GiB")
	b.ReportMetric(cpu[1]/n/gib*1e3, "on-cpu-ms/GiB")
	b.ReportMetric(float64(size)/(wall[0]/n)/1e6, "off-MB/s")
	b.ReportMetric(float64(size)/(wall[1]/n)/1e6, "on-MB/s")
	b.ReportMetric(wall[0]/wall[1], "wall-throughput-on/off")
	b.ReportMetric(cpu[0]/cpu[1], "cpu-throughput-on/off")
	b.ReportMetric(median(wallRatio), "median-wall-on/off")
	b.ReportMetric(median(cpuRatio), "median-cpu-on/off")
	b.ReportMetric(float64(foot), "extractor-footprint-bytes")
}

// relayStacks relays size bytes of stack-heavy output from a child through
// one Run and returns the relay's CPU seconds, the wall seconds and the
// extractor's footprint once the output ended (0 when off).
func relayStacks(b *testing.B, con *Console, dir string, budget *Budget, off bool, size int64) (cpu, wall float64, foot int) {
	start, t0 := cpuTime(), time.Now()
	run, err := Start(Options{Console: con, LogPath: dir + "/output.log", Budget: budget, NoCause: off})
	if err != nil {
		b.Fatal(err)
	}
	cmd := child(b, run, nil, "stacks", strconv.FormatInt(size, 10))
	<-run.drained
	if w := run.log.why; w != nil {
		run.log.mu.Lock()
		foot = w.e.Footprint()
		run.log.mu.Unlock()
	}
	if err := run.Finish(context.Background()); err != nil {
		b.Fatal(err)
	}
	c := run.Cause(cause.Exit{Code: 1})
	cmd.Wait()
	wall = time.Since(t0).Seconds()
	cpu = (cpuTime()[0] - start[0]).Seconds()
	if run.Total(Stdout) != size {
		b.Fatalf("relayed %d bytes", run.Total(Stdout))
	}
	if !off && (c == nil || c.Kind != cause.Exception || c.Line == 0) {
		b.Fatalf("cause %+v", c)
	}
	run.Release()
	return cpu, wall, foot
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
