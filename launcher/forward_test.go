package launcher

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recordForwarded returns an after func for NewForwarder and the channel
// it reports on.
func recordForwarded() (func(Forwarded), chan Forwarded) {
	ch := make(chan Forwarded, 16)
	return func(fw Forwarded) { ch <- fw }, ch
}

func nextForwarded(t *testing.T, ch <-chan Forwarded) Forwarded {
	t.Helper()
	select {
	case fw := <-ch:
		return fw
	case <-time.After(30 * time.Second):
		t.Fatal("the forwarder reported nothing within 30s")
		return Forwarded{}
	}
}

// startLeader starts argv as a registered child leading a process group
// of its own, as Spawn starts the app.
func startLeader(t *testing.T, r *Reaper, argv ...string) *Child {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c, err := r.Start(cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statusOf waits for c's status, reaping on the way.
func statusOf(t *testing.T, r *Reaper, c *Child) Status {
	t.Helper()
	waitExited(t, c.Pid)
	r.Reap()
	select {
	case st := <-c.Done:
		return st
	default:
		t.Fatalf("pid %d exited but its status was not routed to it", c.Pid)
		return Status{}
	}
}

func TestDirect(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD, syscall.SIGPIPE, syscall.SIGURG, syscall.SIGKILL} {
		if Direct(sig) {
			t.Errorf("%s is forwarded directly; it must go to the supervisor or nowhere", SignalName(sig))
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH, sigRTMax} {
		if !Direct(sig) {
			t.Errorf("%s is not forwarded directly", SignalName(sig))
		}
	}
}

// A signal arriving while no app process runs (before the first run, in a
// hold or a backoff) is reported as not sent.
func TestForwardWithoutTarget(t *testing.T) {
	after, got := recordForwarded()
	f := NewForwarder(NewReaper(), nil, after)
	f.Forward(syscall.SIGUSR1)
	if fw := nextForwarded(t, got); fw.Pid != 0 || fw.Err != nil || fw.Received != syscall.SIGUSR1 {
		t.Errorf("without a target: %+v, want nothing sent", fw)
	}
}

// The target's group gets the signal after --signal-map; once the target
// is reaped (a restart, before the supervisor has cleared it), nothing is
// sent to its pid.
func TestForwardToTargetThenReaped(t *testing.T) {
	r := NewReaper()
	after, got := recordForwarded()
	f := NewForwarder(r, map[syscall.Signal]syscall.Signal{syscall.SIGUSR2: syscall.SIGTERM}, after)
	kids := []*Child{startLeader(t, r, "sleep", "60")}
	f.SetTarget(kids[0])
	f.Forward(syscall.SIGUSR2)
	fw := nextForwarded(t, got)
	if fw.Pid != kids[0].Pid || fw.Sent != syscall.SIGTERM || fw.Err != nil {
		t.Fatalf("forwarded %+v, want SIGTERM (mapped from SIGUSR2) to pid %d", fw, kids[0].Pid)
	}
	if st := statusOf(t, r, kids[0]); st.Signal != syscall.SIGTERM {
		t.Fatalf("the target ended with %v, want killed by SIGTERM", st)
	}
	// Reaped, still the target: its pid is free for any other process.
	f.Forward(syscall.SIGUSR1)
	if fw := nextForwarded(t, got); fw.Pid != 0 || fw.Err != nil {
		t.Errorf("after the target was reaped: %+v, want nothing sent", fw)
	}
}

// A target whose pid now belongs to another registered child (a pid
// reused by an ssh shell) is not signalled. The negative control signals
// the other child as the target, and it dies of that signal, not of the
// first one.
func TestForwardPidReused(t *testing.T) {
	r := NewReaper()
	after, got := recordForwarded()
	f := NewForwarder(r, nil, after)
	other := startLeader(t, r, "sleep", "60")
	old := &Child{Pid: other.Pid, done: make(chan Status, 1)} // the run that had the pid before
	f.SetTarget(old)
	f.Forward(syscall.SIGUSR1)
	if fw := nextForwarded(t, got); fw.Pid != 0 {
		t.Fatalf("forwarded %+v to a reused pid", fw)
	}
	f.SetTarget(other)
	f.Forward(syscall.SIGUSR2)
	if fw := nextForwarded(t, got); fw.Pid != other.Pid {
		t.Fatalf("forwarded %+v, want pid %d", fw, other.Pid)
	}
	if st := statusOf(t, r, other); st.Signal != syscall.SIGUSR2 {
		t.Fatalf("the other child ended with %v, want killed by SIGUSR2 (SIGUSR1 was sent to it)", st)
	}
}

// A signal that arrives while a run is being started, after its process
// exists but before the start has returned, reaches that process: the app
// may print "ready" before the supervisor has recorded it (a CI run lost
// such a SIGUSR1). The signal is sent from inside the start; with the
// target set only after it returns, it was reported as not sent.
func TestForwardDuringSpawn(t *testing.T) {
	r := NewReaper()
	after, got := recordForwarded()
	f := NewForwarder(r, nil, after)
	var forwarded chan struct{}
	c, err := f.Spawn(func() (*Child, error) {
		c := startLeader(t, r, "sleep", "60")
		forwarded = make(chan struct{})
		go func() { f.Forward(syscall.SIGUSR1); close(forwarded) }()
		// Give the signal time to arrive inside the start; it must wait
		// for the start to end either way.
		select {
		case <-forwarded:
		case <-time.After(100 * time.Millisecond):
		}
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fw := nextForwarded(t, got); fw.Pid != c.Pid || fw.Err != nil {
		t.Fatalf("a signal during the start: %+v, want SIGUSR1 sent to pid %d", fw, c.Pid)
	}
	<-forwarded
	if st := statusOf(t, r, c); st.Signal != syscall.SIGUSR1 {
		t.Fatalf("the new run ended with %v, want killed by SIGUSR1", st)
	}
}

// A failed start sets no target, even when its start function hands back a
// process with the error: the signal after it is not sent to that process.
func TestForwardSpawnFailed(t *testing.T) {
	r := NewReaper()
	after, got := recordForwarded()
	f := NewForwarder(r, nil, after)
	var half *Child
	if _, err := f.Spawn(func() (*Child, error) {
		half = startLeader(t, r, "sleep", "60")
		return half, fmt.Errorf("exec failed")
	}); err == nil {
		t.Fatal("the start's error was lost")
	}
	t.Cleanup(func() { _ = syscall.Kill(half.Pid, syscall.SIGKILL); statusOf(t, r, half) })
	f.Forward(syscall.SIGUSR1)
	if fw := nextForwarded(t, got); fw.Pid != 0 {
		t.Errorf("after a failed start: %+v, want nothing sent", fw)
	}
}

// leaderChild, when set, makes TestMain run the WaitOnLeader scenario on
// the main goroutine, which init locked to the thread-group leader: the
// test binary re-executed by TestWaitOnLeader.
const leaderChild = "HOLDFAST_LAUNCHER_LEADER_CHILD"

func init() {
	if os.Getenv(leaderChild) != "" {
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(leaderChild) != "" {
		os.Exit(leaderScenario())
	}
	os.Exit(m.Run())
}

// TestWaitOnLeader: with nothing but WaitOnLeader taking SIGUSR1 (no
// os/signal, which would drop it: Go ignores a SIGUSR1 nobody asked for),
// SIGUSR1 sent to the process reaches the target's group, and StopWaiting
// ends the wait.
func TestWaitOnLeader(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), leaderChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "leader: ok") {
		t.Fatalf("the leader scenario failed: %v\n%s", err, out)
	}
}

func leaderScenario() int {
	r := NewReaper()
	f := NewForwarder(r, nil, nil)
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c, err := r.Start(cmd, nil)
	if err != nil {
		fmt.Printf("leader: %v\n", err)
		return 1
	}
	f.SetTarget(c)
	result := make(chan error, 1)
	go func() {
		result <- killTargetThroughLeader(r, c)
		f.StopWaiting()
	}()
	if err := f.WaitOnLeader(); err != nil {
		fmt.Printf("leader: WaitOnLeader: %v\n", err)
		return 1
	}
	if err := <-result; err != nil {
		fmt.Printf("leader: %v\n", err)
		return 1
	}
	fmt.Println("leader: ok")
	return 0
}

// killTargetThroughLeader sends SIGUSR1 to the process until c has exited,
// and checks that it died of it. Until the leader waits, a SIGUSR1 lands on
// another thread and is dropped; so it sends until c is gone.
func killTargetThroughLeader(r *Reaper, c *Child) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, c.Pid, &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
		if err == nil && info.Signo != 0 {
			break
		}
		select {
		case <-tick.C:
			_ = unix.Kill(os.Getpid(), unix.SIGUSR1)
		case <-deadline:
			return fmt.Errorf("the target is still running 30s after the first SIGUSR1 to the process")
		}
	}
	r.Reap()
	if st := <-c.Done; st.Signal != syscall.SIGUSR1 {
		return fmt.Errorf("the target ended with %v, want killed by SIGUSR1", st)
	}
	return nil
}
