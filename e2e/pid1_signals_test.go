package e2e

// holdfast as PID 1 forwards signals: from the host and from inside the namespace,
// exactly once each, the Go runtime's own excepted; --signal-map; and a stop, with its
// grace period and the escalation to SIGKILL of the app's whole group.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
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
	a.waitOutput(t, "ready", hfrun.WaitLong)
	a.app = a.trackApp(t)
	return a
}

// lines is what the app recorded so far.
func (a *sigApp) lines() []string {
	b, _ := os.ReadFile(a.file)
	return strings.Fields(string(b))
}

// linesButCont is lines without CONT: holdfast sends SIGCONT to the app's group right
// after a stop signal (so a stopped app can act on it), and the recorder may see it
// before or after the stop signal.
func (a *sigApp) linesButCont() []string {
	return slices.DeleteFunc(a.lines(), func(l string) bool { return l == "CONT" })
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
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("the app to record %s %d time(s)", name, n),
		func() bool { return a.count(name) >= n },
		func() string { return fmt.Sprintf("recorded: %v", a.lines()) })
}

// settled waits until nothing more arrives for half a second and returns the record.
func (a *sigApp) settled(t *testing.T) []string {
	t.Helper()
	return strings.Fields(hfrun.Settle(t, 500*time.Millisecond, hfrun.WaitLong, func() string {
		b, _ := os.ReadFile(a.file)
		return string(b)
	}))
}

// forwarded is every signal holdfast must hand to the app's group as is: all catchable
// ones except TERM and INT (they stop), CHLD, URG and PIPE (never forwarded), and PROF
// and RTMIN, which a Go program cannot receive: TestSignalsGoRuntimeReserves uses a shell.
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

// TestSignalsGoRuntimeReserves checks, with a dash trap as the app, the catchable signals
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
			h.waitOutput(t, "ready", hfrun.WaitLong)
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
			hfrun.WaitFor(t, hfrun.WaitLong, "the shell to record USR1", func() bool {
				return strings.Contains(strings.Join(readLines(file), " "), "10") || h.exited()
			})
			if h.exited() {
				code, _ := h.code()
				t.Fatalf("%s: holdfast exited with code %d; recorded %v", mode, code, readLines(file))
			}
			got := " " + strings.Join(strings.Fields(hfrun.Settle(t, 500*time.Millisecond, hfrun.WaitLong, func() string { return strings.Join(readLines(file), " ") })), " ") + " "
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
	if code := a.waitExit(t, hfrun.WaitLong); code != 143 {
		t.Errorf("after kill -TERM 1 inside, holdfast exited %d, want 143 (the app's exit on TERM)", code)
	}
	if got := strings.Join(a.linesButCont(), " "); got != "USR1 HUP WINCH RTMIN+3 TERM" {
		t.Errorf("the app received %q, want each signal from inside exactly once: USR1 HUP WINCH RTMIN+3 TERM", got)
	}
}

// TestSigchldStorm: a storm of SIGCHLDs, sent and real. The 2,000 sent ones must
// neither be forwarded nor stop holdfast. Then 200 orphans of holdfast die of one
// kill(2), so their SIGCHLDs arrive at once and coalesce into fewer wake-ups: every
// one must still be reaped, which a reaper that collects one child per SIGCHLD does not.
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
		t.Fatalf("holdfast exited during the SIGCHLD storm")
	}
	if st, err := procState(a.app); err != nil || st == "Z" {
		t.Errorf("the app is gone after the SIGCHLD storm (state %q, %v)", st, err)
	}

	// n sleeps in a group of their own, orphaned as their shell exits.
	const n = 200
	out, err := execInNS(t, a.hf, "setsid", "--wait", "sh", "-c",
		fmt.Sprintf(`i=0; while [ $i -lt %d ]; do sleep 1000 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo $$`, n))
	pgid := strings.TrimSpace(out)
	if err != nil || pgid == "" {
		t.Fatalf("starting %d sleeps inside the namespace: %v\n%s", n, err, out)
	}
	orphans := func() int {
		k := 0
		for _, p := range nsProcs(pid) {
			if p.ppid == pid && p.comm == "sleep" && p.state != "Z" {
				k++
			}
		}
		return k
	}
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("%d sleeps orphaned to holdfast", n), func() bool { return orphans() == n },
		func() string { return fmt.Sprintf("%d", orphans()) })
	if out, err := execInNS(t, a.hf, "kill", "-KILL", "--", "-"+pgid); err != nil {
		t.Fatalf("kill -KILL -- -%s inside the namespace: %v\n%s", pgid, err, out)
	}
	var ps []proc
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("all %d orphans, killed at once, to be reaped (only holdfast and the app left)", n), func() bool {
		ps = nsProcs(pid)
		return len(ps) == 2 && countState(ps, "Z") == 0
	}, func() string {
		return fmt.Sprintf("%d processes in the namespace, %d zombies", len(ps), countState(ps, "Z"))
	})
	if !a.alive(t) {
		t.Errorf("holdfast exited while reaping the orphans")
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
		h.waitOutput(t, "ready", hfrun.WaitLong)
		h.signal(t, syscall.SIGTERM)
		if code := h.waitExit(t, hfrun.WaitLong); code != 143 {
			t.Errorf("TERM to holdfast with an app that dies of TERM: exit %d, want 143", code)
		}
	})
	t.Run("TERM sends the stop signal", func(t *testing.T) {
		t.Parallel()
		a := startSigApp(t, true, []string{fakeExitOn + "=QUIT"}, append(hold, "--stop-signal=QUIT")...)
		a.signal(t, syscall.SIGTERM)
		if code := a.waitExit(t, hfrun.WaitLong); code != 131 {
			t.Errorf("TERM to holdfast with --stop-signal=QUIT (app exits 131 on QUIT): exit %d, want 131", code)
		}
		if got := strings.Join(a.linesButCont(), " "); got != "QUIT" {
			t.Errorf("with --stop-signal=QUIT, TERM to holdfast gave the app %q, want QUIT", got)
		}
	})
	t.Run("INT sends INT", func(t *testing.T) {
		t.Parallel()
		a := startSigApp(t, true, []string{fakeExitOn + "=QUIT,INT"}, append(hold, "--stop-signal=QUIT")...)
		a.signal(t, syscall.SIGINT)
		if code := a.waitExit(t, hfrun.WaitLong); code != 130 {
			t.Errorf("INT to holdfast (app exits 130 on INT): exit %d, want 130", code)
		}
		if got := strings.Join(a.linesButCont(), " "); got != "INT" {
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
	code := a.waitExit(t, grace+hfrun.WaitLong)
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
	h.waitOutput(t, "ready", hfrun.WaitLong)
	h.trackApp(t)
	var member int
	if _, err := fmt.Sscan(strings.Join(readLines(pidFile), ""), &member); err != nil {
		t.Fatalf("no pid of the group member: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(member, syscall.SIGKILL) })
	t0 := time.Now()
	h.signal(t, syscall.SIGTERM)
	code := h.waitExit(t, grace+hfrun.WaitLong)
	if took := h.exitedAt.Sub(t0); code != 137 || took < grace {
		t.Errorf("app and group member ignoring TERM, --grace=2s: exit %d after %v, want 137 no earlier than %v", code, took, grace)
	}
	hfrun.WaitFor(t, hfrun.WaitLong, "the group member to be killed with the app's group", func() bool {
		st, err := procState(member)
		return err != nil || st == "Z"
	}, func() string { st, _ := procState(member); return "member state " + st })
}

// TestSignalsWhileHeld: plain signals that arrive while no app process runs (a
// startup-crash hold) are dropped, each with a log line that says so. holdfast stays
// up and held, and SIGTERM still ends it with the app's last exit code. SIGHUP and
// SIGQUIT are among them: they would end a Go program that does not catch them.
func TestSignalsWhileHeld(t *testing.T) {
	t.Parallel()
	z := start(t, spec{pid1: true, args: []string{"--hold=true", "--max-restarts=0"}, app: []string{"/bin/sh", "-c", "exit 3"}})
	z.waitPhase(t, "held", 1)
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH} {
		z.signal(t, sig)
		z.waitOutput(t, fmt.Sprintf(`msg="no app process to forward the signal to" component=supervisor signal=SIG%s phase=held`, signame(sig)), hfrun.WaitLong)
	}
	if st := z.waitPhase(t, "held", 1); st.Run != 1 {
		t.Errorf("after the signals: %+v, want still held in run 1", st)
	}
	z.signal(t, syscall.SIGTERM)
	if code := z.waitExit(t, hfrun.WaitLong); code != 3 {
		t.Errorf("holdfast exited %d after SIGTERM in the hold, want the app's last code 3\n%s", code, z.output())
	}
}
