package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// variant is one way of being PID 1: an init wrapping the app, or the app
// itself ("bare").
type variant struct {
	name string
	// argv is the command line of PID 1 for app; stateDir is used by
	// holdfast only (a fresh, not yet existing path per session).
	argv func(app []string, stateDir string) []string
	// stateRoot is where this variant's state dirs go; "" when it keeps none.
	stateRoot string
}

func (v variant) isHoldfast() bool { return v.stateRoot != "" }

var stateSeq atomic.Int64

// newStateDir returns a path that does not exist yet under the variant's
// state root, so holdfast pays for creating it as it would in a new
// container.
func (v variant) newStateDir() string {
	if v.stateRoot == "" {
		return ""
	}
	return filepath.Join(v.stateRoot, "s"+strconv.FormatInt(stateSeq.Add(1), 10))
}

func bare() variant {
	return variant{name: "bare", argv: func(app []string, _ string) []string { return app }}
}

// peer is a C init from Debian that takes "-- CMD".
func peer(name, path string) variant {
	return variant{name: name, argv: func(app []string, _ string) []string {
		return append([]string{path, "--"}, app...)
	}}
}

// holdfastAs runs holdfast as a plain init (tini behaviour): no hold, no
// restarts, no probe listener, no ssh. extra flags come before "--".
func holdfastAs(name, bin, stateRoot string, extra ...string) variant {
	return variant{name: name, stateRoot: stateRoot, argv: func(app []string, dir string) []string {
		a := []string{bin, "--hold=false", "--max-restarts=0", "--probe-addr=", "--ssh-addr=", "--state-dir=" + dir, "--"}
		return append(withFlags(a, extra), app...)
	}}
}

// cleanEnv is the environment of every PID 1: the same for all, and without
// HOLDFAST_* twins that would change holdfast's flags.
func cleanEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C"}
}

// nsCommand runs argv as PID 1 of a new pid namespace with its own /proc.
// --kill-child: if the benchmark dies, the namespace dies with it.
func nsCommand(argv []string) *exec.Cmd {
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc", "--kill-child"}, argv...)...)
	cmd.Env = cleanEnv()
	return cmd
}

// session is one running namespace.
type session struct {
	v        variant
	cmd      *exec.Cmd
	pid1     int    // host pid of the namespace's PID 1 (the init, or the bare app)
	pidfd    int    // pidfd of pid1: kill never hits a reused pid; -1 if none
	stateDir string // holdfast's, else ""
	stdout   *bufio.Reader
	errPath  string // PID 1's stderr, for diagnosis
	done     chan error
}

// startSession starts v with app in a new namespace. With wantStdout the
// session's stdout is a pipe readable through s.stdout; otherwise it is
// /dev/null. stderr goes to a file in work.
func startSession(v variant, app []string, work string, wantStdout bool, extraArgs ...string) (*session, error) {
	s := &session{v: v, stateDir: v.newStateDir(), pidfd: -1, done: make(chan error, 1)}
	argv := v.argv(app, s.stateDir)
	if len(extraArgs) > 0 && v.isHoldfast() {
		argv = withFlags(argv, extraArgs)
	}
	s.cmd = nsCommand(argv)
	s.errPath = filepath.Join(work, fmt.Sprintf("stderr-%s-%d.log", sanitize(v.name), stateSeq.Add(1)))
	errf, err := os.Create(s.errPath)
	if err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", s.errPath, err)
	}
	defer errf.Close()
	s.cmd.Stderr = errf
	var pw *os.File
	if wantStdout {
		pr, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("cannot create pipe: %w", err)
		}
		pw = w
		s.cmd.Stdout = w
		s.stdout = bufio.NewReader(pr)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", v.name, err)
	}
	if pw != nil {
		pw.Close()
	}
	go func() { s.done <- s.cmd.Wait() }()
	pid, err := childOf(s.cmd.Process.Pid, 5*time.Second)
	if err != nil {
		s.kill()
		return nil, err
	}
	s.pid1 = pid
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		s.kill()
		return nil, fmt.Errorf("cannot open a pidfd for %s's PID 1 %d: %w", v.name, pid, errno)
	}
	s.pidfd = int(fd)
	return s, nil
}

// pidfd_open(2) and pidfd_send_signal(2), the same numbers on every
// architecture since Linux 5.1/5.3.
const (
	sysPidfdSendSignal = 424
	sysPidfdOpen       = 434
)

// childOf waits for unshare's forked child, which becomes PID 1.
func childOf(pid int, timeout time.Duration) (int, error) {
	path := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("cannot read %s: %w", path, err)
		}
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			return strconv.Atoi(fs[0])
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("cannot find the child of unshare %d within %s", pid, timeout)
}

// waitLine reads stdout until a line equal to want, within timeout.
func (s *session) waitLine(want string, timeout time.Duration) error {
	got := make(chan error, 1)
	go func() {
		for {
			line, err := s.stdout.ReadString('\n')
			if strings.TrimSpace(line) == want {
				got <- nil
				return
			}
			if err != nil {
				got <- fmt.Errorf("stdout ended before %q: %w", want, err)
				return
			}
		}
	}()
	select {
	case err := <-got:
		if err != nil {
			return fmt.Errorf("%s: %w%s", s.v.name, err, s.stderrTail())
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s: no %q within %s%s", s.v.name, want, timeout, s.stderrTail())
	}
}

// wait waits for the namespace to end by itself.
func (s *session) wait(timeout time.Duration) error {
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %s", s.v.name, timeout)
	}
}

// kill ends the namespace (SIGKILL to its PID 1 kills every process in it)
// and removes the state dir.
func (s *session) kill() {
	// Through the pidfd: once the namespace has ended, pid1 may already
	// name someone else's process.
	if s.pidfd >= 0 {
		_, _, _ = syscall.Syscall6(sysPidfdSendSignal, uintptr(s.pidfd), uintptr(syscall.SIGKILL), 0, 0, 0, 0)
		syscall.Close(s.pidfd)
		s.pidfd = -1
	} else if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(10 * time.Second):
	}
	if s.stateDir != "" {
		_ = os.RemoveAll(s.stateDir)
	}
}

func (s *session) stderrTail() string {
	b, _ := os.ReadFile(s.errPath)
	if len(b) == 0 {
		return ""
	}
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return "; stderr: " + strings.TrimSpace(string(b))
}

// withFlags sets holdfast flags ("--name=value") in argv, before its first
// "--": a flag already there is replaced, a new one is added.
func withFlags(argv, flags []string) []string {
	end := indexOf(argv, "--")
	out := append([]string{}, argv[:end]...)
	for _, fl := range flags {
		name, _, _ := strings.Cut(fl, "=")
		replaced := false
		for i, a := range out {
			if n, _, _ := strings.Cut(a, "="); n == name {
				out[i], replaced = fl, true
			}
		}
		if !replaced {
			out = append(out, fl)
		}
	}
	return append(out, argv[end:]...)
}

func indexOf(a []string, s string) int {
	for i, v := range a {
		if v == s {
			return i
		}
	}
	return len(a)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}

// exitCode is the exit status of a finished command, -1 if it was killed.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// drain discards r to the end; for a reader nobody else wants.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, r) }

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// probeTwice GETs /livez and /readyz on addr twice each, as a kubelet's
// probes would, and wants 200 from each.
func probeTwice(addr string) error {
	c := &http.Client{Timeout: 10 * time.Second}
	for range 2 {
		for _, path := range []string{"/livez", "/readyz"} {
			resp, err := c.Get("http://" + addr + path)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", path, resp.Status)
			}
		}
	}
	return nil
}
