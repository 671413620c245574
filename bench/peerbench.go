package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

// peerCols are the ratio cells of a peers table: v over holdfast's and
// over bare's value of the same column ("—" where a row has none).
func peerCols(v, hf, bare float64, haveBare bool) []string {
	out := []string{x(ratio(v, hf))}
	if haveBare {
		out = append(out, x(ratio(v, bare)))
	}
	return out
}

func peerIndex(ps []peerSup, k peerKind) int {
	for i, p := range ps {
		if p.kind == k {
			return i
		}
	}
	return -1
}

func medianAt(s []sample, i int) float64 {
	if i < 0 {
		return 0
	}
	return s[i].Median()
}

// fifoReader makes a fifo in the work dir and opens it O_RDWR (never
// blocks, and reads wait for a writer's line); lines arrive on the channel.
func (b *bench) fifoReader(name string) (string, <-chan string, func(), error) {
	path := filepath.Join(b.work, name)
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return "", nil, nil, fmt.Errorf("cannot create fifo %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", nil, nil, fmt.Errorf("cannot open fifo %s: %w", path, err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return path, lines, func() { f.Close(); os.Remove(path) }, nil
}

// startStamped starts p with `benchapp stamp FIFO` and returns the session
// and the ns from just before the fork of unshare to the app's first
// instant in main.
func (b *bench) startStamped(p peerSup, o peerOpts) (*session, float64, error) {
	fifo, lines, closeFifo, err := b.fifoReader("stamp-" + sanitize(p.name) + ".fifo")
	if err != nil {
		return nil, 0, err
	}
	defer closeFifo()
	t0 := mono.Now()
	s, err := startSession(b.peerVariant(p, o), []string{b.app, "stamp", fifo}, b.work, false)
	if err != nil {
		return nil, 0, err
	}
	select {
	case line := <-lines:
		t1, err := strconv.ParseInt(strings.TrimPrefix(line, "start "), 10, 64)
		if err != nil {
			s.kill()
			return nil, 0, fmt.Errorf("%s: bad stamp %q", p.name, line)
		}
		return s, float64(t1 - t0), nil
	case err := <-s.done:
		s.done <- err
		s.kill()
		return nil, 0, fmt.Errorf("%s: exited (%v) before the app started%s", p.name, err, s.stderrTail())
	case <-time.After(30 * time.Second):
		s.kill()
		return nil, 0, fmt.Errorf("%s: the app did not start within 30s%s", p.name, s.stderrTail())
	}
}

// peerStartup times start to app running under each peer, iters rounds,
// each round every peer in an order rotated by one. Two floors close the
// table: a hello-world static Go binary forked, exec'd and waited for (no
// namespace), and `holdfast version`: what a Go binary of holdfast's size
// and libraries costs to start before it does anything.
func (b *bench) peerStartup(ps []peerSup, iters int) *table {
	res := make([]sample, len(ps))
	var errs []string
	for i := -2; i < iters; i++ {
		for k := range ps {
			j := (k + max(i, 0)) % len(ps)
			s, ns, err := b.startStamped(ps[j], peerOpts{})
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			s.kill()
			if i >= 0 {
				res[j] = append(res[j], ns/1e6)
			}
		}
	}
	var hello, hfVersion sample
	for range iters {
		hello = append(hello, timeRun(b.app, "true"))
		hfVersion = append(hfVersion, timeRun(b.holdfast, "version"))
	}
	t := &table{
		title: "Start to app running",
		intro: fmt.Sprintf("From just before the fork of `unshare --pid --fork --mount-proc` to the app's first instant in main (`benchapp stamp`, CLOCK_MONOTONIC), %d runs per row, interleaved, after 2 warm-up rounds. "+
			"Floors (no namespace): a hello-world static Go binary (`benchapp true`) and `holdfast version`, each fork+exec+wait from this process.", iters),
		header: []string{"supervisor", "median ms", "p90 ms", "over bare ms", "vs holdfast", "vs bare"},
	}
	hf, bare := peerIndex(ps, kindHoldfast), peerIndex(ps, kindBare)
	for j, p := range ps {
		m := res[j].Median()
		over := "—"
		if p.kind != kindBare {
			over = f(m-medianAt(res, bare), 2)
		}
		t.add(append([]string{p.name, f(m, 2), f(res[j].Quantile(0.9), 2), over}, peerCols(m, medianAt(res, hf), medianAt(res, bare), true)...)...)
	}
	t.add(append([]string{"floor: hello-world static Go binary", f(hello.Median(), 2), f(hello.Quantile(0.9), 2), "—"}, peerCols(hello.Median(), medianAt(res, hf), medianAt(res, bare), true)...)...)
	t.add(append([]string{"floor: `holdfast version`", f(hfVersion.Median(), 2), f(hfVersion.Quantile(0.9), 2), "—"}, peerCols(hfVersion.Median(), medianAt(res, hf), medianAt(res, bare), true)...)...)
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

// timeRun is the wall ms of fork+exec+wait of argv.
func timeRun(argv ...string) float64 {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = cleanEnv()
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return float64(0)
	}
	return ms(time.Since(t0))
}

// peerIdle starts every peer at once with the idling app, waits until all
// apps run plus settle, reads each supervisor's smaps_rollup and counts
// its threads' timeslices and CPU over the same window. reps rounds.
func (b *bench) peerIdle(ps []peerSup, window time.Duration, reps int) *table {
	const settle = 3 * time.Second
	type res struct{ rss, pss, anon, threads, wake, cpu sample }
	r := make([]res, len(ps))
	var errs []string
	for range reps {
		sess := make([]*session, len(ps))
		for j, p := range ps {
			if p.isBare() {
				continue
			}
			s, _, err := b.startStamped(p, peerOpts{})
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			sess[j] = s
		}
		time.Sleep(settle)
		before := make([]schedstat, len(ps))
		for j, s := range sess {
			if s == nil {
				continue
			}
			if roll, err := procStatusFile(fmt.Sprintf("/proc/%d/smaps_rollup", s.pid1)); err == nil {
				r[j].rss = append(r[j].rss, float64(roll["Rss"])/1024)
				r[j].pss = append(r[j].pss, float64(roll["Pss"])/1024)
				r[j].anon = append(r[j].anon, float64(roll["Anonymous"])/1024)
			}
			before[j], _ = readSchedstat(s.pid1)
		}
		time.Sleep(window)
		for j, s := range sess {
			if s == nil {
				continue
			}
			after, err := readSchedstat(s.pid1)
			if err == nil {
				r[j].wake = append(r[j].wake, float64(after.slices-before[j].slices)/window.Seconds())
				r[j].cpu = append(r[j].cpu, float64(after.cpuNs-before[j].cpuNs)/1e3/window.Seconds())
				r[j].threads = append(r[j].threads, float64(after.threads))
			}
			s.kill()
		}
	}
	t := &table{
		title:  "Idle supervisor: memory and wakeups",
		intro:  fmt.Sprintf("All supervisors run at once, each with the app idling (`benchapp stamp`); %s after every app started, the supervisor's (PID 1's) Rss, Pss and anonymous memory from /proc/<pid>/smaps_rollup, then the timeslices (schedstat field 3) and CPU time of all its threads over the same %s window. Median of %d rounds.", settle, window, reps),
		header: []string{"supervisor", "Rss MiB", "Pss MiB", "anon MiB", "threads", "wakeups/s", "CPU µs/s", "Rss vs holdfast", "Pss vs holdfast", "wakeups vs holdfast"},
	}
	hf := peerIndex(ps, kindHoldfast)
	for j, p := range ps {
		if p.isBare() {
			continue
		}
		t.add(p.name, f(r[j].rss.Median(), 2), f(r[j].pss.Median(), 2), f(r[j].anon.Median(), 2), f(r[j].threads.Median(), 0),
			f(r[j].wake.Median(), 2), f(r[j].cpu.Median(), 1),
			x(ratio(r[j].rss.Median(), r[hf].rss.Median())), x(ratio(r[j].pss.Median(), r[hf].pss.Median())), x(ratio(r[j].wake.Median(), r[hf].wake.Median())))
	}
	t.note("No bare row: with no supervisor there is nothing to measure (0 MiB, 0 wakeups).")
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

// peerRestart measures restart after a crash at each peer's least delay:
// `benchapp crash FILE` exits 1 at once; latency = the next run's first
// instant in main minus the last run's last instant before exit(1).
func (b *bench) peerRestart(ps []peerSup, restarts, rounds int) *table {
	const roundTime = 20 * time.Second
	all := make([]sample, len(ps))
	var errs []string
	for r := range rounds {
		for k := range ps {
			j := (k + r) % len(ps)
			p := ps[j]
			if p.isBare() {
				lat, err := b.restartFloor(restarts)
				if err != nil {
					errs = append(errs, err.Error())
				}
				all[j] = append(all[j], lat...)
				continue
			}
			file := filepath.Join(b.work, "crash-"+sanitize(p.name)+".log")
			os.Remove(file)
			s, err := startSession(b.peerVariant(p, peerOpts{crashLoop: restarts}), []string{b.app, "crash", file}, b.work, false)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			// A slow restarter gets what it managed in the round's time.
			lat, err := waitCrashes(file, restarts+1, roundTime)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", p.name, err))
			}
			s.kill()
			all[j] = append(all[j], lat...)
		}
	}
	t := &table{
		title: "Restart after a crash, least backoff",
		intro: fmt.Sprintf("The app (`benchapp crash FILE`) exits 1 at once; latency = the next run's first instant in main minus the last run's last instant before exit(1), CLOCK_MONOTONIC. %d rounds of %d restarts per row, interleaved. "+
			"Each at its least delay: holdfast `--backoff=0`; Pebble `on-failure: restart`, `backoff-delay: 0s`, `backoff-factor: 1`, `backoff-limit: 0s`; both supervisords `autorestart=true`, `startretries` past the count, Python's `startsecs=0` and the Go port's `startsecs=1` (with 0, v0.6.9 never restarts). The bare row is an os/exec loop in the benchmark: fork+exec+wait, nothing else.", rounds, restarts),
		header: []string{"supervisor", "median ms", "p90 ms", "p99 ms", "samples", "vs holdfast", "vs bare"},
	}
	hf, bare := peerIndex(ps, kindHoldfast), peerIndex(ps, kindBare)
	for j, p := range ps {
		if p.kind == kindCat {
			continue
		}
		m := all[j].Median()
		t.add(append([]string{p.name, f(m, 2), f(all[j].Quantile(0.9), 2), f(all[j].Quantile(0.99), 2), strconv.Itoa(len(all[j]))}, peerCols(m, medianAt(all, hf), medianAt(all, bare), true)...)...)
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

func waitCrashes(file string, want int, timeout time.Duration) (sample, error) {
	deadline := time.Now().Add(timeout)
	for {
		starts, exits, err := readCrashLog(file)
		if err == nil && len(exits) >= want {
			return latencies(starts, exits), nil
		}
		if time.Now().After(deadline) {
			return latencies(starts, exits), fmt.Errorf("%d of %d runs within %s", len(exits), want, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peerOutput measures output capture: the app writes total bytes of log
// lines; throughput is the app's own (first write to last write returned),
// CPU is the utime+stime of every process of the namespace but the app
// (/proc/<pid>/stat, dead threads included), read before the app starts
// writing and once it has stopped rising after the app's last write.
func (b *bench) peerOutput(ps []peerSup, total int64, reps int) *table {
	type res struct{ mibs, cpu, kept sample }
	r := make([]res, len(ps))
	var errs []string
	for rep := range reps {
		for k := range ps {
			j := (k + rep) % len(ps)
			mibs, cpu, kept, err := b.outputOnce(ps[j], total)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			r[j].mibs = append(r[j].mibs, mibs)
			r[j].cpu = append(r[j].cpu, cpu/(float64(total)/(1<<30)))
			r[j].kept = append(r[j].kept, kept/(1<<20))
		}
	}
	t := &table{
		title: "Output capture: throughput and CPU per GiB",
		intro: fmt.Sprintf("The app writes %d MiB of 128-byte log lines to stdout in 64 KiB writes; each supervisor keeps it its own way (holdfast: output.log and its stdout; Pebble: a 100 KiB ring buffer per service, with `--verbose` also its stdout; supervisord: `app.log` rotated at 50 MB, 10 backups) and PID 1's stdout is /dev/null. "+
			"MiB/s is the app's, first write to last write returned. CPU s/GiB = user+system time of every process in the namespace but the app, per GiB written: what the supervisor costs a pod's CPU quota. Kept = bytes on disk in the supervisor's dir after the run. Median of %d runs per row, interleaved.", total>>20, reps),
		header: []string{"supervisor", "MiB/s", "vs holdfast", "vs bare", "CPU s/GiB", "CPU vs holdfast", "kept MiB"},
	}
	hf, bare := peerIndex(ps, kindHoldfast), peerIndex(ps, kindBare)
	for j, p := range ps {
		m := r[j].mibs.Median()
		c := r[j].cpu.Median()
		kept := f(r[j].kept.Median(), 0)
		switch p.kind {
		case kindPebble, kindPebbleV:
			kept = "0.1 (ring, memory)"
		case kindBare, kindCat:
			kept = "0"
		}
		t.add(p.name, f(m, 0), x(ratio(m, medianAt(rs(r, func(v res) sample { return v.mibs }), hf))), x(ratio(m, r[bare].mibs.Median())),
			f(c, 2), x(ratio(c, r[hf].cpu.Median())), kept)
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

func rs[T any](r []T, get func(T) sample) []sample {
	out := make([]sample, len(r))
	for i, v := range r {
		out[i] = get(v)
	}
	return out
}

func (b *bench) outputOnce(p peerSup, total int64) (mibs, cpuSec, kept float64, err error) {
	dir, err := os.MkdirTemp(b.work, "lines-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	s, err := startSession(b.peerVariant(p, peerOpts{}), []string{b.app, "lines", strconv.FormatInt(total, 10), dir}, b.work, false)
	if err != nil {
		return 0, 0, 0, err
	}
	defer s.kill()
	if err := waitFile(filepath.Join(dir, "ready"), 30*time.Second); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %v%s", p.name, err, s.stderrTail())
	}
	time.Sleep(300 * time.Millisecond)
	cpu0 := treeCPU(s.pid1, b.app)
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		return 0, 0, 0, err
	}
	if err := waitFile(filepath.Join(dir, "done"), 300*time.Second); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %v%s", p.name, err, s.stderrTail())
	}
	// The supervisor may still hold the pipe's last bytes: wait until its
	// CPU time has not moved for 300 ms.
	cpu1 := treeCPU(s.pid1, b.app)
	for still := 0; still < 3; {
		time.Sleep(100 * time.Millisecond)
		c := treeCPU(s.pid1, b.app)
		if c == cpu1 {
			still++
		} else {
			still, cpu1 = 0, c
		}
	}
	done, err := os.ReadFile(filepath.Join(dir, "done"))
	if err != nil {
		return 0, 0, 0, err
	}
	fs := strings.Fields(string(done))
	if len(fs) != 2 {
		return 0, 0, 0, fmt.Errorf("%s: bad done file %q", p.name, done)
	}
	first, _ := strconv.ParseInt(fs[0], 10, 64)
	last, _ := strconv.ParseInt(fs[1], 10, 64)
	if s.stateDir != "" {
		kept = float64(dirSize(s.stateDir))
	}
	return float64(total) / (1 << 20) / (float64(last-first) / 1e9), cpu1 - cpu0, kept, nil
}

func waitFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s within %s", filepath.Base(path), timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// treeCPU is the user+system seconds of pid and its descendants, leaving
// out processes running exe skip (the app).
func treeCPU(pid int, skip string) float64 {
	var sum float64
	for _, p := range descendants(pid) {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); err == nil && exe == skip {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fs := strings.Fields(s[i+1:])
		if len(fs) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(fs[11], 10, 64)
		st, _ := strconv.ParseInt(fs[12], 10, 64)
		sum += float64(u+st) / clockTicks
	}
	return sum
}

// descendants is pid and every process below it, through each thread's
// children file.
func descendants(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", out[i]))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", out[i], t.Name()))
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// peerScrape GETs each peer's metrics n times and charges the supervisor's
// CPU to them: holdfast's /metrics on a loopback port, Pebble's /v1/metrics
// on its unix socket. The supervisords have none (the Go port's pinned
// version has no /metrics; Python supervisord has none).
func (b *bench) peerScrape(ps []peerSup, n int) *table {
	t := &table{
		title:  "Metrics scrape",
		intro:  fmt.Sprintf("%d sequential GETs of the metrics endpoint per row (keep-alive), the app idling; CPU = the supervisor's user+system time (/proc/<pid>/stat) over the scrapes, per scrape.", n),
		header: []string{"supervisor", "endpoint", "CPU µs/scrape", "wall µs/scrape", "bytes", "CPU vs holdfast"},
	}
	type row struct {
		name, ep   string
		cpu, wall  float64
		bytes      int
		err        error
		isHoldfast bool
	}
	var rows []row
	for _, p := range ps {
		var client *http.Client
		var url, ep string
		o := peerOpts{}
		switch p.kind {
		case kindHoldfast:
			addr, err := freeAddr()
			if err != nil {
				t.note("Error: %v", err)
				continue
			}
			o.metricsAddr = addr
			client, url, ep = &http.Client{Timeout: 10 * time.Second}, "http://"+addr+"/metrics", "`/metrics` (loopback TCP)"
		case kindPebble:
			ep = "`/v1/metrics` (unix socket)"
		default:
			continue
		}
		s, _, err := b.startStamped(p, o)
		if err != nil {
			rows = append(rows, row{name: p.name, ep: ep, err: err})
			continue
		}
		if p.kind == kindPebble {
			sock := filepath.Join(s.stateDir, ".pebble.socket")
			client = unixClient(sock)
			url = "http://localhost/v1/metrics"
		}
		time.Sleep(time.Second)
		size, err := scrape(client, url) // warm: first connection, first render
		if err != nil {
			rows = append(rows, row{name: p.name, ep: ep, err: fmt.Errorf("%s: %v%s", p.name, err, s.stderrTail())})
			s.kill()
			continue
		}
		c0 := treeCPU(s.pid1, b.app)
		t0 := time.Now()
		for range n {
			if _, err = scrape(client, url); err != nil {
				break
			}
		}
		wall := time.Since(t0)
		c1 := treeCPU(s.pid1, b.app)
		s.kill()
		rows = append(rows, row{name: p.name, ep: ep, cpu: (c1 - c0) * 1e6 / float64(n), wall: float64(wall.Microseconds()) / float64(n), bytes: size, err: err, isHoldfast: p.kind == kindHoldfast})
	}
	var hf float64
	for _, r := range rows {
		if r.isHoldfast {
			hf = r.cpu
		}
	}
	for _, r := range rows {
		if r.err != nil {
			t.note("Error: %s: %v", r.name, r.err)
			continue
		}
		t.add(r.name, r.ep, f(r.cpu, 0), f(r.wall, 0), strconv.Itoa(r.bytes), x(ratio(r.cpu, hf)))
	}
	t.note("supervisord (Go port, pinned version) and supervisord (Python) serve no metrics; bare has none.")
	return t
}

func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func scrape(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return int(n), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return int(n), nil
}

// peerExec opens sessions exec sessions into each peer that has exec
// (Pebble: `pebble exec -- sleep`), and reads the supervisor's memory with
// them open. holdfast has no exec API: `kubectl exec` enters the container
// through the runtime and never touches PID 1, and holdfast's own sessions
// are ssh (measured in the SSH section).
func (b *bench) peerExec(ps []peerSup, sessions int) *table {
	t := &table{
		title:  fmt.Sprintf("Memory with %d exec sessions", sessions),
		intro:  fmt.Sprintf("%d `pebble exec -- sleep 3600` clients held open against the supervisor, the app idling; the supervisor's (PID 1's) Rss and Pss from smaps_rollup 3 s after the last session's sleep started, against the same supervisor with none.", sessions),
		header: []string{"supervisor", "Rss MiB, 0 sessions", "Rss MiB, with sessions", "Pss MiB, with sessions", "MiB per session"},
	}
	for _, p := range ps {
		if p.kind != kindPebble {
			continue
		}
		s, _, err := b.startStamped(p, peerOpts{})
		if err != nil {
			t.note("Error: %v", err)
			continue
		}
		time.Sleep(3 * time.Second)
		r0, _ := procStatusFile(fmt.Sprintf("/proc/%d/smaps_rollup", s.pid1))
		var clients []*exec.Cmd
		for range sessions {
			c := exec.Command(p.bin, "exec", "--", "sleep", "3600")
			c.Env = append(cleanEnv(), "PEBBLE="+s.stateDir)
			if err := c.Start(); err != nil {
				t.note("Error: %v", err)
				break
			}
			clients = append(clients, c)
		}
		deadline := time.Now().Add(30 * time.Second)
		for countExe(descendants(s.pid1), "sleep") < len(clients) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		n := countExe(descendants(s.pid1), "sleep")
		time.Sleep(3 * time.Second)
		r1, _ := procStatusFile(fmt.Sprintf("/proc/%d/smaps_rollup", s.pid1))
		for _, c := range clients {
			c.Process.Kill()
			c.Wait()
		}
		s.kill()
		rss0, rss1 := float64(r0["Rss"])/1024, float64(r1["Rss"])/1024
		t.add(p.name, f(rss0, 2), f(rss1, 2), f(float64(r1["Pss"])/1024, 2), f((rss1-rss0)/float64(max(n, 1)), 2))
		if n != sessions {
			t.note("%s: %d of %d sessions running when read.", p.name, n, sessions)
		}
	}
	t.note("holdfast: no row. It has no exec API (`kubectl exec` goes through the container runtime and costs PID 1 nothing); its sessions are ssh, a different work (key exchange, encryption): see the SSH section. supervisord (both) has no exec.")
	return t
}

func countExe(pids []int, base string) int {
	n := 0
	for _, p := range pids {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); err == nil && filepath.Base(exe) == base {
			n++
		}
	}
	return n
}
