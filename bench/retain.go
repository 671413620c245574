package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// benchRetain measures what a crash loop that logs a lot costs PID 1 in
// memory (docs/benchmarks.md "Retained output memory"): the app writes bytesPerRun to stdout and exits
// 1, runs times with zero backoff, and holdfast then holds. 4 s into the
// hold it reads PID 1's Rss (smaps_rollup) and its peak (VmHWM). The rows
// run interleaved, reps sessions each, so that a base binary (-holdfast-base)
// and this one share the machine's noise.
func (b *bench) benchRetain(vs []variant, runs int, bytesPerRun int64, reps int) *table {
	// holdfast gives freed memory back 2 s after the last run's release.
	const settle = 4 * time.Second
	type mem struct{ rss, hwm, secs sample }
	res := make([]mem, len(vs))
	var errs []string
	// sh runs the app and turns its clean exit into a crash.
	app := []string{"/bin/sh", "-c", `"$0" write "$1" 65536; exit 1`, b.app, strconv.FormatInt(bytesPerRun, 10)}
	flags := []string{"--hold=true", "--max-restarts=" + strconv.Itoa(runs-1), "--backoff=0", "--backoff-max=0", "--trim-memory=false"}
	for r := range reps {
		for k := range vs {
			j := (k + r) % len(vs)
			t0 := time.Now()
			s, err := startSession(vs[j], app, b.work, false, flags...)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			if err := waitStderr(s, "APP HELD", time.Duration(runs)*time.Minute); err != nil {
				errs = append(errs, err.Error())
				s.kill()
				continue
			}
			res[j].secs = append(res[j].secs, time.Since(t0).Seconds())
			time.Sleep(settle)
			if roll, err := procStatusFile(fmt.Sprintf("/proc/%d/smaps_rollup", s.pid1)); err == nil {
				res[j].rss = append(res[j].rss, float64(roll["Rss"])/1024)
			} else {
				errs = append(errs, err.Error())
			}
			if st, err := procStatus(s.pid1); err == nil {
				res[j].hwm = append(res[j].hwm, float64(st["VmHWM"])/1024)
			} else {
				errs = append(errs, err.Error())
			}
			s.kill()
		}
	}
	t := &table{
		title: fmt.Sprintf("Memory after %d runs of %d MiB output", runs, bytesPerRun>>20),
		intro: fmt.Sprintf("holdfast as PID 1 (`--hold=true --max-restarts=%d --backoff=0 --backoff-max=0 --trim-memory=false`, defaults otherwise: `--log-max-bytes=64MiB`, `--retain-memory=8MiB`, `--keep-runs=20`); "+
			"the app writes %d MiB to stdout (`benchapp write`, 64 KiB writes; holdfast's stdout is /dev/null) and exits 1, %d times back to back, then holdfast holds. "+
			"Rss from /proc/<pid>/smaps_rollup %s into the hold, peak = VmHWM from /proc/<pid>/status; median of %d sessions per row, rows interleaved.",
			runs-1, bytesPerRun>>20, runs, settle, reps),
		header: []string{"PID 1", "Rss in the hold MiB", "peak Rss MiB", "time to the hold s"},
	}
	for j, v := range vs {
		t.add(v.name, f(res[j].rss.Median(), 1), f(res[j].hwm.Median(), 1), f(res[j].secs.Median(), 1))
	}
	for j, v := range vs {
		if v.name == "holdfast" {
			m := res[j].rss.Median()
			t.target("holdfast Rss in the hold <= --retain-memory + 64 MiB (72 MiB)", m <= 72, f(m, 1)+" MiB")
		}
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

// waitStderr polls the session's stderr file for want.
func waitStderr(s *session, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(s.errPath); err == nil && strings.Contains(string(b), want) {
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("%s exited before %q: %v%s", s.v.name, want, err, s.stderrTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: no %q within %s%s", s.v.name, want, timeout, s.stderrTail())
}
