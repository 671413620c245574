package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// benchStartup times `unshare ... X -- /bin/true` end to end, iters times
// per variant, interleaved (each iteration runs every variant, in an order
// rotated by one) so that all share the machine's noise.
func (b *bench) benchStartup(vs []variant) *table {
	const warmup = 5
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return b.failed("Startup", err)
	}
	defer null.Close()
	samples := make([]sample, len(vs))
	cpu := make([]sample, len(vs))
	failures := make([]int, len(vs))
	for i := -warmup; i < b.cfg.iters; i++ {
		for k := range vs {
			j := (k + max(i, 0)) % len(vs)
			v := vs[j]
			dir := v.newStateDir()
			cmd := nsCommand(v.argv([]string{"/bin/true"}, dir))
			cmd.Stdout, cmd.Stderr = null, null
			t0 := time.Now()
			err := cmd.Run()
			d := time.Since(t0)
			if dir != "" {
				os.RemoveAll(dir)
			}
			if i < 0 {
				continue
			}
			if exitCode(err) != 0 {
				failures[j]++
				continue
			}
			samples[j] = append(samples[j], ms(d))
			// unshare's rusage includes every process it and its
			// descendants waited for: unshare, PID 1 and the app.
			cpu[j] = append(cpu[j], ms(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()))
		}
	}

	t := &table{
		title: "Startup: `unshare --pid --fork --mount-proc X -- /bin/true`",
		intro: fmt.Sprintf("Wall time per run from fork of unshare to its exit, %d runs per row, interleaved, after %d warm-up rounds. Overhead = median minus bare's median. "+
			"The bare Go row runs no init, just a static Go binary that exits 0: what the Go runtime alone costs to start here. "+
			"CPU = user+system time of unshare, PID 1 and the app (unshare's rusage): less disturbed by a busy run queue than wall time.", b.cfg.iters, warmup),
		header: []string{"PID 1", "median ms", "p90 ms", "p99 ms", "overhead ms (median)", "vs tini (median)", "CPU ms (median)", "CPU overhead ms"},
	}
	bareMed, tiniMed := namedMedian(vs, samples, "bare"), namedMedian(vs, samples, "tini")
	bareCPU := namedMedian(vs, cpu, "bare")
	for j, v := range vs {
		s := samples[j]
		over, cpuOver := "—", "—"
		if v.name != "bare" {
			over = f(s.Median()-bareMed, 2)
			cpuOver = f(cpu[j].Median()-bareCPU, 2)
		}
		t.add(v.name, f(s.Median(), 2), f(s.Quantile(0.9), 2), f(s.Quantile(0.99), 2), over, x(ratio(s.Median(), tiniMed)), f(cpu[j].Median(), 2), cpuOver)
		if failures[j] > 0 {
			t.note("%s: %d runs did not exit 0 and are left out.", v.name, failures[j])
		}
	}
	for j, v := range vs {
		if v.isHoldfast() {
			over := samples[j].Median() - bareMed
			t.target(fmt.Sprintf("%s startup overhead <= 3 ms", v.name), over <= 3, f(over, 2)+" ms")
		}
	}
	return t
}

func namedMedian(vs []variant, samples []sample, name string) float64 {
	for j, v := range vs {
		if v.name == name {
			return samples[j].Median()
		}
	}
	return 0
}

// benchRSS reads PID 1's memory while the app sleeps: the app prints
// "ready", then we wait settle, run the variant's poke if it has one, and
// read /proc/<pid1>/smaps_rollup (and the thread count from status). reps
// sessions per variant, interleaved.
func (b *bench) benchRSS(vs []variant, reps int, pokes map[string]func() error) *table {
	// With --trim-memory holdfast gives back its start-up pages 1 s after
	// the app started; settle is past that.
	const settle = 2 * time.Second
	type mem struct{ rss, anon, file, pss, threads sample }
	res := make([]mem, len(vs))
	var errs []string
	for r := range reps {
		for k := range vs {
			j := (k + r) % len(vs)
			// Each PID 1's binary starts with all of its pages in the page
			// cache, as on a node that ran it moments ago: the kernel maps
			// cached neighbours of each page faulted in (fault-around), so a
			// cold cache, e.g. right after another row paged the binary out,
			// would read low.
			if argv := vs[j].argv([]string{b.app}, b.work); len(argv) > 0 {
				if err := warmCache(argv[0]); err != nil {
					errs = append(errs, err.Error())
				}
			}
			s, err := startSession(vs[j], []string{b.app, "ready"}, b.work, true)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			if err := s.waitLine("ready", 10*time.Second); err != nil {
				errs = append(errs, err.Error())
				s.kill()
				continue
			}
			time.Sleep(settle)
			if poke := pokes[vs[j].name]; poke != nil {
				if err := poke(); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", vs[j].name, err))
				}
			}
			// smaps_rollup, not status: status's counters are per-CPU
			// estimates that lag a pageout.
			if roll, err := procStatusFile(fmt.Sprintf("/proc/%d/smaps_rollup", s.pid1)); err == nil {
				res[j].rss = append(res[j].rss, float64(roll["Rss"])/1024)
				res[j].anon = append(res[j].anon, float64(roll["Anonymous"])/1024)
				res[j].file = append(res[j].file, float64(roll["Rss"]-roll["Anonymous"])/1024)
				res[j].pss = append(res[j].pss, float64(roll["Pss"])/1024)
			} else {
				errs = append(errs, err.Error())
			}
			if st, err := procStatus(s.pid1); err == nil {
				res[j].threads = append(res[j].threads, float64(st["Threads"]))
			}
			s.kill()
		}
	}
	t := &table{
		title:  "Idle RSS of PID 1",
		intro:  fmt.Sprintf("Rss of PID 1 from /proc/<pid>/smaps_rollup (split into anonymous and file-backed pages) and Pss, %s after the app (`benchapp ready`) printed ready; median of %d sessions per row. With `--trim-memory` (off by default) holdfast gives back the pages of its binary that only its start-up used 1 s after the app starts; the other holdfast rows keep them. The probed row first GETs /livez and /readyz twice each, as a kubelet would, and is measured after the answers.", settle, reps),
		header: []string{"PID 1", "Rss MiB", "of it anon MiB", "of it file MiB", "Pss MiB", "threads", "vs tini (Rss)"},
	}
	tini := namedMedianOf(vs, func(j int) sample { return res[j].rss }, "tini")
	for j, v := range vs {
		t.add(v.name, f(res[j].rss.Median(), 2), f(res[j].anon.Median(), 2), f(res[j].file.Median(), 2), f(res[j].pss.Median(), 2), f(res[j].threads.Median(), 0), x(ratio(res[j].rss.Median(), tini)))
	}
	for j, v := range vs {
		if v.isHoldfast() {
			m := res[j].rss.Median()
			t.target(fmt.Sprintf("%s idle RSS <= 8 MiB", v.name), m <= 8, f(m, 2)+" MiB")
		}
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

func namedMedianOf(vs []variant, get func(int) sample, name string) float64 {
	for j, v := range vs {
		if v.name == name {
			return get(j).Median()
		}
	}
	return 0
}

// procStatus reads /proc/<pid>/status's numeric fields ("VmRSS" in kB).
func procStatus(pid int) (map[string]int64, error) {
	return procStatusFile(fmt.Sprintf("/proc/%d/status", pid))
}

func procStatusFile(path string) (map[string]int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer fh.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}

// warmCache reads path through, so that all of it is in the page cache.
func warmCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot warm the page cache for %s: %w", path, err)
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}
