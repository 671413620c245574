package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

// sigApp is one receiver of the two-method signal table: how to start it
// reporting each receipt on a fifo (paced method) or recording all of them
// in memory (recorded method).
type sigApp struct {
	name   string
	fifo   func(path string) []string
	record func(n int, out string) []string
}

// benchSignalsTwoWays measures SIGUSR1 forwarding two ways, each with two
// receiving apps, so that what differs between the methods can be told
// apart from what differs between the apps:
//
//   - paced: the existing method. One signal at a time, the next only after
//     the app's receipt came back on a fifo, taken in turns across the
//     inits (the same init sees a signal again after the others had theirs).
//   - recorded: the sender sends n signals gap apart without waiting, and
//     stamps each just before kill(2); the app keeps its arrival stamps in
//     memory and writes them out at the end. Each arrival is matched with
//     the latest send before it.
//
// The Go app takes signals through signal.Notify (the Go runtime's handler,
// its signal goroutine and a channel, as any Go service); the C app blocks
// them and takes them with sigwaitinfo(2), as tini does, so that nothing
// but the init's forwarding is in its numbers.
func (b *bench) benchSignalsTwoWays(vs []variant, n int, gap time.Duration) *table {
	apps := []sigApp{
		{name: "Go app", fifo: func(p string) []string { return []string{b.app, "sigrecv", p} },
			record: func(n int, out string) []string { return []string{b.app, "sigrecord", strconv.Itoa(n), out} }},
		{name: "C app", fifo: func(p string) []string { return []string{b.sigstamp, "fifo", p} },
			record: func(n int, out string) []string { return []string{b.sigstamp, "record", strconv.Itoa(n), out} }},
	}
	t := &table{
		title: "Signal forwarding latency, two methods",
		intro: fmt.Sprintf("SIGUSR1 from outside the namespace (pidfd_send_signal) to PID 1 until the app stamps it, CLOCK_MONOTONIC on both sides, %d signals per cell. "+
			"**Paced**: the next signal only after the app's receipt came back on a fifo, in turns across the rows (the existing method). "+
			"**Recorded**: %s apart without waiting, the sender stamping just before each kill, the app keeping every stamp in memory (in blocks of 500 per row, rows in turn). "+
			"Go app = `signal.Notify` (Go's handler, signal goroutine, channel); C app = `sigwaitinfo(2)`, as tini. The bare row is the app as PID 1. Timeslices per signal = schedstat field 3 summed over PID 1's threads while its signals were sent, per signal: how many times its threads were woken to forward one.", n, gap),
		header: []string{"PID 1", "app", "paced median µs", "paced p99 µs", "paced vs tini", "recorded median µs", "recorded p99 µs", "recorded vs tini (median)", "recorded vs tini (p99)", "PID 1 timeslices per signal"},
	}
	type cell struct {
		paced, recorded sample
		slices          float64
	}
	res := make([][]cell, len(apps))
	for a, app := range apps {
		res[a] = make([]cell, len(vs))
		paced, errs := b.sigPaced(vs, app, n)
		for _, e := range errs {
			t.note("Error (paced, %s): %s", app.name, e)
		}
		rec, perSig, errs := b.sigRecorded(vs, app, n, gap)
		for _, e := range errs {
			t.note("Error (recorded, %s): %s", app.name, e)
		}
		for j := range vs {
			res[a][j] = cell{paced[j], rec[j], perSig[j]}
		}
	}
	for a, app := range apps {
		ti := slices.IndexFunc(vs, func(v variant) bool { return v.name == "tini" })
		var tp, tr, trp float64
		if ti >= 0 {
			tp, tr, trp = res[a][ti].paced.Median(), res[a][ti].recorded.Median(), res[a][ti].recorded.Quantile(0.99)
		}
		for j, v := range vs {
			c := res[a][j]
			t.add(v.name, app.name, f(c.paced.Median(), 1), f(c.paced.Quantile(0.99), 1), x(ratio(c.paced.Median(), tp)),
				f(c.recorded.Median(), 1), f(c.recorded.Quantile(0.99), 1), x(ratio(c.recorded.Median(), tr)), x(ratio(c.recorded.Quantile(0.99), trp)), f(c.slices, 2))
		}
	}
	return t
}

// sigPaced is the existing method with app as the receiver.
func (b *bench) sigPaced(vs []variant, app sigApp, n int) ([]sample, []string) {
	var errs []string
	sess := make([]*sigSession, len(vs))
	defer func() {
		for _, s := range sess {
			if s != nil {
				s.kill()
			}
		}
	}()
	for j, v := range vs {
		path, lines, closeFifo, err := b.fifoReader(fmt.Sprintf("sig2-%s-%s.fifo", sanitize(v.name), sanitize(app.name)))
		if err != nil {
			return make([]sample, len(vs)), []string{err.Error()}
		}
		defer closeFifo()
		s, err := startSession(v, app.fifo(path), b.work, true)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if err := s.waitLine("ready", 10*time.Second); err != nil {
			errs = append(errs, err.Error())
			s.kill()
			continue
		}
		go drain(s.stdout)
		ss := &sigSession{session: s, lines: make(chan string, 1)}
		go func() {
			for l := range lines {
				ss.lines <- l
			}
		}()
		sess[j] = ss
	}
	out := make([]sample, len(vs))
	for i := range n {
		for k := range vs {
			j := (k + i) % len(vs)
			if sess[j] == nil {
				continue
			}
			if lat, err := sess[j].signal(syscall.SIGUSR1, "USR1"); err == nil {
				out[j] = append(out[j], lat)
			}
		}
	}
	for j, v := range vs {
		if len(out[j]) < n && sess[j] != nil {
			errs = append(errs, fmt.Sprintf("%s: %d of %d receipts", v.name, len(out[j]), n))
		}
	}
	return out, errs
}

// sigRecorded sends n signals gap apart to each row, in blocks of 500 per
// row with the rows in turn, and matches the app's recorded arrivals with
// the sends.
func (b *bench) sigRecorded(vs []variant, app sigApp, n int, gap time.Duration) ([]sample, []float64, []string) {
	var errs []string
	type rec struct {
		s      *session
		out    string
		sends  []int64
		slices int64 // PID 1's timeslices while its blocks were sent
	}
	rs := make([]*rec, len(vs))
	defer func() {
		for _, r := range rs {
			if r != nil {
				r.s.kill()
			}
		}
	}()
	for j, v := range vs {
		out := filepath.Join(b.work, fmt.Sprintf("sig2-%s-%s.out", sanitize(v.name), sanitize(app.name)))
		os.Remove(out)
		s, err := startSession(v, app.record(n, out), b.work, true)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if err := s.waitLine("ready", 10*time.Second); err != nil {
			errs = append(errs, err.Error())
			s.kill()
			continue
		}
		go drain(s.stdout)
		rs[j] = &rec{s: s, out: out}
	}
	const block = 500
	for start, round := 0, 0; start < n; start, round = start+block, round+1 {
		for k := range vs {
			r := rs[(k+round)%len(vs)]
			if r == nil {
				continue
			}
			before, _ := readSchedstat(r.s.pid1)
			next := mono.Now()
			for range min(block, n-start) {
				for mono.Now() < next {
					if d := time.Duration(next - mono.Now()); d > 200*time.Microsecond {
						time.Sleep(d - 100*time.Microsecond)
					}
				}
				t0 := mono.Now()
				if _, _, errno := syscall.Syscall6(sysPidfdSendSignal, uintptr(r.s.pidfd), uintptr(syscall.SIGUSR1), 0, 0, 0, 0); errno != 0 {
					errs = append(errs, fmt.Sprintf("%s: cannot signal: %v", r.s.v.name, errno))
					break
				}
				r.sends = append(r.sends, t0)
				next = t0 + int64(gap)
			}
			// Let the last of the block arrive before the next row starts.
			time.Sleep(20 * time.Millisecond)
			after, _ := readSchedstat(r.s.pid1)
			r.slices += after.slices - before.slices
		}
	}
	out := make([]sample, len(vs))
	perSig := make([]float64, len(vs))
	for j, r := range rs {
		if r == nil {
			continue
		}
		perSig[j] = float64(r.slices) / float64(max(len(r.sends), 1))
		if err := r.s.wait(5 * time.Second); err != nil {
			// Some signals merged (a standard signal pending twice is one):
			// TERM makes the app write what it has.
			syscall.Syscall6(sysPidfdSendSignal, uintptr(r.s.pidfd), uintptr(syscall.SIGTERM), 0, 0, 0, 0)
			r.s.wait(10 * time.Second)
		}
		arr, err := readStamps(r.out)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v%s", vs[j].name, err, r.s.stderrTail()))
			continue
		}
		for _, a := range arr {
			i, found := slices.BinarySearch(r.sends, a)
			if !found {
				i--
			}
			if i >= 0 {
				out[j] = append(out[j], float64(a-r.sends[i])/1e3)
			}
		}
		if len(arr) < len(r.sends) {
			errs = append(errs, fmt.Sprintf("%s: %d arrivals of %d sends (merged while pending)", vs[j].name, len(arr), len(r.sends)))
		}
	}
	return out, perSig, errs
}

func readStamps(path string) ([]int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []int64
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out, sc.Err()
}
