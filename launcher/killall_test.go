package launcher

import (
	"bufio"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// As a subreaper holdfast signals its children and nothing else: here two
// children and a grandchild whose parent is still alive. The grandchild is
// the negative control: it must survive.
func TestSignalAllOthersChildrenOnly(t *testing.T) {
	r := NewReaper()
	var kids []*Child
	for range 2 {
		c, err := r.Start(exec.Command("sleep", "60"), nil)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, c)
	}
	// sh is a child too; the sleep it starts is not ours.
	sh := exec.Command("sh", "-c", `sleep 60 & echo $!; wait`)
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	shChild, err := r.Start(sh, nil)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	grandchild, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("grandchild pid %q: %v", line, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(grandchild, syscall.SIGKILL) })

	if n := r.SignalAllOthers(syscall.SIGTERM); n != 3 {
		t.Errorf("signalled %d processes, want the 3 children", n)
	}
	// Let all three die before reaping, then reap once: their exits are
	// pending together, as after coalesced SIGCHLDs, and one Reap must
	// collect them all.
	kids = append(kids, shChild)
	waitExited(t, pidsOf(kids)...)
	r.Reap()
	for _, c := range kids {
		select {
		case st := <-c.Done:
			if st.Signal != syscall.SIGTERM {
				t.Errorf("child %d: %v, want killed by SIGTERM", c.Pid, st)
			}
		default:
			t.Errorf("child %d died of the SIGTERM, but Reap did not collect it", c.Pid)
		}
	}
	if err := syscall.Kill(grandchild, 0); err != nil {
		t.Errorf("the grandchild %d (not a child) is gone: %v", grandchild, err)
	}
}

// A Reap in progress holds the lock; SignalAllOthers must wait for it, so
// that no child it listed is reaped (and its pid reused) before the kill.
func TestSignalAllOthersWaitsForReap(t *testing.T) {
	r := NewReaper()
	r.mu.Lock()
	done := make(chan struct{})
	go func() {
		r.SignalAllOthers(0)
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("SignalAllOthers ran while the reaper held its lock")
	case <-time.After(200 * time.Millisecond):
	}
	r.mu.Unlock()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("SignalAllOthers did not finish after the lock was released")
	}
}
