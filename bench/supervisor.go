package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// benchRestart measures holdfast's restart latency with --backoff=0: the
// app (`benchapp crash FILE`) appends its CLOCK_MONOTONIC at the top of main
// and just before exit(1); latency = next start - previous exit. That spans
// the exit itself, holdfast's reap, decision and run record, fork+exec and
// the Go runtime's start of the next app. The floor row is the same app
// restarted by a bare os/exec loop in this process: no init, no records.
func (b *bench) benchRestart(vs []variant, restarts, rounds int) *table {
	t := &table{
		title: "Restart latency with `--backoff=0`",
		intro: fmt.Sprintf("`holdfast --hold=true --max-restarts=%d --backoff=0 --probe-addr= --ssh-addr= -- benchapp crash FILE`: the app exits 1 at once; latency = the next run's first instant in main minus the last run's last instant before exit(1), CLOCK_MONOTONIC. "+
			"%d rounds of %d restarts per row, interleaved. Floor = the same app restarted by an os/exec loop in the benchmark (fork+exec+wait of a Go binary, nothing else).", restarts, rounds, restarts),
		header: []string{"restarter", "median ms", "p90 ms", "p99 ms", "max ms", "samples"},
	}
	all := make([]sample, len(vs)+1)
	var errs []string
	for range rounds {
		for j, v := range vs {
			lat, err := b.restartRound(v, restarts)
			if err != nil {
				errs = append(errs, err.Error())
			}
			all[j] = append(all[j], lat...)
		}
		lat, err := b.restartFloor(restarts)
		if err != nil {
			errs = append(errs, err.Error())
		}
		all[len(vs)] = append(all[len(vs)], lat...)
	}
	names := make([]string, 0, len(vs)+1)
	for _, v := range vs {
		names = append(names, v.name)
	}
	names = append(names, "floor: os/exec loop")
	for j, name := range names {
		s := all[j]
		t.add(name, f(s.Median(), 2), f(s.Quantile(0.9), 2), f(s.Quantile(0.99), 2), f(s.Quantile(1), 2), strconv.Itoa(len(s)))
	}
	for j, v := range vs {
		med, p99 := all[j].Median(), all[j].Quantile(0.99)
		t.target(fmt.Sprintf("%s restart latency <= 5 ms", v.name), med <= 5, "median "+f(med, 2)+" ms, p99 "+f(p99, 2)+" ms")
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

func (b *bench) restartRound(v variant, restarts int) (sample, error) {
	file := filepath.Join(b.work, "crash-"+sanitize(v.name)+".log")
	os.Remove(file)
	s, err := startSession(v, []string{b.app, "crash", file}, b.work, false,
		"--hold=true", "--max-restarts="+strconv.Itoa(restarts), "--backoff=0")
	if err != nil {
		return nil, err
	}
	defer s.kill()
	want := restarts + 1
	deadline := time.Now().Add(60 * time.Second)
	for {
		starts, exits, err := readCrashLog(file)
		if err == nil && len(exits) >= want {
			return latencies(starts, exits), nil
		}
		if time.Now().After(deadline) {
			return latencies(starts, exits), fmt.Errorf("%s: %d of %d runs within 60s%s", v.name, len(exits), want, s.stderrTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *bench) restartFloor(restarts int) (sample, error) {
	file := filepath.Join(b.work, "crash-floor.log")
	os.Remove(file)
	for range restarts + 1 {
		cmd := exec.Command(b.app, "crash", file)
		cmd.Env = cleanEnv()
		if err := cmd.Run(); exitCode(err) != 1 {
			return nil, fmt.Errorf("floor: app exited %d, want 1: %v", exitCode(err), err)
		}
	}
	starts, exits, err := readCrashLog(file)
	return latencies(starts, exits), err
}

func readCrashLog(path string) (starts, exits []int64, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		kind, v, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch kind {
		case "start":
			starts = append(starts, n)
		case "exit":
			exits = append(exits, n)
		}
	}
	return starts, exits, sc.Err()
}

// latencies pairs exit i with start i+1, in ms.
func latencies(starts, exits []int64) sample {
	var s sample
	for i := 0; i < len(exits) && i+1 < len(starts); i++ {
		s = append(s, float64(starts[i+1]-exits[i])/1e6)
	}
	return s
}

// idleCase is one PID 1 left alone for the idle window.
type idleCase struct {
	name  string
	v     variant
	app   []string
	flags []string
	held  bool // wait for holdfast to report phase "held" first
}

// benchIdle starts every case at once, lets them settle, then counts the
// timeslices PID 1's threads ran (third field of
// /proc/<pid>/task/*/schedstat) over the same window.
func (b *bench) benchIdle(cases []idleCase, window time.Duration) *table {
	const settle = 2 * time.Second
	t := &table{
		title: "Idle wakeups of PID 1",
		intro: fmt.Sprintf("All rows run at once; after each settled (app up, or holdfast `held`) plus %s, the timeslices (schedstat field 3) and CPU time of all PID 1's threads are summed over the same %s window. "+
			"Threads that exit inside the window take their counts with them.", settle, window),
		header: []string{"PID 1", "state", "wakeups/s", "CPU µs/s", "threads"},
	}
	sess := make([]*session, len(cases))
	defer func() {
		for _, s := range sess {
			if s != nil {
				s.kill()
			}
		}
	}()
	states := make([]string, len(cases))
	for i, c := range cases {
		s, err := startSession(c.v, c.app, b.work, false, c.flags...)
		if err != nil {
			t.note("Error: %v", err)
			continue
		}
		sess[i] = s
		states[i] = "app running"
		if c.held {
			states[i] = b.waitHeld(s, 15*time.Second)
		}
	}
	time.Sleep(settle)
	before := make([]schedstat, len(cases))
	for i, s := range sess {
		if s != nil {
			before[i], _ = readSchedstat(s.pid1)
		}
	}
	time.Sleep(window)
	for i, s := range sess {
		if s == nil {
			continue
		}
		after, err := readSchedstat(s.pid1)
		if err != nil {
			t.note("Error: %v", err)
			continue
		}
		sec := window.Seconds()
		t.add(cases[i].name, states[i], f(float64(after.slices-before[i].slices)/sec, 2), f(float64(after.cpuNs-before[i].cpuNs)/1e3/sec, 1), strconv.Itoa(after.threads))
		if cases[i].v.isHoldfast() && cases[i].held {
			w := float64(after.slices-before[i].slices) / sec
			t.target(fmt.Sprintf("%s held, idle wakeups <= 0.33/s", cases[i].name), w <= 0.33, f(w, 2)+"/s")
		}
	}
	return t
}

// waitHeld polls `holdfast status --json` until the phase is held and
// returns the last phase seen.
func (b *bench) waitHeld(s *session, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	phase := "unknown"
	for time.Now().Before(deadline) {
		cmd := exec.Command(b.holdfast, "status", "--json")
		cmd.Env = append(cleanEnv(), "HOLDFAST_STATE_DIR="+s.stateDir)
		out, _ := cmd.Output()
		compact := strings.Join(strings.Fields(string(out)), "")
		if i := strings.Index(compact, `"phase":"`); i >= 0 {
			rest := compact[i+len(`"phase":"`):]
			if k := strings.IndexByte(rest, '"'); k >= 0 {
				phase = rest[:k]
			}
		}
		if phase == "held" {
			return "held"
		}
		time.Sleep(100 * time.Millisecond)
	}
	return phase + " (not held)"
}

type schedstat struct {
	cpuNs, slices int64
	threads       int
}

func readSchedstat(pid int) (schedstat, error) {
	var st schedstat
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return st, fmt.Errorf("cannot list %s: %w", dir, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, task.Name(), "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		fs := strings.Fields(string(b))
		if len(fs) < 3 {
			continue
		}
		cpu, _ := strconv.ParseInt(fs[0], 10, 64)
		sl, _ := strconv.ParseInt(fs[2], 10, 64)
		st.cpuNs += cpu
		st.slices += sl
		st.threads++
	}
	return st, nil
}
