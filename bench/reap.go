package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// benchReap runs `orphans N` under each init: N grandchildren reparented
// to PID 1, released together, and timed until PID 1 has reaped them all
// (see cmd/orphans). A bare row makes no sense: as PID 1 the helper would
// be the orphans' parent.
func (b *bench) benchReap(vs []variant, n, reps int) *table {
	type res struct{ spawn, drain, total sample }
	out := make([]res, len(vs))
	var errs []string
	for r := range reps {
		for k := range vs {
			j := (k + r) % len(vs)
			b.progress("reap: %s, round %d/%d", vs[j].name, r+1, reps)
			line, err := b.runForLine(vs[j], []string{b.orphans, strconv.Itoa(n)}, 10*time.Minute)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			vals := map[string]float64{}
			for _, kv := range strings.Fields(line) {
				k, v, _ := strings.Cut(kv, "=")
				ns, _ := strconv.ParseFloat(v, 64)
				vals[k] = ns / 1e6
			}
			out[j].spawn = append(out[j].spawn, vals["spawn_ns"])
			out[j].drain = append(out[j].drain, vals["drain_ns"])
			out[j].total = append(out[j].total, vals["total_ns"])
		}
	}
	t := &table{
		title: fmt.Sprintf("Reaping %d orphans", n),
		intro: fmt.Sprintf("The app forks %d children that each fork a grandchild and exit; every grandchild is reparented to PID 1 and blocks on a pipe until all exist, then all exit at once. "+
			"Drain = release until /proc/1/task/*/children lists no orphan (zombies are listed until reaped); total = app start until then. Median of %d rounds per row, interleaved.", n, reps),
		header: []string{"PID 1", "spawn ms", "drain ms", "total ms", "drain vs tini", "total vs tini"},
	}
	td := namedMedianOf(vs, func(j int) sample { return out[j].drain }, "tini")
	tt := namedMedianOf(vs, func(j int) sample { return out[j].total }, "tini")
	for j, v := range vs {
		o := out[j]
		t.add(v.name, f(o.spawn.Median(), 0), f(o.drain.Median(), 0), f(o.total.Median(), 0), x(ratio(o.drain.Median(), td)), x(ratio(o.total.Median(), tt)))
	}
	for j, v := range vs {
		if v.isHoldfast() {
			rd, rt := ratio(out[j].drain.Median(), td), ratio(out[j].total.Median(), tt)
			t.target(fmt.Sprintf("%s reaps no worse than 2x tini", v.name), rd <= 2 && rt <= 2, "drain "+x(rd)+", total "+x(rt))
		}
	}
	for _, e := range errs {
		t.note("Error: %s", e)
	}
	return t
}

// runForLine runs app under v and returns the first line of its stdout,
// after the namespace has ended.
func (b *bench) runForLine(v variant, app []string, timeout time.Duration) (string, error) {
	s, err := startSession(v, app, b.work, true)
	if err != nil {
		return "", err
	}
	defer s.kill()
	got := make(chan string, 1)
	go func() {
		line, _ := s.stdout.ReadString('\n')
		got <- strings.TrimSpace(line)
		drain(s.stdout)
	}()
	select {
	case line := <-got:
		if line == "" {
			return "", fmt.Errorf("%s: no result line%s", v.name, s.stderrTail())
		}
		_ = s.wait(30 * time.Second)
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("%s: no result within %s%s", v.name, timeout, s.stderrTail())
	}
}
