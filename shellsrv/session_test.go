package shellsrv

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/holdfast-dev/holdfast/internal/state"
)

func TestExitCodes(t *testing.T) {
	h := newHarness(t, nil)
	for _, code := range []int{0, 1, 42, 255} {
		if r := h.ssh("", "127.0.0.1", fmt.Sprintf("echo out; exit %d", code)); r.rc != code || r.stdout != "out\n" {
			t.Errorf("exit %d: %v", code, r)
		}
	}
	// A death by SIGSEGV: exit-signal, then exit-status 139. OpenSSH's
	// client ignores exit-signal (debug1 shows it) and exits with the
	// status; sshd sends exit-signal alone and ssh then exits 255.
	r := run(t, "", nil, "ssh", h.sshArgs(h.key, "-v", "127.0.0.1", "kill -SEGV $$")...)
	if r.rc != 139 {
		t.Errorf("kill -SEGV: want rc 139, got %v", r.rc)
	}
	if !strings.Contains(r.stderr, "rtype exit-signal") {
		t.Errorf("kill -SEGV: no exit-signal seen by the client:\n%s", r.stderr)
	}
	// Same through a pty.
	if r := h.ssh("", "-tt", "127.0.0.1", "kill -TERM $$"); r.rc != 143 {
		t.Errorf("kill -TERM with a pty: want rc 143, got %v", r)
	}
}

func TestPTYOutputIsByteExact(t *testing.T) {
	h := newHarness(t, nil)
	r := h.ssh("", "-tt", "127.0.0.1", `stty -onlcr; printf "a\nb\n"`)
	if r.rc != 0 || !strings.Contains(r.stdout, "a\nb\n") || strings.Contains(r.stdout, "a\r\nb") {
		t.Fatalf("stty -onlcr output rewritten: %v", r)
	}
	// Negative control: with onlcr (the default) the terminal itself
	// turns LF into CRLF, so the test can tell the two apart.
	r = h.ssh("", "-tt", "127.0.0.1", `printf "a\nb\n"`)
	if r.rc != 0 || !strings.Contains(r.stdout, "a\r\nb\r\n") {
		t.Fatalf("default onlcr: %v", r)
	}
}

// TestPTYResize drives the real client under a pty of its own: resizing that
// pty makes ssh send window-change, which must reach the remote terminal.
func TestPTYResize(t *testing.T) {
	h := newHarness(t, nil)
	cmd := exec.Command("ssh", h.sshArgs(h.key, "-tt", "127.0.0.1", `stty size; while read x; do stty size; done`)...)
	var ptmx *os.File
	child, err := testReaper.Start(cmd, func() error {
		var err error
		ptmx, err = pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer syscall.Kill(child.Pid, syscall.SIGKILL)

	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	seen := func(s string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return strings.Contains(out.String(), s)
		}
	}
	waitFor(t, 20*time.Second, "the initial size 24 80", seen("24 80"))
	if seen("40 100")() {
		t.Fatal("new size seen before the resize: the check cannot fail")
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	// ssh sends window-change when it handles SIGWINCH; each newline asks
	// the remote for the size again until the new one shows.
	waitFor(t, 20*time.Second, "the new size 40 100", func() bool {
		_, _ = ptmx.Write([]byte("\n"))
		time.Sleep(50 * time.Millisecond)
		return seen("40 100")()
	})
	_, _ = ptmx.Write([]byte{4}) // ^D ends the read loop, and the shell
	select {
	case st := <-child.Done:
		if st.ExitCode() != 0 {
			t.Fatalf("ssh exited %v", st)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ssh did not exit after ^D")
	}
}

func TestEnvironment(t *testing.T) {
	h := newHarness(t, nil)
	if os.Getenv("PATH") == testAppPath {
		t.Fatal("test process PATH equals the app's: the check cannot fail")
	}
	r := h.ssh("", "-o", "SetEnv=PATH=/evil LANG=C.UTF-8 LD_PRELOAD=/evil.so JAVA_HOME=/evil LC_TIME=C", "127.0.0.1",
		`printf '%s|' "$PATH" "$JAVA_HOME" "$LANG" "$LC_TIME" "${LD_PRELOAD-unset}" "$USER" "$LOGNAME" "$SHELL" "$HOME" "${SSH_TTY-unset}"; echo "$SSH_CONNECTION"; pwd`)
	if r.rc != 0 {
		t.Fatalf("ssh: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	f := strings.Split(lines[0], "|")
	want := []string{testAppPath, "/opt/holdfast-test/jdk", "C.UTF-8", "C", "unset", "root", "root", "/bin/bash", h.dir, "unset"}
	for i, w := range want {
		if f[i] != w {
			t.Errorf("variable %d: got %q, want %q (all: %q)", i, f[i], w, lines[0])
		}
	}
	if conn := strings.Fields(f[len(want)]); len(conn) != 4 || conn[0] != "127.0.0.1" || conn[3] != h.port {
		t.Errorf("SSH_CONNECTION %q", f[len(want)])
	}
	if len(lines) < 2 || lines[1] != h.dir {
		t.Errorf("working directory %v, want $HOME %s", lines[1:], h.dir)
	}
	// With a pty: TERM from the client, SSH_TTY set.
	env := append(os.Environ(), "TERM=xterm-holdfast-test")
	r = run(t, "", env, "ssh", h.sshArgs(h.key, "-tt", "127.0.0.1", `echo "$TERM $SSH_TTY"`)...)
	if got := strings.Fields(r.stdout); r.rc != 0 || len(got) != 2 || got[0] != "xterm-holdfast-test" || !strings.HasPrefix(got[1], "/dev/pts/") {
		t.Fatalf("pty env: %v", r)
	}
}

func TestStdinEOFAndLargeOutput(t *testing.T) {
	h := newHarness(t, nil)
	if r := h.ssh("hi\n", "127.0.0.1", "cat"); r.rc != 0 || r.stdout != "hi\n" {
		t.Fatalf("echo hi | ssh host cat: %v", r)
	}
	// A command that never reads stdin still ends although the client
	// keeps it open: the server never waits for stdin.
	if r := h.ssh(strings.Repeat("x", 1<<20), "127.0.0.1", "echo done"); r.rc != 0 || r.stdout != "done\n" {
		t.Fatalf("unread stdin: %v", r)
	}
	data := make([]byte, 8<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(h.dir, "big")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.ssh("", "127.0.0.1", fmt.Sprintf("head -c %d %s; exit 7", len(data), src))
	if r.rc != 7 {
		t.Fatalf("rc %d, stderr %s", r.rc, r.stderr)
	}
	if len(r.stdout) != len(data) || sha256.Sum256([]byte(r.stdout)) != sha256.Sum256(data) {
		t.Fatalf("got %d bytes with another digest, want %d bytes", len(r.stdout), len(data))
	}
}

// Every cipher the server offers carries megabytes both ways with
// OpenSSH's client: what it decrypts from the client and what it encrypts
// for it are checked by digest. chacha20-poly1305 is holdfast's patched
// x/crypto (third_party/xcrypto.patch): a wrong keystream fails OpenSSH's
// MAC check or the digest.
func TestCiphersCarryData(t *testing.T) {
	h := newHarness(t, nil)
	data := make([]byte, 3<<20+12345) // many packets, the last one short
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(h.dir, "data")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	for _, c := range algorithms.Ciphers {
		opt := "Ciphers=" + c
		if r := h.ssh(string(data), "-o", opt, "127.0.0.1", "sha256sum"); r.rc != 0 || !strings.HasPrefix(r.stdout, sum+" ") {
			t.Errorf("%s: client to server: got %q (rc %d, stderr %s), want digest %s", c, r.stdout, r.rc, r.stderr, sum)
		}
		r := h.ssh("", "-o", opt, "127.0.0.1", "cat "+src)
		if r.rc != 0 || len(r.stdout) != len(data) || r.stdout != string(data) {
			t.Errorf("%s: server to client: %d bytes, rc %d, stderr %s; want the %d bytes sent", c, len(r.stdout), r.rc, r.stderr, len(data))
		}
	}
}

func TestBanner(t *testing.T) {
	h := newHarness(t, nil)
	reason, evidence := state.ReasonStartupCrash, "/var/lib/holdfast/runs/3"
	since := time.Now().Add(-time.Minute)
	h.store.Publish(state.Snapshot{
		Phase: state.Held, HoldReason: &reason, HeldSince: &since, Run: 3, EvidenceDir: &evidence,
		LastExit: &state.Exit{Code: 137, Signal: "SIGKILL", Run: 3, RanForSeconds: 1.5, At: since},
	})
	// Interactive: the banner comes first (stderr without a pty).
	r := h.ssh("echo interactive-marker\n", "-T", "127.0.0.1")
	for _, want := range []string{"HELD (startup-crash)", "killed by SIGKILL (code 137)", evidence, "holdfast status", "holdfast logs", "holdfast restart", "holdfast release"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("banner lacks %q: %v", want, r)
		}
	}
	if r.stdout != "interactive-marker\n" {
		t.Errorf("interactive stdout %q", r.stdout)
	}
	// With a pty it is on the terminal, with CRLF line ends.
	r = h.ssh("exit\n", "-tt", "127.0.0.1")
	if !strings.Contains(r.stdout, "HELD (startup-crash)") || !strings.Contains(r.stdout, "\r\n  last exit:") {
		t.Errorf("pty banner: %v", r)
	}
	if r = h.ssh("", "-tt", "127.0.0.1", "true"); strings.Contains(r.stdout, "HELD") {
		t.Errorf("banner on an exec session with a pty: %v", r)
	}
	// Exec: stdout and stderr are the command's alone.
	if r := h.ssh("", "127.0.0.1", "echo only"); r.stdout != "only\n" || r.stderr != "" {
		t.Errorf("exec session got extra output: %v", r)
	}
}

func TestDisconnectKillsSession(t *testing.T) {
	h := newHarness(t, nil)
	for _, mode := range []string{"-T", "-tt"} {
		c := startCmd(t, "", nil, "ssh", h.sshArgs(h.key, mode, "127.0.0.1", `sleep 1000 & echo $!; wait`)...)
		pid, err := strconv.Atoi(strings.TrimSpace(c.readLine(t, 20*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		// Negative control: the sleep is alive while the client is.
		if !alive(pid) {
			t.Fatalf("%s: sleep %d not running while connected", mode, pid)
		}
		if err := syscall.Kill(c.child.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, fmt.Sprintf("%s: sleep %d to die after the disconnect", mode, pid), func() bool { return !alive(pid) })
	}
	waitFor(t, 10*time.Second, "no active sessions", func() bool { return h.store.Load().Counters.SSHActive == 0 })
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

func TestRestrictedKey(t *testing.T) {
	h := newHarness(t, nil)
	echo := echoServer(t)
	// Negative control first: the plain key may use -W and a pty.
	if r := h.ssh("ping\n", "-W", echo, "127.0.0.1"); r.rc != 0 || r.stdout != "ping\n" {
		t.Fatalf("-W with a plain key: %v", r)
	}
	if r := h.ssh("", "-tt", "127.0.0.1", "tty"); !strings.HasPrefix(r.stdout, "/dev/pts/") {
		t.Fatalf("pty with a plain key: %v", r)
	}
	pub, err := os.ReadFile(h.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(h.dir, "authorized_keys")
	if err := os.WriteFile(ak+".new", append([]byte("restrict "), pub...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ak+".new", ak); err != nil {
		t.Fatal(err)
	}
	// ssh -t treats a refused pty as fatal (clientloop.c, CONFIRM_TTY).
	r := run(t, "", nil, "ssh", logLevel(h.sshArgs(h.key, "-tt", "127.0.0.1", "tty"), "INFO")...)
	if r.rc != 255 || strings.Contains(r.stdout, "/dev/pts/") || !strings.Contains(r.stderr, "PTY allocation request failed") {
		t.Errorf("pty with restrict: %v", r)
	}
	r = run(t, "ping\n", nil, "ssh", logLevel(h.sshArgs(h.key, "-W", echo, "127.0.0.1"), "INFO")...)
	if r.rc != 255 || r.stdout != "" || !strings.Contains(r.stderr, "administratively prohibited") {
		t.Errorf("-W with restrict: %v", r)
	}
}
