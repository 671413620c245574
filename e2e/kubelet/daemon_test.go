package kubelet

// containerd and the kubelet run as children of the test, each entered into the test's
// network namespace by nsenter (which execs, so the child's pid is the daemon's), with
// its output in a log file under the root and Pdeathsig set, so a test binary killed by
// `go test -timeout` takes them down too (their shims and containers are swept by the
// next run's teardown).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

type daemon struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// startDaemon starts argv in the network namespace netns. The caller's goroutine must be
// locked to its OS thread: Pdeathsig fires when the thread that forked the child exits,
// not the process, and an unlocked goroutine's thread may be retired at any time.
func startDaemon(t testing.TB, name, netns, logPath string, argv ...string) *daemon {
	t.Helper()
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("cannot open %s: %v", logPath, err)
	}
	defer log.Close() // the child keeps its own copy
	full := append([]string{"nsenter", "--net=" + netns, "--"}, argv...)
	d := &daemon{name: name, logPath: logPath, done: make(chan struct{})}
	d.cmd = exec.Command(full[0], full[1:]...)
	// *os.File stdio: no copier goroutines, and the log survives the test's output.
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", name, err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends TERM, waits up to grace, then KILLs; it reports how the daemon ended.
func (d *daemon) stop(grace time.Duration) error {
	if d.exited() {
		return fmt.Errorf("%s had already exited: %v", d.name, d.err)
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(grace):
	}
	_ = d.cmd.Process.Kill()
	<-d.done
	return fmt.Errorf("%s ignored TERM for %v and was killed", d.name, grace)
}

// tail is the end of the daemon's log, for failure messages.
func (d *daemon) tail(lines int) string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", d.logPath, err)
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// waitFor polls cond every interval until it holds or d has passed; the last error from
// cond says why it did not.
func waitFor(d, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v: %w", d, err)
		}
		time.Sleep(interval)
	}
}

var errNotYet = errors.New("not yet")
