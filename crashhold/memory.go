package crashhold

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/dumps"
	"github.com/holdfast-dev/holdfast/internal/jvmsize"
	"github.com/holdfast-dev/holdfast/internal/memwatch"
)

// MemoryEvidenceDir is the run dir's subdirectory for the evidence taken
// when memory first reaches the watermark (90% of the limit).
const MemoryEvidenceDir = "memory"

// memState is what the memory watch keeps across runs (Run goroutine).
type memState struct {
	found   bool // the cgroup was looked for
	cg      memwatch.Cgroup
	cgErr   error
	sizeLog string // the last JVM sizing logged, to log it once
}

// memRun is the memory sampling of one run.
type memRun struct {
	sampler *memwatch.Sampler
	warned  bool // a sampling error was logged
}

// cgroup finds holdfast's memory cgroup once (the app's: it is spawned in
// it, and in a container holdfast and the app share one).
func (s *Supervisor) cgroup() (memwatch.Cgroup, error) {
	if !s.mem.found {
		s.mem.found = true
		s.mem.cg, s.mem.cgErr = memwatch.Find()
		if s.mem.cgErr != nil {
			s.log.Info("memory sampling off: no memory cgroup found", "err", s.mem.cgErr)
		} else {
			s.log.Info("memory cgroup", "version", s.mem.cg.Version.String(), "dir", s.mem.cg.Dir)
		}
	}
	return s.mem.cg, s.mem.cgErr
}

// startMemory sizes the JVM against the limit and starts sampling run r
// into its run dir's timeline. nil: no sampling (--memory-watch=false, no
// run dir, no cgroup).
func (s *Supervisor) startMemory(r *appRun, w *runWatch) *memRun {
	if !s.cfg.MemoryWatch {
		return nil
	}
	cg, err := s.cgroup()
	if err != nil {
		return nil
	}
	s.sizeJVM(r, cg)
	if r.rec.Dir == "" {
		return nil
	}
	pid := r.child.Pid
	sm, err := memwatch.NewSampler(memwatch.Config{
		Cgroup: cg, PID: pid,
		Timeline: filepath.Join(r.rec.Dir, memwatch.TimelineName),
		OnWatermark: func(p memwatch.Point) {
			// On the watcher goroutine: the cheap evidence at once, then
			// the warning and the thread dump on the supervisor's.
			saved, err := saveMemoryEvidence(r.rec.Dir, pid, cg)
			s.post(w, func() { s.onWatermark(r, p, saved, err) })
		},
	})
	if err != nil {
		s.log.Warn("cannot sample the app's memory", "run", r.rec.Run, "err", err)
		return nil
	}
	return &memRun{sampler: sm}
}

// saveMemoryEvidence copies /proc/<pid>/status, smaps_rollup and the
// cgroup's memory.stat into the run dir's memory/.
func saveMemoryEvidence(runDir string, pid int, cg memwatch.Cgroup) ([]string, error) {
	dir := filepath.Join(runDir, MemoryEvidenceDir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	return memwatch.SaveEvidence(dir, pid, cg)
}

// sampleMemory takes one sample (watcher goroutine).
func (s *Supervisor) sampleMemory(r *appRun, w *runWatch) (memwatch.Point, error) {
	m := w.mem
	p, err := m.sampler.Sample(s.d.Clock.Now())
	if err != nil && !m.warned {
		m.warned = true
		s.post(w, func() { s.log.Warn("cannot sample the app's memory", "run", r.rec.Run, "err", err) })
	}
	return p, err
}

// Memory is sampled every memoryFast from memwatch.DefaultFastAbove (half)
// of the limit on, every memorySlow below it or without a limit: the
// timeline is fine where the OOM kill comes from, and the wakeups few
// while memory is far from the limit. Memory that grows fast enough to
// reach the watermark within memoryLookahead at its last rate is sampled
// fast at any level, so that a sample falls between the watermark and the
// kill.
const (
	memoryFast      = time.Second
	memorySlow      = 5 * time.Second
	memoryLookahead = 3 * memorySlow
)

// memoryWait is the wait after sample p, prev being the sample before it
// (zero for the first).
func memoryWait(prev, p memwatch.Point, err error) time.Duration {
	switch {
	case err != nil:
		return memoryFast
	case p.Limit == memwatch.NoLimit:
		return memorySlow
	case prev.Time.IsZero() || !p.Time.After(prev.Time):
		return memoryFast // no rate known yet
	case float64(p.Usage) >= memwatch.DefaultFastAbove*float64(p.Limit):
		return memoryFast
	}
	rate := (float64(p.Usage) - float64(prev.Usage)) / p.Time.Sub(prev.Time).Seconds()
	if float64(p.Usage)+rate*memoryLookahead.Seconds() >= memwatch.DefaultWatermark*float64(p.Limit) {
		return memoryFast
	}
	return memorySlow
}

// onWatermark: usage first reached 90% of the limit in run r. One warning
// line, and of a JVM a thread dump (a file, and through SIGQUIT in
// output.log) and a class histogram next to the evidence saved.
func (s *Supervisor) onWatermark(r *appRun, p memwatch.Point, saved []string, err error) {
	if !s.watching(r) {
		return
	}
	s.log.Warn("memory at 90% of the container's limit; evidence saved", "run", r.rec.Run,
		"usage", jvmsize.HumanBytes(p.Usage), "limit", jvmsize.HumanBytes(p.Limit), "app_rss", jvmsize.HumanBytes(p.RSS),
		"evidence", filepath.Join(r.rec.Dir, MemoryEvidenceDir), "files", len(saved), "err", err)
	if r.isJava {
		s.threadDumpAsync(r, "memory watermark", dumpBound(dumps.Threads), true)
		s.takeDumpsAsync("memory watermark", dumps.Histogram)
	}
}

// stopMemory ends run r's sampling and keeps its summary in the record.
func (s *Supervisor) stopMemory(r *appRun, m *memRun) {
	if m == nil {
		return
	}
	_ = m.sampler.Close()
	sum := m.sampler.Summary()
	if sum.Samples > 0 {
		r.rec.Memory = &sum
	}
}

// sizeJVM works out a JVM's effective maximum heap against the limit,
// logs it (once while it stays the same), warns when the heap alone
// reaches the limit, and keeps the numbers in the run's record.
func (s *Supervisor) sizeJVM(r *appRun, cg memwatch.Cgroup) {
	if !jvmsize.IsJava(s.cfg.Command) {
		return
	}
	_, limit, err := cg.Usage()
	if err != nil || limit == memwatch.NoLimit {
		return
	}
	res, err := jvmsize.Compute(jvmsize.Input{Argv: s.cfg.Command, Env: s.AppEnv(), Limit: limit,
		HostMemory: memTotal(), CPUs: runtime.NumCPU()})
	if err != nil {
		s.log.Info("cannot work out the JVM's maximum heap", "err", err)
		return
	}
	r.rec.JVMHeap = &res
	line := fmt.Sprintf("%d/%d/%s", res.MaxHeap, res.Limit, res.Source)
	if line == s.mem.sizeLog {
		return
	}
	s.mem.sizeLog = line
	args := []any{"max_heap", jvmsize.HumanBytes(res.MaxHeap), "limit", jvmsize.HumanBytes(res.Limit), "source", res.Source}
	if len(res.Ignored) > 0 {
		args = append(args, "not_followed", strings.Join(res.Ignored, " "))
	}
	if res.ReachesLimit {
		s.log.Warn("the JVM's maximum heap alone reaches the container's memory limit: the kernel will OOM-kill it before it throws OutOfMemoryError", args...)
		return
	}
	s.log.Info("JVM heap against the memory limit", append(args, "share", fmt.Sprintf("%.0f%%", 100*float64(res.MaxHeap)/float64(res.Limit)))...)
}

// memTotal is the machine's memory (MemTotal of /proc/meminfo), 0 when
// unknown.
func memTotal() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
