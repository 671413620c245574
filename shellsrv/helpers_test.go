package shellsrv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
)

// testReaper is the one reaper of the test process, shared by the servers
// under test and the ssh clients the tests start: with RouteSignals reaping
// every child, a plain cmd.Wait would lose its status to it.
var testReaper *launcher.Reaper

func TestMain(m *testing.M) {
	// The sftp helper is this binary, re-executed (sftp.go).
	if code, ok := HelperMain(os.Args); ok {
		os.Exit(code)
	}
	if _, err := launcher.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot become subreaper:", err)
		os.Exit(1)
	}
	testReaper = launcher.NewReaper()
	sigs := launcher.RouteSignals(testReaper, nil)
	go func() {
		for sig := range sigs.Forward {
			if sig == syscall.SIGINT || sig == syscall.SIGTERM {
				os.Exit(2) // RouteSignals catches everything; keep ^C working
			}
		}
	}()
	for _, tool := range []string{"ssh", "scp", "sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "%s is required (scripts/deps.sh installs openssh-client)\n", tool)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// testAppPath is the app's PATH in tests: different from the test process's.
const testAppPath = "/opt/holdfast-test/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

type result struct {
	rc             int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("rc=%d stdout=%q stderr=%q", r.rc, r.stdout, r.stderr)
}

// run runs a command to completion through the test reaper.
func run(t *testing.T, stdin string, env []string, name string, args ...string) result {
	t.Helper()
	rc := startCmd(t, stdin, env, name, args...)
	st := rc.wait(t, 60*time.Second)
	out, _ := io.ReadAll(rc.lines)
	return result{rc: st.ExitCode(), stdout: string(out), stderr: rc.readStderr()}
}

type runningCmd struct {
	child  *launcher.Child
	stdout *os.File // read end of a pipe (pollable: deadlines work)
	stderr string   // file path
	lines  *bufio.Reader
}

// startCmd starts a command with *os.File stdio, so os/exec makes no
// goroutines and the reaper alone collects it.
func startCmd(t *testing.T, stdin string, env []string, name string, args ...string) *runningCmd {
	t.Helper()
	dir := t.TempDir()
	in, err := os.CreateTemp(dir, "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.WriteString(stdin); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	errPath := filepath.Join(dir, "stderr")
	errF, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, outW, errF
	if env != nil {
		cmd.Env = env
	}
	child, err := testReaper.Start(cmd, nil)
	closeAll(in, outW, errF)
	if err != nil {
		outR.Close()
		t.Fatalf("cannot start %s: %v", name, err)
	}
	rc := &runningCmd{child: child, stdout: outR, stderr: errPath, lines: bufio.NewReader(outR)}
	t.Cleanup(func() {
		_ = syscall.Kill(child.Pid, syscall.SIGKILL)
		outR.Close()
	})
	return rc
}

// wait waits for the exit while draining stdout, which stays readable
// through r.lines afterwards.
func (r *runningCmd) wait(t *testing.T, limit time.Duration) launcher.Status {
	t.Helper()
	// Drain stdout concurrently so a chatty command cannot block on the pipe.
	buf := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r.lines)
		buf <- b
	}()
	select {
	case st := <-r.child.Done:
		out := <-buf
		r.lines = bufio.NewReader(strings.NewReader(string(out)))
		r.stdout = nil
		return st
	case <-time.After(limit):
		_ = syscall.Kill(r.child.Pid, syscall.SIGKILL)
		t.Fatalf("command did not exit within %v; stderr: %s", limit, r.readStderr())
		return launcher.Status{}
	}
}

func (r *runningCmd) readStderr() string {
	b, _ := os.ReadFile(r.stderr)
	return string(b)
}

// readLine reads one stdout line, failing after limit.
func (r *runningCmd) readLine(t *testing.T, limit time.Duration) string {
	t.Helper()
	_ = r.stdout.SetReadDeadline(time.Now().Add(limit))
	line, err := r.lines.ReadString('\n')
	if err != nil {
		t.Fatalf("cannot read a line within %v: %v (got %q); stderr: %s", limit, err, line, r.readStderr())
	}
	return strings.TrimRight(line, "\n")
}

// harness is a server under test plus a client key it accepts.
type harness struct {
	t      *testing.T
	dir    string
	key    string // client private key
	fp     string // its SHA256 fingerprint
	srv    *Server
	port   string
	store  *state.Store
	audit  string
	appEnv []string
}

func newKey(t *testing.T, dir, name string) (priv, pubLine string) {
	t.Helper()
	priv = filepath.Join(dir, name)
	if r := run(t, "", nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", priv); r.rc != 0 {
		t.Fatalf("ssh-keygen: %v", r)
	}
	pub, err := os.ReadFile(priv + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return priv, strings.TrimSpace(string(pub))
}

func fingerprint(t *testing.T, pubPath string) string {
	t.Helper()
	r := run(t, "", nil, "ssh-keygen", "-l", "-E", "sha256", "-f", pubPath)
	f := strings.Fields(r.stdout)
	if r.rc != 0 || len(f) < 2 {
		t.Fatalf("ssh-keygen -l: %v", r)
	}
	return f[1]
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	logger := newTestLogger(t)
	h := &harness{t: t, dir: t.TempDir()}
	var pub string
	h.key, pub = newKey(t, h.dir, "client")
	h.fp = fingerprint(t, h.key+".pub")
	ak := filepath.Join(h.dir, "authorized_keys")
	if err := os.WriteFile(ak, []byte("# test keys\n\n"+pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.appEnv = []string{"PATH=" + testAppPath, "JAVA_HOME=/opt/holdfast-test/jdk", "LANG=en_US.UTF-8", "HOME=" + h.dir}
	h.store = state.NewStore(state.Snapshot{Phase: state.Running})
	h.audit = filepath.Join(h.dir, "audit.log")
	cfg := Config{
		AuthorizedKeysFile: ak,
		HostKeyPath:        filepath.Join(h.dir, "state", "ssh_host_ed25519_key"),
		MaxSessions:        30,
		MaxUnauthPerIP:     30,
		Reaper:             testReaper,
		Store:              h.store,
		AppEnv:             func() []string { return h.appEnv },
		AuditLog:           h.audit,
		Logger:             logger,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	h.port = serve(t, srv)
	return h
}

// serve runs srv on 127.0.0.1:0 until the test ends.
func serve(t *testing.T, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// sshArgs is the client command line up to (not including) the host.
func (h *harness) sshArgs(key string, extra ...string) []string {
	args := []string{
		"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
		"-i", key, "-p", h.port,
	}
	return append(args, extra...)
}

// logLevel replaces the LogLevel option in args.
func logLevel(args []string, level string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if strings.HasPrefix(a, "LogLevel=") {
			out[i] = "LogLevel=" + level
		}
	}
	return out
}

// ssh runs `ssh [opts] 127.0.0.1 command` with the harness key.
func (h *harness) ssh(stdin string, optsAndHost ...string) result {
	h.t.Helper()
	return run(h.t, stdin, nil, "ssh", h.sshArgs(h.key, optsAndHost...)...)
}

// testWriter sends server logs to t.Log, so they show only on failure,
// and drops them once the test is over (t.Log would panic).
type testWriter struct {
	t    *testing.T
	over *atomic.Bool
}

func newTestLogger(t *testing.T) *slog.Logger {
	w := testWriter{t: t, over: new(atomic.Bool)}
	t.Cleanup(func() { w.over.Store(true) }) // registered first, so it runs last
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (w testWriter) Write(p []byte) (int, error) {
	if !w.over.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// waitFor polls cond every 20 ms up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
