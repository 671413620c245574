package kubelet

// The log path of a real pod, as a benchmark (issue 16): containerd's shim reads every
// byte of a container's stdout and writes it, line by line, to the CRI log file. An app
// writing BYTES as 128-byte lines runs as the container's process itself ("plain") and
// under holdfast (the image's entrypoint); the measure is the time from the app's first
// line to its last in the CRI log file (the shim's own timestamps of a START and an END
// line), the CPU of the container's cgroup and the CPU of the pod's shim over that span.
// Opt in: HOLDFAST_BENCH_LOGPATH=1 (not part of the e2e suite).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// logPathSample is one run of the writer.
type logPathSample struct {
	span      time.Duration // START to END in the CRI log, by the shim's timestamps
	container time.Duration // CPU of the container's cgroup over the span
	shim      time.Duration // CPU of the pod's shim over the span
}

// TestKubeletLogPath is the benchmark; HOLDFAST_BENCH_LOGPATH_BYTES (1 GiB) and
// HOLDFAST_BENCH_LOGPATH_REPS (3) size it.
func TestKubeletLogPath(t *testing.T) {
	if os.Getenv("HOLDFAST_BENCH_LOGPATH") == "" {
		t.Skip("a benchmark: set HOLDFAST_BENCH_LOGPATH=1 to run it")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the kubelet benchmark needs root (containerd, cgroups, network namespaces)")
	}
	total := envInt(t, "HOLDFAST_BENCH_LOGPATH_BYTES", 1<<30)
	reps := int(envInt(t, "HOLDFAST_BENCH_LOGPATH_REPS", 3))
	runtime.LockOSThread() // see TestKubelet: the daemons' Pdeathsig

	tl := prepareTools(t)
	tmpl := baseTemplate(t)
	archive := buildImages(t, t.TempDir())
	c := startCluster(t, tl, archive)
	w := newLogPathApp(t)

	modes := []string{"plain", "holdfast"}
	res := map[string][]logPathSample{}
	for r := range reps {
		for k := range modes {
			mode := modes[(k+r)%len(modes)]
			s := c.logPathRun(t, tmpl, w, mode, r, total)
			t.Logf("%s #%d: %v START to END, container CPU %v, shim CPU %v", mode, r, s.span.Round(time.Millisecond),
				s.container.Round(time.Millisecond), s.shim.Round(time.Millisecond))
			res[mode] = append(res[mode], s)
		}
	}
	gib := float64(total) / (1 << 30)
	var b strings.Builder
	fmt.Fprintf(&b, "| app | MiB/s to the CRI log | vs plain | container CPU s/GiB | shim CPU s/GiB |\n|---|---:|---:|---:|---:|\n")
	plain := float64(total) / (1 << 20) / median(res["plain"], func(s logPathSample) float64 { return s.span.Seconds() })
	for _, m := range modes {
		mibs := float64(total) / (1 << 20) / median(res[m], func(s logPathSample) float64 { return s.span.Seconds() })
		fmt.Fprintf(&b, "| %s | %.0f | %.2fx | %.2f | %.2f |\n", m, mibs, mibs/plain,
			median(res[m], func(s logPathSample) float64 { return s.container.Seconds() })/gib,
			median(res[m], func(s logPathSample) float64 { return s.shim.Seconds() })/gib)
	}
	t.Logf("app %s, median of %d runs of %d MiB each, interleaved; load average %s\n%s", w.kind, reps, total>>20, loadavg(), b.String())
}

// logPathRun runs the writer once as pod lp-MODE-REP and waits for its END line.
func (c *cluster) logPathRun(t *testing.T, tmpl corev1.PodTemplateSpec, w logPathApp, mode string, rep int, total int64) logPathSample {
	t.Helper()
	name := fmt.Sprintf("lp-%s-%d", mode, rep)
	argv, gate := w.argv(t, name, total)
	p := staticPod(t, tmpl, name, "springfail", func(ctr *corev1.Container) {
		// Like for like: no probes (plain has no holdfast port to probe).
		ctr.LivenessProbe, ctr.ReadinessProbe, ctr.StartupProbe = nil, nil, nil
		if mode == "plain" {
			ctr.Command = argv
		} else {
			ctr.Args = argv
		}
		if w.dir != "" {
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: "bench", MountPath: benchMount})
		}
	})
	if w.dir != "" {
		dirType := corev1.HostPathDirectory
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "bench",
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: w.dir, Type: &dirType}}})
	}
	c.apply(t, p)
	defer c.deleteAllPods()

	// The baselines are read once the container runs and before the app writes.
	var (
		cpu0, shim0    time.Duration
		cgroup, shimID string
	)
	err := waitFor(podWait, 20*time.Millisecond, func() error {
		var err error
		if cgroup, shimID, err = c.containerProcs(name); err != nil {
			return err
		}
		if !gate.ready() {
			return fmt.Errorf("the app is not ready yet: %w", errNotYet)
		}
		if cpu0, err = cgroupCPU(cgroup); err != nil {
			return err
		}
		shim0, err = procCPU(shimID)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	start := gate.open(t)
	var end time.Time
	err = waitFor(20*time.Minute, 10*time.Millisecond, func() error {
		var ok bool
		if start.IsZero() {
			if start, ok = c.findLine(name, "START", true); !ok {
				return fmt.Errorf("no START line yet: %w", errNotYet)
			}
		}
		if end, ok = c.findLine(name, "END", false); !ok {
			return fmt.Errorf("no END line yet: %w", errNotYet)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cpu1, err := cgroupCPU(cgroup)
	if err != nil {
		t.Fatal(err)
	}
	shim1, err := procCPU(shimID)
	if err != nil {
		t.Fatal(err)
	}
	return logPathSample{span: end.Sub(start), container: cpu1 - cpu0, shim: shim1 - shim0}
}

// benchMount is where the lines app's dir is mounted in the container.
const benchMount = "/bench"

// logPathApp is the writer: "lines" (benchapp lines: 128-byte lines in 64 KiB writes, on
// a signal from the test) or "yes" (busybox `yes | head -c`: a write per line).
type logPathApp struct {
	kind string
	dir  string // lines: the host dir with benchapp, mounted at benchMount
}

// gate starts the app's writing: ready once the app waits, open lets it write and
// returns when (zero: at its START line, by the shim's clock).
type gate struct {
	ready func() bool
	open  func(t *testing.T) time.Time
}

func newLogPathApp(t *testing.T) logPathApp {
	kind := os.Getenv("HOLDFAST_BENCH_LOGPATH_APP")
	switch kind {
	case "", "lines":
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		goBuild(t, filepath.Join(dir, "benchapp"), "./cmd/benchapp", filepath.Join(repoRoot, "bench"))
		return logPathApp{kind: "lines", dir: dir}
	case "yes":
		return logPathApp{kind: "yes"}
	}
	t.Fatalf("HOLDFAST_BENCH_LOGPATH_APP=%q: want lines or yes", kind)
	return logPathApp{}
}

func (w logPathApp) argv(t *testing.T, name string, total int64) ([]string, gate) {
	if w.kind == "yes" {
		// The app sleeps a second before its START line: the baselines are read first.
		script := fmt.Sprintf("sleep 1; echo START; yes %s | head -c %d; echo; echo END; exec sleep 3600",
			strings.Repeat("x", 127), total)
		return []string{"sh", "-c", script}, gate{
			ready: func() bool { return true },
			open:  func(*testing.T) time.Time { return time.Time{} },
		}
	}
	run := filepath.Join(w.dir, name)
	if err := os.Mkdir(run, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(run, 0o777); err != nil {
		t.Fatal(err)
	}
	return []string{benchMount + "/benchapp", "lines", strconv.FormatInt(total, 10), benchMount + "/" + name, "END"}, gate{
		ready: func() bool {
			_, err := os.Stat(filepath.Join(run, "ready"))
			return err == nil
		},
		open: func(t *testing.T) time.Time {
			now := time.Now()
			if err := os.WriteFile(filepath.Join(run, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return now
		},
	}
}

// findLine looks for a line that is exactly want in the CRI log files of pod name's app
// container that are not compressed (the current one and the last rotated one; in the
// first 64 KiB of each when head, else in the last) and returns the shim's timestamp of it.
func (c *cluster) findLine(name, want string, head bool) (time.Time, bool) {
	files, _ := filepath.Glob(filepath.Join(c.podLogs, "default_"+name+"-"+nodeName+"_*", "app", "0.log*"))
	for _, path := range files {
		if strings.HasSuffix(path, ".gz") {
			continue
		}
		if ts, ok := findLineIn(path, want, head); ok {
			return ts, true
		}
	}
	return time.Time{}, false
}

func findLineIn(path, want string, head bool) (time.Time, bool) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	const window = 64 << 10
	off := int64(0)
	if !head {
		fi, err := f.Stat()
		if err != nil {
			return time.Time{}, false
		}
		off = max(0, fi.Size()-window)
	}
	buf := make([]byte, window)
	n, _ := f.ReadAt(buf, off)
	for _, l := range strings.Split(string(buf[:n]), "\n") {
		// "<RFC3339Nano> stdout F <line>"
		if fs := strings.SplitN(l, " ", 4); len(fs) == 4 && fs[1] == "stdout" && fs[2] == "F" && fs[3] == want {
			ts, err := time.Parse(time.RFC3339Nano, fs[0])
			return ts, err == nil
		}
	}
	return time.Time{}, false
}

// containerProcs returns the cpuacct cgroup dir of pod name's app container and the pid
// of its shim (the parent of the container's first process).
func (c *cluster) containerProcs(name string) (string, string, error) {
	out, err := c.crictl("ps", "--quiet", "--name", "app", "--label", "io.kubernetes.pod.name="+name+"-"+nodeName)
	if err != nil {
		return "", "", err
	}
	ids := strings.Fields(out)
	if len(ids) != 1 {
		return "", "", fmt.Errorf("want one app container of %s, have %v: %w", name, ids, errNotYet)
	}
	out, err = c.crictl("inspect", ids[0])
	if err != nil {
		return "", "", err
	}
	var insp struct {
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &insp); err != nil || insp.Info.Pid == 0 {
		return "", "", fmt.Errorf("no pid in crictl inspect of %s (%v)", ids[0], err)
	}
	pid := strconv.Itoa(insp.Info.Pid)
	cg, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return "", "", err
	}
	dir := ""
	for _, l := range strings.Split(string(cg), "\n") {
		if fs := strings.SplitN(l, ":", 3); len(fs) == 3 && fs[1] == "cpuacct" {
			dir = filepath.Join("/sys/fs/cgroup/cpuacct", fs[2])
		}
	}
	if dir == "" {
		return "", "", fmt.Errorf("no cpuacct cgroup for pid %s:\n%s", pid, cg)
	}
	st, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", "", err
	}
	fs := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
	return dir, fs[1], nil // fields after the name: state, ppid, ...
}

// cgroupCPU is the CPU the cgroup at dir has used (cpuacct.usage, ns).
func cgroupCPU(dir string) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(n), err
}

// procCPU is the user+system CPU of process pid (its threads), from /proc/pid/stat.
func procCPU(pid string) (time.Duration, error) {
	st, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	fs := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
	ut, _ := strconv.ParseInt(fs[11], 10, 64) // utime is field 14: the 12th after the name
	stt, _ := strconv.ParseInt(fs[12], 10, 64)
	return time.Duration(ut+stt) * time.Second / 100, nil // USER_HZ
}

func envInt(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func median(s []logPathSample, f func(logPathSample) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	sort.Float64s(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
