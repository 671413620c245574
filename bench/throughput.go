package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

// catRelayName is the stdout table's row of the app piped through cat:
// the floor of any relay, and the yardstick of holdfast's CPU per GiB.
const catRelayName = "bare piped through cat (a relay, no init)"

// benchThroughput times `benchapp write BYTES 65536` under each PID 1 with
// the namespace's stdout on /dev/null, and on a pipe that this process reads
// with 1 MiB reads. The span is the app's first write until the namespace
// has exited (and, for the pipe, the reader saw EOF): the init's startup is
// left out (the startup table has it), its draining and exit are in.
func (b *bench) benchThroughput(vs []variant, total int64, reps int) *table {
	sinks := []string{"/dev/null", "pipe"}
	res := make([][]sample, len(sinks))
	cpu := make([][]sample, len(sinks)) // CPU s per GiB of PID 1 and the app
	for i := range res {
		res[i] = make([]sample, len(vs))
		cpu[i] = make([]sample, len(vs))
	}
	var errs []string
	for r := range reps {
		for si, sink := range sinks {
			for k := range vs {
				j := (k + r + si) % len(vs)
				mibs, cpuSec, err := b.writeOnce(vs[j], sink, total)
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				res[si][j] = append(res[si][j], mibs)
				cpu[si][j] = append(cpu[si][j], cpuSec/(float64(total)/(1<<30)))
			}
		}
	}
	t := &table{
		title: "stdout throughput",
		intro: fmt.Sprintf("The app writes %d MiB to stdout in 64 KiB writes; PID 1's stdout is /dev/null, or a pipe drained by a reader with 1 MiB reads. "+
			"MiB/s from the app's first write until PID 1 has exited (and the reader saw EOF): startup is left out, draining and exit are in. "+
			"CPU = user+system time of PID 1 and the app (unshare's rusage) per GiB, the reader excluded: what the relay costs, whatever else the machine does. Median of %d runs per cell, interleaved.", total>>20, reps),
		header: []string{"PID 1", "/dev/null MiB/s", "vs bare", "CPU s/GiB", "pipe MiB/s", "vs bare", "CPU s/GiB", "pipe vs tini", "pipe CPU vs cat"},
	}
	bareNull := namedMedian(vs, res[0], "bare")
	barePipe := namedMedian(vs, res[1], "bare")
	tiniPipe := namedMedian(vs, res[1], "tini")
	catCPU := namedMedian(vs, cpu[1], catRelayName)
	for j, v := range vs {
		n, p, c := res[0][j].Median(), res[1][j].Median(), cpu[1][j].Median()
		t.add(v.name, f(n, 0), x(ratio(n, bareNull)), f(cpu[0][j].Median(), 2), f(p, 0), x(ratio(p, barePipe)), f(c, 2), x(ratio(p, tiniPipe)), x(ratio(c, catCPU)))
	}
	for j, v := range vs {
		if !v.isHoldfast() {
			continue
		}
		if strings.Contains(v.name, "--capture=false") {
			rn, rp := ratio(res[0][j].Median(), bareNull), ratio(res[1][j].Median(), barePipe)
			t.target(fmt.Sprintf("%s stdout >= 90%% of bare", v.name), rn >= 0.9 && rp >= 0.9,
				fmt.Sprintf("/dev/null %.0f%%, pipe %.0f%%", rn*100, rp*100))
			continue
		}
		// Keeping the output, a relay's floor is cat's (issue 16): the
		// target is CPU per GiB through the pipe.
		rc := ratio(cpu[1][j].Median(), catCPU)
		t.target(fmt.Sprintf("%s CPU per GiB through a pipe <= 1.2x a `cat` relay's", v.name), rc <= 1.2,
			fmt.Sprintf("%.2fx (%.2f vs %.2f s/GiB)", rc, cpu[1][j].Median(), catCPU))
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

func (b *bench) writeOnce(v variant, sink string, total int64) (mibs, cpuSec float64, err error) {
	stamp := filepath.Join(b.work, "first-write")
	os.Remove(stamp)
	app := []string{b.app, "write", strconv.FormatInt(total, 10), "65536", stamp}
	dir := v.newStateDir()
	defer os.RemoveAll(dir)
	cmd := nsCommand(v.argv(app, dir))
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, err
	}
	defer null.Close()
	cmd.Stderr = null
	var (
		r      *os.File
		copied = make(chan int64, 1)
	)
	if sink == "pipe" {
		var w *os.File
		if r, w, err = os.Pipe(); err != nil {
			return 0, 0, fmt.Errorf("cannot create pipe: %w", err)
		}
		defer r.Close()
		cmd.Stdout = w
		defer w.Close()
	} else {
		cmd.Stdout = null
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("cannot start %s: %w", v.name, err)
	}
	if r != nil {
		cmd.Stdout.(*os.File).Close()
		go func() {
			copied <- readAll(r)
		}()
	}
	werr := cmd.Wait()
	if r != nil {
		if n := <-copied; n != total {
			return 0, 0, fmt.Errorf("%s: the reader got %d of %d bytes", v.name, n, total)
		}
	}
	end := mono.Now()
	if exitCode(werr) != 0 {
		return 0, 0, fmt.Errorf("%s writing to %s: exit %d", v.name, sink, exitCode(werr))
	}
	b0, err := os.ReadFile(stamp)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: cannot read the first-write stamp: %w", v.name, err)
	}
	first, err := strconv.ParseInt(string(b0), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: bad first-write stamp %q", v.name, b0)
	}
	ps := cmd.ProcessState
	return float64(total) / (1 << 20) / (float64(end-first) / 1e9), (ps.UserTime() + ps.SystemTime()).Seconds(), nil
}

// readAll is the fast reader: 1 MiB reads into one buffer, bytes counted
// and dropped.
func readAll(r io.Reader) int64 {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err != nil {
			return n
		}
	}
}
