package e2e

// holdfast as a correct PID 1: spawn, reaping, signal forwarding, stop, kill-all and
// exit codes, each driven from outside against the built binary. Unless a test says
// otherwise holdfast is PID 1 of its own pid namespace and runs as plain init
// (--hold=false --max-restarts=0, see defaultArgs).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sigApp is holdfast running the fake app in "signals" mode.
type sigApp struct {
	*hf
	file string // one received signal name per line
	app  int    // the app's host pid
}

// startSigApp starts holdfast (PID 1 when pid1) with flags, running the signal
// recorder; env adds HOLDFAST_E2E_* settings. It returns once the app is ready.
func startSigApp(t *testing.T, pid1 bool, env []string, flags ...string) *sigApp {
	t.Helper()
	file := filepath.Join(t.TempDir(), "signals")
	env = append([]string{fakeEnv + "=signals", fakeSigFile + "=" + file}, env...)
	args := append(append([]string{}, flags...), "--", selfExe)
	a := &sigApp{hf: start(t, spec{pid1: pid1, env: env, args: args}), file: file}
	a.waitOutput(t, "ready", waitLong)
	a.app = a.trackApp(t)
	return a
}

// lines is what the app recorded so far.
func (a *sigApp) lines() []string {
	b, _ := os.ReadFile(a.file)
	return strings.Fields(string(b))
}

func (a *sigApp) count(name string) int {
	n := 0
	for _, l := range a.lines() {
		if l == name {
			n++
		}
	}
	return n
}

// waitCount waits until the app has recorded name at least n times.
func (a *sigApp) waitCount(t *testing.T, name string, n int) {
	t.Helper()
	waitFor(t, waitLong, fmt.Sprintf("the app to record %s %d time(s)", name, n),
		func() bool { return a.count(name) >= n },
		func() string { return fmt.Sprintf("recorded: %v", a.lines()) })
}

// settled waits until nothing more arrives for half a second and returns the record.
func (a *sigApp) settled(t *testing.T) []string {
	t.Helper()
	return strings.Fields(settle(t, 500*time.Millisecond, waitLong, func() string {
		b, _ := os.ReadFile(a.file)
		return string(b)
	}))
}

// forwarded is every signal holdfast must hand to the app's group as is: all catchable
// ones except TERM and INT (they stop), CHLD, URG and PIPE (never forwarded), and PROF
// and RTMIN, which a Go program cannot receive: TestSignalsGoCannotCatch uses a shell.
var forwarded = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP, syscall.SIGABRT, syscall.SIGBUS,
	syscall.SIGFPE, syscall.SIGUSR1, syscall.SIGSEGV, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGSTKFLT,
	syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGXCPU, syscall.SIGXFSZ,
	syscall.SIGVTALRM, syscall.SIGWINCH, syscall.SIGIO, syscall.SIGPWR, syscall.SIGSYS,
	sigRTMin + 1, sigRTMin + 6, sigRTMax,
}

func TestSignalsForwardedFromHost(t *testing.T) {
	t.Parallel()
	for _, pid1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "pid1", false: "subreaper"}[pid1], func(t *testing.T) {
			t.Parallel()
			a := startSigApp(t, pid1, nil)
			for _, sig := range forwarded {
				a.signal(t, sig)
				a.waitCount(t, signame(sig), 1)
				if !a.alive(t) {
					t.Fatalf("holdfast exited after %s; output:\n%s", signame(sig), a.output())
				}
			}
			got := a.settled(t)
			want := make([]string, len(forwarded))
			for i, s := range forwarded {
				want[i] = signame(s)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("the app received %v, want each forwarded signal exactly once, in order: %v", got, want)
			}
			if !a.alive(t) {
				t.Errorf("holdfast is gone after the forwarded signals (SIGQUIT must never kill it)")
			}
		})
	}
}

// TestSignalsGoCannotCatch checks, with a dash trap as the app, the catchable signals
// that the Go recorder cannot see: PROF (runtime.sigenable returns early for it) and
// RTMIN (34, reserved by the Go runtime for musl's SIGSYNCCALL). The negative control
// sends them to the shell directly.
// SIGPROF and signal 34 (glibc's SIGRTMIN) belong to the Go runtime: it
// takes SIGPROF for its profiler and gives 34 no handler (musl's
// SIGSYNCCALL, golang/go#39343), so holdfast can neither catch nor forward
// them (README "Signals"). As PID 1 — in a container — the kernel drops
// signals PID 1 has no handler for, so they can't hurt holdfast there; that
// is what this test pins down. As a subreaper, 34 would end holdfast like
// any process without a handler: documented, and not sent here.
func TestSignalsGoRuntimeReserves(t *testing.T) {
	t.Parallel()
	script := `for s in 27 34 10; do trap "echo $s >> \"\$F\"" $s; done; echo ready; ` +
		`while :; do sleep 1 & wait; done`
	for _, mode := range []string{"control", "pid1", "subreaper"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "signals")
			h := start(t, spec{pid1: mode != "subreaper", env: []string{"F=" + file}, args: []string{"--", "/bin/sh", "-c", script}})
			h.waitOutput(t, "ready", waitLong)
			app := h.trackApp(t)
			target := h.pid(t)
			sigs := []syscall.Signal{syscall.SIGPROF, sigRTMin}
			if mode == "control" {
				target = app // negative control: the app itself does record them
			}
			if mode == "subreaper" {
				sigs = sigs[:1]
			}
			for _, s := range append(sigs, syscall.SIGUSR1) {
				if err := syscall.Kill(target, s); err != nil {
					t.Fatalf("cannot send %s: %v", signame(s), err)
				}
			}
			waitFor(t, waitLong, "the shell to record USR1", func() bool {
				return strings.Contains(strings.Join(readLines(file), " "), "10") || h.exited()
			})
			if h.exited() {
				code, _ := h.code()
				t.Fatalf("%s: holdfast exited with code %d; recorded %v", mode, code, readLines(file))
			}
			got := " " + strings.Join(strings.Fields(settle(t, 500*time.Millisecond, waitLong, func() string { return strings.Join(readLines(file), " ") })), " ") + " "
			for _, s := range sigs {
				want := 0
				if mode == "control" {
					want = 1
				}
				if n := strings.Count(got, fmt.Sprintf(" %d ", s)); n != want {
					t.Errorf("%s: %s (%d) reached the app %d times, want %d (recorded%s)", mode, signame(s), s, n, want, got)
				}
			}
			if strings.Count(got, " 10 ") != 1 {
				t.Errorf("%s: USR1 reached the app %d times, want once", mode, strings.Count(got, " 10 "))
			}
			if mode != "control" && !h.alive(t) {
				t.Errorf("holdfast is gone after PROF, RTMIN, USR1")
			}
		})
	}
}

func TestSignalsFromInsideNamespace(t *testing.T) {
	t.Parallel()
	a := startSigApp(t, true, nil)
	for _, name := range []string{"USR1", "HUP", "WINCH", "RTMIN+3"} {
		if out, err := execInNS(t, a.hf, "kill", "-s", name, "1"); err != nil {
			t.Fatalf("kill -s %s 1 inside the namespace: %v\n%s", name, err, out)
		}
		a.waitCount(t, name, 1)
	}
	if out, err := execInNS(t, a.hf, "kill", "-s", "TERM", "1"); err != nil {
		t.Fatalf("kill -s TERM 1 inside the namespace: %v\n%s", err, out)
	}
	if code := a.waitExit(t, waitLong); code != 143 {
		t.Errorf("after kill -TERM 1 inside, holdfast exited %d, want 143 (the app's exit on TERM)", code)
	}
	if got := strings.Join(a.lines(), " "); got != "USR1 HUP WINCH RTMIN+3 TERM" {
		t.Errorf("the app received %q, want each signal from inside exactly once: USR1 HUP WINCH RTMIN+3 TERM", got)
	}
}

func TestSigchldStorm(t *testing.T) {
	t.Parallel()
	a := startSigApp(t, true, nil)
	pid := a.pid(t)
	for i := 0; i < 2000; i++ {
		if err := syscall.Kill(pid, syscall.SIGCHLD); err != nil {
			t.Fatalf("SIGCHLD %d to holdfast: %v", i, err)
		}
	}
	a.signal(t, syscall.SIGUSR1) // sentinel: holdfast still forwards
	a.waitCount(t, "USR1", 1)
	got := a.settled(t)
	if strings.Join(got, " ") != "USR1" {
		t.Errorf("after 2,000 SIGCHLDs and one SIGUSR1 the app received %v, want only [USR1] (CHLD is never forwarded)", got)
	}
	if !a.alive(t) {
		t.Errorf("holdfast exited during the SIGCHLD storm")
	}
	if st, err := procState(a.app); err != nil || st == "Z" {
		t.Errorf("the app is gone after the SIGCHLD storm (state %q, %v)", st, err)
	}
}

func TestSignalsNotForwarded(t *testing.T) {
	t.Parallel()
	a := startSigApp(t, true, nil)
	a.signal(t, syscall.SIGURG)
	a.signal(t, syscall.SIGPIPE)
	a.signal(t, syscall.SIGUSR1) // sentinel
	a.waitCount(t, "USR1", 1)
	if got := a.settled(t); strings.Join(got, " ") != "USR1" {
		t.Errorf("after SIGURG, SIGPIPE and SIGUSR1 to holdfast the app received %v, want only [USR1]", got)
	}
	if !a.alive(t) {
		t.Fatalf("holdfast exited after SIGURG/SIGPIPE")
	}
	// Negative control: the recorder does see URG and PIPE sent to it directly.
	app := a.app
	for _, s := range []syscall.Signal{syscall.SIGURG, syscall.SIGPIPE} {
		if err := syscall.Kill(app, s); err != nil {
			t.Fatalf("cannot send %s to the app: %v", signame(s), err)
		}
		a.waitCount(t, signame(s), 1)
	}
}

func TestSignalMap(t *testing.T) {
	t.Parallel()
	a := startSigApp(t, true, nil, "--signal-map=USR1:USR2,HUP:WINCH")
	a.signal(t, syscall.SIGUSR1)
	a.waitCount(t, "USR2", 1)
	a.signal(t, syscall.SIGHUP)
	a.waitCount(t, "WINCH", 1)
	a.signal(t, syscall.SIGALRM) // not in the map: as is
	a.waitCount(t, "ALRM", 1)
	if got := a.settled(t); strings.Join(got, " ") != "USR2 WINCH ALRM" {
		t.Errorf("with --signal-map=USR1:USR2,HUP:WINCH, USR1 HUP ALRM to holdfast gave the app %v, want [USR2 WINCH ALRM]", got)
	}
}

func TestStop(t *testing.T) {
	t.Parallel()
	// Crash-hold stays on in these: a stop's exit is not a crash, so holdfast must
	// exit with the app's code instead of restarting or holding.
	hold := []string{"--hold=true", "--max-restarts=2"}
	t.Run("TERM kills a default app", func(t *testing.T) {
		t.Parallel()
		h := startPID1(t, []string{fakeEnv + "=ready"}, append(hold, "--", selfExe)...)
		h.waitOutput(t, "ready", waitLong)
		h.signal(t, syscall.SIGTERM)
		if code := h.waitExit(t, waitLong); code != 143 {
			t.Errorf("TERM to holdfast with an app that dies of TERM: exit %d, want 143", code)
		}
	})
	t.Run("TERM sends the stop signal", func(t *testing.T) {
		t.Parallel()
		a := startSigApp(t, true, []string{fakeExitOn + "=QUIT"}, append(hold, "--stop-signal=QUIT")...)
		a.signal(t, syscall.SIGTERM)
		if code := a.waitExit(t, waitLong); code != 131 {
			t.Errorf("TERM to holdfast with --stop-signal=QUIT (app exits 131 on QUIT): exit %d, want 131", code)
		}
		if got := strings.Join(a.lines(), " "); got != "QUIT" {
			t.Errorf("with --stop-signal=QUIT, TERM to holdfast gave the app %q, want QUIT", got)
		}
	})
	t.Run("INT sends INT", func(t *testing.T) {
		t.Parallel()
		a := startSigApp(t, true, []string{fakeExitOn + "=QUIT,INT"}, append(hold, "--stop-signal=QUIT")...)
		a.signal(t, syscall.SIGINT)
		if code := a.waitExit(t, waitLong); code != 130 {
			t.Errorf("INT to holdfast (app exits 130 on INT): exit %d, want 130", code)
		}
		if got := strings.Join(a.lines(), " "); got != "INT" {
			t.Errorf("INT to holdfast with --stop-signal=QUIT gave the app %q, want INT", got)
		}
	})
}

func TestGraceThenKill(t *testing.T) {
	t.Parallel()
	const grace = 2 * time.Second
	a := startSigApp(t, true, []string{fakeIgnore + "=TERM"}, "--grace=2s")
	t0 := time.Now()
	a.signal(t, syscall.SIGTERM)
	a.waitCount(t, "TERM", 1)
	a.signal(t, syscall.SIGUSR1) // still forwarded while stopping
	a.waitCount(t, "USR1", 1)
	a.signal(t, syscall.SIGTERM) // must not shorten the grace period
	code := a.waitExit(t, grace+waitLong)
	took := a.exitedAt.Sub(t0)
	if code != 137 {
		t.Errorf("app ignoring TERM, --grace=2s: holdfast exited %d, want 137 (SIGKILL)", code)
	}
	if took < grace {
		t.Errorf("app ignoring TERM was killed %v after the first TERM, want no earlier than --grace=%v (a second TERM must not shorten it)", took, grace)
	}
	if took > grace+20*time.Second {
		t.Errorf("app ignoring TERM was killed %v after TERM, want about --grace=%v", took, grace)
	}
}

// TestGraceKillsWholeGroup runs holdfast as a subreaper (no kill-all, so only the
// group SIGKILL can end the group member) with an app whose child shares its group and,
// like the app, ignores TERM.
func TestGraceKillsWholeGroup(t *testing.T) {
	t.Parallel()
	const grace = 2 * time.Second
	pidFile := filepath.Join(t.TempDir(), "member.pid")
	h := startPlain(t, []string{"F=" + pidFile}, "--grace=2s", "--",
		"/bin/sh", "-c", `trap "" TERM; sleep 1000 & echo $! > "$F"; echo ready; wait`)
	h.waitOutput(t, "ready", waitLong)
	h.trackApp(t)
	var member int
	if _, err := fmt.Sscan(strings.Join(readLines(pidFile), ""), &member); err != nil {
		t.Fatalf("no pid of the group member: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(member, syscall.SIGKILL) })
	t0 := time.Now()
	h.signal(t, syscall.SIGTERM)
	code := h.waitExit(t, grace+waitLong)
	if took := h.exitedAt.Sub(t0); code != 137 || took < grace {
		t.Errorf("app and group member ignoring TERM, --grace=2s: exit %d after %v, want 137 no earlier than %v", code, took, grace)
	}
	waitFor(t, waitLong, "the group member to be killed with the app's group", func() bool {
		st, err := procState(member)
		return err != nil || st == "Z"
	}, func() string { st, _ := procState(member); return "member state " + st })
}

// startFamily runs the "family" app: grandchildren per spec, then the app exits 0.
func startFamily(t *testing.T, grace string, members ...string) (*hf, string) {
	t.Helper()
	dir := t.TempDir()
	h := startPID1(t, []string{fakeEnv + "=family", fakeDir + "=" + dir},
		append([]string{"--grace=" + grace, "--", selfExe}, members...)...)
	return h, dir
}

func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}

// appExitTime is when the family app exited, as it recorded.
func appExitTime(t *testing.T, dir string) time.Time {
	t.Helper()
	l := readLines(filepath.Join(dir, "app.exit"))
	var ns int64
	if len(l) != 1 {
		t.Fatalf("the app recorded no exit time: %v", l)
	}
	if _, err := fmt.Sscan(l[0], &ns); err != nil {
		t.Fatalf("bad app exit time %q: %v", l[0], err)
	}
	return time.Unix(0, ns)
}

func TestKillAllAfterAppExit(t *testing.T) {
	t.Parallel()
	t.Run("strays get TERM and are waited for", func(t *testing.T) {
		t.Parallel()
		const grace = 6 * time.Second
		h, dir := startFamily(t, "6s", "setsid:setsid", "plain")
		code := h.waitExit(t, grace+waitLong)
		if code != 0 {
			t.Errorf("the app exited 0 with strays left: holdfast exited %d, want 0", code)
		}
		for _, name := range []string{"setsid", "plain"} {
			// "bye" comes 300 ms after TERM: had holdfast not waited, the kernel's
			// SIGKILL at PID 1's exit would have cut it off.
			if got := strings.Join(readLines(filepath.Join(dir, name+".sig")), " "); got != "ready TERM bye" {
				t.Errorf("grandchild %q recorded %q, want \"ready TERM bye\" (TERM from kill-all, holdfast waits until it is gone)", name, got)
			}
		}
		if took := h.exitedAt.Sub(appExitTime(t, dir)); took >= grace {
			t.Errorf("holdfast exited %v after the app although the strays were gone in ~300 ms; want before --grace=%v", took, grace)
		}
	})
	t.Run("a stray ignoring TERM is killed after the grace period", func(t *testing.T) {
		t.Parallel()
		const grace = 2 * time.Second
		h, dir := startFamily(t, "2s", "stubborn:setsid:ignore")
		code := h.waitExit(t, grace+waitLong)
		if code != 0 {
			t.Errorf("the app exited 0 with a stray left: holdfast exited %d, want 0", code)
		}
		if got := strings.Join(readLines(filepath.Join(dir, "stubborn.sig")), " "); got != "ready TERM" {
			t.Errorf("the stray ignoring TERM recorded %q, want \"ready TERM\"", got)
		}
		took := h.exitedAt.Sub(appExitTime(t, dir))
		if took < grace {
			t.Errorf("holdfast exited %v after the app, with a stray ignoring TERM; want no earlier than --grace=%v", took, grace)
		}
		if took > grace+20*time.Second {
			t.Errorf("holdfast exited %v after the app, want about --grace=%v", took, grace)
		}
	})
}

// orphanStorm starts init (holdfast, or a negative control) running the "orphans" app:
// n orphans in batches, each living a moment. It returns once the app made them all.
func orphanStorm(t *testing.T, s spec, n int) *hf {
	t.Helper()
	s.env = append(s.env, fakeLeafSecs+"=0.05")
	h := start(t, s)
	h.waitOutput(t, fmt.Sprintf("orphans done %d", n), 3*time.Minute)
	return h
}

func TestReapOrphanStorm(t *testing.T) {
	t.Parallel()
	const n = 2000
	h := orphanStorm(t, spec{pid1: true, env: []string{fakeEnv + "=orphans"},
		args: []string{"--", selfExe, fmt.Sprint(n), "50"}}, n)
	pid := h.pid(t)
	var ps []proc
	waitFor(t, waitLong, "every orphan to be reaped (only holdfast and the app left, no zombies)", func() bool {
		ps = nsProcs(pid)
		return len(ps) == 2 && countState(ps, "Z") == 0
	}, func() string {
		return fmt.Sprintf("%d processes in the namespace, %d zombies", len(ps), countState(ps, "Z"))
	})
	out, err := execInNS(t, h, "ps", "-eo", "stat=")
	if err != nil {
		t.Fatalf("ps inside the namespace: %v\n%s", err, out)
	}
	if strings.Contains(out, "Z") {
		t.Errorf("ps -eo stat inside the namespace shows zombies:\n%s", out)
	}
	if !h.alive(t) {
		t.Errorf("holdfast exited during the orphan storm")
	}
}

// TestReapNegativeControl shows that the reaping check can fail: the same kind of
// storm under a PID 1 that never calls wait leaves every orphan a zombie. Smaller than
// the real one: process creation is slow on these VMs (5-25 ms each), and 300 zombies
// prove the point as well as 2,000.
func TestReapNegativeControl(t *testing.T) {
	t.Parallel()
	const n = 300
	h := orphanStorm(t, spec{pid1: true, env: []string{fakeEnv + "=noreap-init"},
		prog: []string{selfExe, "orphans", selfExe, fmt.Sprint(n), "50"}}, n)
	pid := h.pid(t)
	var ps []proc
	waitFor(t, waitLong, fmt.Sprintf("%d zombies under the non-reaping init", n), func() bool {
		ps = nsProcs(pid)
		return countState(ps, "Z") == n
	}, func() string { return fmt.Sprintf("%d zombies", countState(ps, "Z")) })
}

// subreaperStorm runs n long-lived orphans under init (not PID 1) and returns once
// they are all children of init; then it releases them and returns the host pid.
func subreaperStorm(t *testing.T, s spec, n int) (int, string) {
	t.Helper()
	release := filepath.Join(t.TempDir(), "release")
	s.env = append(s.env, fakeRelease+"="+release)
	// Registered before start's kill, so it runs after it: leaves left over from a
	// failed test exit instead of living on under the host's init.
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o644) })
	h := start(t, s)
	h.waitOutput(t, fmt.Sprintf("orphans done %d", n), 3*time.Minute)
	pid := h.pid(t)
	var kids []int
	waitFor(t, waitLong, fmt.Sprintf("%d orphans to be reparented to the subreaper", n), func() bool {
		kids = children(pid)
		return len(kids) == n+1 // the orphans and the app
	}, func() string { return fmt.Sprintf("children of %d: %d", pid, len(kids)) })
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return pid, release
}

func TestReapAsSubreaper(t *testing.T) {
	t.Parallel()
	const n = 50
	pid, _ := subreaperStorm(t, spec{env: []string{fakeEnv + "=orphans"},
		args: []string{"--", selfExe, fmt.Sprint(n), "10"}}, n)
	var kids []int
	waitFor(t, waitLong, "the released orphans to be reaped by holdfast (only the app left)", func() bool {
		kids = children(pid)
		return len(kids) == 1
	}, func() string { return fmt.Sprintf("holdfast (pid %d) still has %d children", pid, len(kids)) })
	if st, _ := procState(kids[0]); st == "Z" {
		t.Errorf("the app is a zombie")
	}
}

func TestReapAsSubreaperNegativeControl(t *testing.T) {
	t.Parallel()
	const n = 50
	pid, _ := subreaperStorm(t, spec{env: []string{fakeEnv + "=noreap-init"},
		prog: []string{selfExe, "orphans", selfExe, fmt.Sprint(n), "10"}}, n)
	var zombies int
	waitFor(t, waitLong, fmt.Sprintf("%d zombie children of the non-reaping subreaper", n), func() bool {
		zombies = 0
		for _, k := range children(pid) {
			if st, _ := procState(k); st == "Z" {
				zombies++
			}
		}
		return zombies == n
	}, func() string { return fmt.Sprintf("%d zombies", zombies) })
}

func TestExitCodesPassThrough(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	type result struct {
		want, got int
		err       error
		out       string
	}
	codes := make(chan int)
	results := make(chan result)
	for w := 0; w < 16; w++ {
		go func() {
			for c := range codes {
				r := result{want: c}
				h, err := launch(spec{pid1: true, env: []string{fakeEnv + "=exit"},
					args: []string{"--", selfExe, fmt.Sprint(c)}}, tmp)
				if err != nil {
					r.err = err
				} else {
					select {
					case <-h.done:
						r.got, r.err = h.code()
					case <-time.After(waitLong):
						r.err = fmt.Errorf("still running after %v", waitLong)
						h.kill()
					}
					r.out = h.output()
				}
				results <- r
			}
		}()
	}
	go func() {
		for c := 0; c <= 255; c++ {
			codes <- c
		}
		close(codes)
	}()
	for i := 0; i <= 255; i++ {
		r := <-results
		if r.err != nil || r.got != r.want {
			t.Errorf("app exit %d: holdfast exited %d (%v), want %d\n%s", r.want, r.got, r.err, r.want, r.out)
		}
	}
}

func TestSignalDeathCodes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sig  string
		want int
	}{{"TERM", 143}, {"KILL", 137}, {"SEGV", 139}} {
		t.Run(c.sig, func(t *testing.T) {
			t.Parallel()
			h := startPID1(t, nil, "--", "/bin/sh", "-c", "kill -s "+c.sig+" $$")
			if code := h.waitExit(t, waitLong); code != c.want {
				t.Errorf("app killed by SIG%s: holdfast exited %d, want %d", c.sig, code, c.want)
			}
		})
	}
}

// linesWith returns the lines of s that contain sub.
func linesWith(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

func TestExecFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, cmd string
		want      int
	}{
		{"missing path", filepath.Join(dir, "no-such-program"), 127},
		{"missing in PATH", "holdfast-e2e-no-such-command", 127},
		{"not executable", notExec, 126},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := startPID1(t, nil, "--", c.cmd, "arg")
			if code := h.waitExit(t, waitLong); code != c.want {
				t.Errorf("COMMAND %s: holdfast exited %d, want %d", c.cmd, code, c.want)
			}
			if l := linesWith(h.stderr.String(), c.cmd); len(l) != 1 {
				t.Errorf("COMMAND %s: want one clear line on stderr naming it, got %d:\n%s", c.cmd, len(l), h.stderr)
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		flag  string // given on the command line, or an env twin "HOLDFAST_X=v"
		names []string
	}{
		{"--hold-window=ten", []string{"hold-window", "ten"}},
		{"--max-restarts=-1", []string{"max-restarts", "-1"}},
		{"--stop-signal=NOPE", []string{"stop-signal", "NOPE"}},
		{"--signal-map=TERM", []string{"signal-map", "TERM"}},
		{"--grace=soon", []string{"grace", "soon"}},
		{"HOLDFAST_GRACE=later", []string{"HOLDFAST_GRACE", "later"}},
		{"control", nil}, // valid flags: the app starts and creates its marker
	} {
		t.Run(strings.TrimLeft(c.flag, "-"), func(t *testing.T) {
			t.Parallel()
			marker := filepath.Join(t.TempDir(), "started")
			env := []string{fakeEnv + "=marker", fakeMarker + "=" + marker}
			var args []string
			switch {
			case strings.HasPrefix(c.flag, "HOLDFAST_"):
				env = append(env, c.flag)
			case c.flag != "control":
				args = append(args, c.flag)
			}
			h := startPID1(t, env, append(args, "--", selfExe)...)
			code := h.waitExit(t, waitLong)
			_, statErr := os.Stat(marker)
			if c.flag == "control" {
				if code != 0 || statErr != nil {
					t.Fatalf("control with valid flags: exit %d, marker: %v; want 0 and a marker", code, statErr)
				}
				return
			}
			if code != 2 {
				t.Errorf("%s: holdfast exited %d, want 2", c.flag, code)
			}
			if statErr == nil {
				t.Errorf("%s: the app started (marker %s exists); bad flags must stop holdfast before anything starts", c.flag, marker)
			}
			for _, n := range c.names {
				if !strings.Contains(h.stderr.String(), n) {
					t.Errorf("%s: stderr does not name %q:\n%s", c.flag, n, h.stderr)
				}
			}
		})
	}
}

func TestArgvEnvCwdArriveExactly(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "dump.json")
	cwd := filepath.Join(t.TempDir(), "a dir with spaces, 'quotes' and ünïcödé")
	if err := os.Mkdir(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	argv := []string{
		"", " ", "two words", `"double"`, "'single'", "new\nline", "tab\there", "--", "-x", "--flag=value",
		"--help", "-h", "--hold=false", "ünïcödé ✓", "\xff\xfe", "a\x01b", "$HOME", "*", `back\slash`, "",
	}
	env := []string{
		fakeEnv + "=dump", fakeOut + "=" + out,
		"HF_E2E_NEWLINE=line1\nline2", "HF_E2E_EQUALS=a=b==c", "HF_E2E_EMPTY=", "HF_E2E_UTF8=ünï ✓",
		"HF_E2E_BYTES=\xff\xfe", "HF_E2E_SPACES=  lead and trail  ",
	}
	s := spec{pid1: true, env: env, dir: cwd, args: append([]string{"--", selfExe}, argv...)}
	h := start(t, s)
	if code := h.waitExit(t, waitLong); code != 0 {
		t.Fatalf("dump app: holdfast exited %d, want 0", code)
	}
	rec := readDump(t, out)
	wantArgs := append([]string{selfExe}, argv...)
	if got := strs(rec.Args); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", wantArgs) {
		t.Errorf("argv changed on the way:\n got %q\nwant %q", got, wantArgs)
	}
	if got, want := strs(rec.Env), s.fullEnv(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("environment changed on the way:\n got %q\nwant %q\nonly in app: %q\nmissing: %q",
			got, want, minus(got, want), minus(want, got))
	}
	if string(rec.Cwd) != cwd {
		t.Errorf("working directory changed: got %q, want %q", rec.Cwd, cwd)
	}
	if rec.Pgid != rec.Pid {
		t.Errorf("the app (pid %d) is in process group %d, want its own group", rec.Pid, rec.Pgid)
	}
	if rec.Ppid != 1 {
		t.Errorf("the app's parent is pid %d, want holdfast as pid 1", rec.Ppid)
	}
}

func readDump(t *testing.T, path string) dumpRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the app wrote no dump: %v", err)
	}
	var rec dumpRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("cannot decode the dump: %v", err)
	}
	return rec
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// minus is a without the elements of b.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

func TestStdioPassThrough(t *testing.T) {
	t.Parallel()
	h := start(t, spec{pid1: true, env: []string{fakeEnv + "=echo"}, stdin: strings.NewReader("hello stdin\n"),
		args: []string{"--", selfExe}})
	if code := h.waitExit(t, waitLong); code != 0 {
		t.Fatalf("echo app: holdfast exited %d, want 0", code)
	}
	if !strings.Contains(h.stdout.String(), "out:hello stdin\n") {
		t.Errorf("the app's stdout (from its stdin) did not reach holdfast's stdout:\n%s", h.stdout)
	}
	if !strings.Contains(h.stderr.String(), "err:hello stdin\n") {
		t.Errorf("the app's stderr (from its stdin) did not reach holdfast's stderr:\n%s", h.stderr)
	}
}

// sigmaskStatus runs prog under the sigmask launcher (USR1, WINCH, ALRM blocked;
// HUP, USR2, INT, QUIT ignored) and returns the SigBlk and SigIgn that grep reports
// for itself at the end of the chain.
func sigmaskStatus(t *testing.T, pid1 bool, prog ...string) (blk, ign string) {
	t.Helper()
	env := []string{fakeEnv + "=sigmask-launcher", fakeBlocked + "=USR1,WINCH,ALRM", fakeIgnored + "=HUP,USR2,INT,QUIT"}
	launcher := append([]string{selfExe}, prog...)
	if pid1 {
		launcher = append([]string{selfExe, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}, prog...)
	}
	h := start(t, spec{env: env, prog: launcher})
	if code := h.waitExit(t, waitLong); code != 0 {
		t.Fatalf("%q: exit %d, want 0", launcher, code)
	}
	for _, l := range strings.Split(h.stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			blk = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			ign = strings.TrimSpace(v)
		}
	}
	if blk == "" || ign == "" {
		t.Fatalf("%q printed no SigBlk/SigIgn:\n%s", launcher, h.output())
	}
	return blk, ign
}

func TestSigmaskAndIgnoredReset(t *testing.T) {
	t.Parallel()
	const zero = "0000000000000000"
	grep := []string{"/usr/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}
	hfArgs := func(stateDir string) []string {
		return append(append([]string{holdfastBin}, defaultArgs(stateDir)...), append([]string{"--"}, grep...)...)
	}
	// Negative controls: the launcher's mask and ignored set do reach a program it
	// execs directly, and through unshare, so a zero below is holdfast's doing.
	t.Run("control without holdfast", func(t *testing.T) {
		t.Parallel()
		if blk, ign := sigmaskStatus(t, false, grep...); blk == zero || ign == zero {
			t.Errorf("launcher -> grep: SigBlk %s SigIgn %s; the launcher should leave both non-zero", blk, ign)
		}
	})
	t.Run("control through unshare", func(t *testing.T) {
		t.Parallel()
		if blk, ign := sigmaskStatus(t, true, grep...); blk == zero || ign == zero {
			t.Errorf("launcher -> unshare -> grep: SigBlk %s SigIgn %s; want both non-zero", blk, ign)
		}
	})
	for _, pid1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "pid1", false: "subreaper"}[pid1], func(t *testing.T) {
			t.Parallel()
			blk, ign := sigmaskStatus(t, pid1, hfArgs(t.TempDir())...)
			if blk != zero || ign != zero {
				t.Errorf("app started by holdfast under a launcher that blocked USR1,WINCH,ALRM and ignored HUP,USR2,INT,QUIT: SigBlk %s SigIgn %s, want both %s", blk, ign, zero)
			}
		})
	}
}
