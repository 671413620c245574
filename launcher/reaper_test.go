package launcher

import (
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests of this package start real children and reap them with
// wait4(-1): none of them may run in parallel, and nothing else in the test
// binary may wait for a child.

// waitExited blocks until every pid has exited, without reaping any:
// waitid(2) with WNOWAIT leaves each a zombie for Reap to collect. So a test
// can make several exits pending before it calls Reap once.
func waitExited(t *testing.T, pids ...int) {
	t.Helper()
	done := make(chan error, len(pids))
	for _, pid := range pids {
		go func() {
			var info unix.Siginfo
			for {
				err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
				if err != unix.EINTR {
					done <- err
					return
				}
			}
		}()
	}
	timeout := time.After(30 * time.Second)
	for range pids {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("waitid: %v", err)
			}
		case <-timeout:
			t.Fatalf("children %v still running after 30s", pids)
		}
	}
}

// startAll starts each argv as a registered child.
func startAll(t *testing.T, r *Reaper, argvs ...[]string) []*Child {
	t.Helper()
	var kids []*Child
	for _, argv := range argvs {
		c, err := r.Start(exec.Command(argv[0], argv[1:]...), nil)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, c)
	}
	return kids
}

func pidsOf(kids []*Child) []int {
	var pids []int
	for _, c := range kids {
		pids = append(pids, c.Pid)
	}
	return pids
}

// TestReapCollectsAllPending: one Reap collects every child that has exited
// by then, since one SIGCHLD may stand for many exits (signals coalesce). A
// Reap that collects one child per call leaves the rest zombies until some
// later SIGCHLD, which may never come.
func TestReapCollectsAllPending(t *testing.T) {
	r := NewReaper()
	const n = 20
	var argvs [][]string
	for i := range n {
		argvs = append(argvs, []string{"sh", "-c", "exit " + strconv.Itoa(i)})
	}
	kids := startAll(t, r, argvs...)
	waitExited(t, pidsOf(kids)...)
	reaped := r.ReapedAny()

	r.Reap() // once

	for i, c := range kids {
		select {
		case st := <-c.Done:
			if st.Pid != c.Pid || !st.Exited || st.Code != i {
				t.Errorf("child %d: %+v, want pid %d exit code %d", i, st, c.Pid, i)
			}
		default:
			t.Errorf("child %d (pid %d) exited before Reap, but one Reap did not collect it", i, c.Pid)
		}
	}
	select {
	case <-reaped:
	default:
		t.Errorf("ReapedAny's channel is still open after Reap reaped %d children", n)
	}
	if len(r.pids) != 0 {
		t.Errorf("%d pids still registered after all exited and were reaped", len(r.pids))
	}
}

// TestReapRoutesOrphans: a child nobody registered (an orphan reparented to
// holdfast, here one started around the registry) goes to OnOrphan and is
// not delivered to a registered child; the registered one still running is
// left alone.
func TestReapRoutesOrphans(t *testing.T) {
	r := NewReaper()
	var orphans []Status
	r.OnOrphan = func(st Status) { orphans = append(orphans, st) }
	running := startAll(t, r, []string{"sleep", "60"})[0]
	t.Cleanup(func() {
		_ = syscall.Kill(running.Pid, syscall.SIGKILL)
		waitExited(t, running.Pid)
		r.Reap()
	})
	stray := exec.Command("sh", "-c", "exit 7")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	waitExited(t, stray.Process.Pid)

	r.Reap()

	if len(orphans) != 1 || orphans[0].Pid != stray.Process.Pid || orphans[0].Code != 7 {
		t.Errorf("OnOrphan got %+v, want one status: pid %d, exit code 7", orphans, stray.Process.Pid)
	}
	select {
	case st := <-running.Done:
		t.Errorf("the running child got a status: %+v", st)
	default:
	}
	if _, ok := r.pids[running.Pid]; !ok {
		t.Errorf("the running child is no longer registered")
	}
}

// TestReapNothingToReap: with no child exited (or none at all) Reap returns
// at once and closes no ReapedAny channel.
func TestReapNothingToReap(t *testing.T) {
	r := NewReaper()
	reaped := r.ReapedAny()
	done := make(chan struct{})
	go func() {
		r.Reap()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Reap blocked with no child to reap")
	}
	select {
	case <-reaped:
		t.Error("ReapedAny's channel closed though nothing was reaped")
	default:
	}
}
