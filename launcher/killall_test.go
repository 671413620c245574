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
	// Nothing else reaps in this test: reap until all three have been seen.
	pending := append(kids, shChild)
	deadline := time.Now().Add(30 * time.Second)
	for len(pending) > 0 {
		r.Reap()
		left := pending[:0]
		for _, c := range pending {
			select {
			case st := <-c.Done:
				if st.Signal != syscall.SIGTERM {
					t.Errorf("child %d: %v, want killed by SIGTERM", c.Pid, st)
				}
			default:
				left = append(left, c)
			}
		}
		pending = left
		if len(pending) > 0 && time.Now().After(deadline) {
			t.Fatalf("%d children still alive 30s after SIGTERM", len(pending))
		}
		time.Sleep(10 * time.Millisecond)
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
