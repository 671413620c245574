package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

// sigSession is one init running `benchapp sigrecv FIFO`.
type sigSession struct {
	*session
	lines chan string
}

// benchSignals sends SIGUSR1 to each PID 1 from outside, n times, and reads
// the app's CLOCK_MONOTONIC at receipt from a fifo; latency = receipt minus
// the sender's clock just before kill(2). Paced: the next signal goes only
// after the last one arrived. All inits run at once and take turns, so they
// share the machine's noise. The last signal is SIGTERM, once per init.
func (b *bench) benchSignals(vs []variant, n int) *table {
	t := &table{
		title: "Signal forwarding latency",
		intro: fmt.Sprintf("kill(2) from outside the namespace to PID 1 until the app's Go signal handler (signal.Notify) sees it, CLOCK_MONOTONIC on both sides; %d SIGUSR1 per row, paced and taken in turns across rows; then one SIGTERM each (one sample: a check that TERM arrives, not a statistic). "+
			"The bare row is the app as PID 1 receiving directly: the floor, which includes the Go runtime's own delivery to the app.", n),
		header: []string{"PID 1", "USR1 median µs", "p90 µs", "p99 µs", "overhead µs (median)", "vs tini (median)", "TERM µs"},
	}
	sess := make([]*sigSession, len(vs))
	defer func() {
		for _, s := range sess {
			if s != nil {
				s.kill()
			}
		}
	}()
	for j, v := range vs {
		fifo := filepath.Join(b.work, fmt.Sprintf("sig-%s.fifo", sanitize(v.name)))
		os.Remove(fifo)
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.note("Error: cannot create fifo %s: %v", fifo, err)
			return t
		}
		// O_RDWR: opening never blocks, and reads block until the app writes.
		rf, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.note("Error: cannot open fifo %s: %v", fifo, err)
			return t
		}
		defer rf.Close()
		s, err := startSession(v, []string{b.app, "sigrecv", fifo}, b.work, true)
		if err != nil {
			t.note("Error: %v", err)
			continue
		}
		if err := s.waitLine("ready", 10*time.Second); err != nil {
			t.note("Error: %v", err)
			s.kill()
			continue
		}
		go drain(s.stdout)
		ss := &sigSession{session: s, lines: make(chan string, 1)}
		go func() {
			sc := bufio.NewScanner(rf)
			for sc.Scan() {
				ss.lines <- sc.Text()
			}
		}()
		sess[j] = ss
	}
	usr1 := make([]sample, len(vs))
	term := make([]float64, len(vs))
	lost := make([]int, len(vs))
	for i := range n {
		for k := range vs {
			j := (k + i) % len(vs)
			if sess[j] == nil {
				continue
			}
			if lat, err := sess[j].signal(syscall.SIGUSR1, "USR1"); err == nil {
				usr1[j] = append(usr1[j], lat)
			} else {
				lost[j]++
			}
		}
	}
	for j, s := range sess {
		term[j] = -1
		if s == nil {
			continue
		}
		if lat, err := s.signal(syscall.SIGTERM, "TERM"); err == nil {
			term[j] = lat
		}
		if err := s.wait(10 * time.Second); err != nil {
			t.note("%s after SIGTERM: %v", vs[j].name, err)
		}
	}
	bareMed, tiniMed := namedMedian(vs, usr1, "bare"), namedMedian(vs, usr1, "tini")
	for j, v := range vs {
		s := usr1[j]
		over := "—"
		if v.name != "bare" {
			over = f(s.Median()-bareMed, 1)
		}
		tv := "n/a"
		if term[j] >= 0 {
			tv = f(term[j], 1)
		}
		t.add(v.name, f(s.Median(), 1), f(s.Quantile(0.9), 1), f(s.Quantile(0.99), 1), over, x(ratio(s.Median(), tiniMed)), tv)
		if lost[j] > 0 {
			t.note("%s: %d of %d signals got no receipt within 5 s.", v.name, lost[j], n)
		}
	}
	for j, v := range vs {
		if v.isHoldfast() {
			rm := ratio(usr1[j].Median(), tiniMed)
			rp := ratio(usr1[j].Quantile(0.99), namedQuantile(vs, usr1, "tini", 0.99))
			t.target(fmt.Sprintf("%s forwards no slower than 2x tini", v.name), rm <= 2 && rp <= 2, "median "+x(rm)+", p99 "+x(rp))
		}
	}
	return t
}

// signal sends sig to PID 1 and returns the µs until the app stamped it.
func (s *sigSession) signal(sig syscall.Signal, name string) (float64, error) {
	t0 := mono.Now()
	if _, _, errno := syscall.Syscall6(sysPidfdSendSignal, uintptr(s.pidfd), uintptr(sig), 0, 0, 0, 0); errno != 0 {
		return 0, fmt.Errorf("cannot signal %d: %w", s.pid1, errno)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case line := <-s.lines:
			got, ts, _ := strings.Cut(line, " ")
			t1, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || got != name {
				return 0, fmt.Errorf("unexpected receipt %q for %s", line, name)
			}
			if t1 < t0 {
				continue // a late receipt of an earlier signal
			}
			return float64(t1-t0) / 1e3, nil
		case <-timeout:
			return 0, fmt.Errorf("%s: no receipt of %s", s.v.name, name)
		}
	}
}

func namedQuantile(vs []variant, samples []sample, name string, q float64) float64 {
	for j, v := range vs {
		if v.name == name {
			return samples[j].Quantile(q)
		}
	}
	return 0
}
