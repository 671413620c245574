package memwatch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procCost is what a process has cost so far: context switches of all its
// threads (each a wakeup or a preemption) and CPU time in clock ticks.
type procCost struct {
	switches uint64
	ticks    uint64
}

func readProcCost(t *testing.T, pid int) procCost {
	t.Helper()
	var c procCost
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks of %d: %v", pid, err)
	}
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			continue // a thread that just ended
		}
		st := parseKeyedColon(string(data))
		c.switches += st["voluntary_ctxt_switches"] + st["nonvoluntary_ctxt_switches"]
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	stt, _ := strconv.ParseUint(f[12], 10, 64)
	c.ticks = ut + stt
	return c
}

func parseKeyedColon(s string) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// TestRealSamplerCost runs a process that samples once a second side by
// side with one whose one-second ticker does nothing, and compares their
// wakeups and CPU over the same stretch. The budget: at most one wakeup a
// second more than the bare ticker, and at most 0.1% of a CPU.
func TestRealSamplerCost(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for 20 s")
	}
	if _, err := Find(); err != nil {
		t.Skipf("no memory cgroup: %v", err)
	}
	const span = 20 * time.Second
	on := startHelper(t, "cost", "HOLDFAST_SAMPLING=1", "HOLDFAST_TIMELINE="+tempPath(t, "memory.timeline"))
	off := startHelper(t, "cost", "HOLDFAST_SAMPLING=0")
	on.expect(t, "ready", 60*time.Second)
	off.expect(t, "ready", 60*time.Second)
	// Let both settle past start-up (the runtime's first GC, sysmon's
	// back-off) before measuring.
	time.Sleep(3 * time.Second)
	on0, off0 := readProcCost(t, on.cmd.Process.Pid), readProcCost(t, off.cmd.Process.Pid)
	start := time.Now()
	time.Sleep(span)
	on1, off1 := readProcCost(t, on.cmd.Process.Pid), readProcCost(t, off.cmd.Process.Pid)
	secs := time.Since(start).Seconds()

	onW := float64(on1.switches-on0.switches) / secs
	offW := float64(off1.switches-off0.switches) / secs
	onCPU := float64(on1.ticks-on0.ticks) / 100 / secs * 100 // percent, at USER_HZ 100
	offCPU := float64(off1.ticks-off0.ticks) / 100 / secs * 100
	t.Logf("over %.1f s: sampling %.2f wakeups/s %.3f%% CPU; bare ticker %.2f wakeups/s %.3f%% CPU",
		secs, onW, onCPU, offW, offCPU)
	if onW-offW > 1.0 {
		t.Errorf("sampling adds %.2f wakeups/s, budget 1", onW-offW)
	}
	if onCPU > 0.1 {
		t.Errorf("sampling costs %.3f%% CPU, budget 0.1%%", onCPU)
	}
}

// BenchmarkSample measures the CPU of one sample of the real cgroup and
// this process (at one sample a second, ns/op ÷ 10⁷ is the share of a CPU
// in percent).
func BenchmarkSample(b *testing.B) {
	cg, err := Find()
	if err != nil {
		b.Skip(err)
	}
	s, err := NewSampler(Config{Cgroup: cg, PID: os.Getpid(), Timeline: filepath.Join(b.TempDir(), "t")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Sample(now.Add(time.Duration(i) * time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}
