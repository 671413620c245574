package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/rundir"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// nobody is the unprivileged uid the attacker runs as.
const nobody = 65534

// helperEnv makes the test binary an attacker's server or client instead of
// running tests (see TestMain).
const helperEnv = "HOLDFAST_CONTROL_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "serve":
		os.Exit(helperServe(os.Args[1]))
	case "get":
		os.Exit(helperGet(os.Args[1]))
	case "client":
		os.Exit(helperClient(os.Args[1]))
	}
	code := m.Run()
	if helperDirPath != "" {
		os.RemoveAll(helperDirPath)
	}
	os.Exit(code)
}

// helperServe serves a forged status on path until killed.
func helperServe(path string) int {
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	os.Chmod(path, 0o600)
	fmt.Println("listening")
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"phase":"running","ready":true}`)
	}))
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	<-c
	return 0
}

// helperGet asks the socket at path for the status, raw, and prints what
// came back.
func helperGet(path string) int {
	c := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return net.Dial("unix", path)
	}}}
	resp, err := c.Get("http://holdfast/v1/status")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, b)
	return 0
}

// helperClient asks the holdfast serving stateDir for its status and a
// restart through the real client, and prints each outcome on a line:
// "status ok <phase>", "restart ok", or "<what> error <message>".
func helperClient(stateDir string) int {
	ctx := context.Background()
	c := NewClient(stateDir)
	var snap state.Snapshot
	if err := c.Status(ctx, &snap); err != nil {
		fmt.Printf("status error %v\n", err)
	} else {
		fmt.Printf("status ok %s\n", snap.Phase)
	}
	if err := c.Action(ctx, "restart"); err != nil {
		fmt.Printf("restart error %v\n", err)
	} else {
		fmt.Println("restart ok")
	}
	return 0
}

// asNobody runs the test binary in helper mode as uid 65534. The binary is
// copied where that uid can run it.
func asNobody(t *testing.T, mode string, args ...string) *exec.Cmd {
	t.Helper()
	return asUser(t, nobody, nobody, mode, args...)
}

// asUser runs the test binary in helper mode as uid and gid.
func asUser(t *testing.T, uid, gid uint32, mode string, args ...string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as another uid")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := helperDir(t)
	bin := filepath.Join(dir, "helper")
	if _, err := os.Stat(bin); err != nil {
		b, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	return cmd
}

// helperDir is where the helper binary is copied for other uids: one
// directory for the whole test binary, removed at its end.
var helperDirPath string

func helperDir(t *testing.T) string {
	t.Helper()
	if helperDirPath == "" {
		dir, err := os.MkdirTemp("", "holdfast-control-helper-")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		helperDirPath = dir
	}
	return helperDirPath
}

// sharedDir is a directory every uid can enter and write: the attacker's
// playground, like an emptyDir or a state dir handed to the app.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "holdfast-control-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// plantServer starts a forged server as uid 65534 listening at path.
func plantServer(t *testing.T, path string) {
	t.Helper()
	cmd := asNobody(t, "serve", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, 64)
	n, _ := out.Read(line)
	if !strings.Contains(string(line[:n]), "listening") {
		t.Fatalf("the planted server did not start: %q", line[:n])
	}
}

// The app's user replaces the socket with its own server: the client must
// refuse it, not show what it says.
func TestClientRefusesPlantedSocket(t *testing.T) {
	dir := sharedDir(t)
	plantServer(t, filepath.Join(dir, SocketName))
	var snap map[string]any
	err := NewClient(dir).Status(context.Background(), &snap)
	if !errors.Is(err, rundir.ErrNotTrusted) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("status from a planted socket = %v, %v; want a refusal naming uid 65534", snap, err)
	}
	if err := NewClient(dir).Action(context.Background(), "release"); err == nil {
		t.Error("release through a planted socket succeeded")
	}
}

// A socket file owned by root but served by another uid (the name was
// swapped after the file was made, or the file was chowned): SO_PEERCRED
// tells.
func TestClientChecksPeerCredentials(t *testing.T) {
	dir := sharedDir(t)
	path := filepath.Join(dir, SocketName)
	plantServer(t, path)
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	err := NewClient(dir).Status(context.Background(), new(map[string]any))
	if !errors.Is(err, rundir.ErrNotTrusted) || !strings.Contains(err.Error(), "runs as uid 65534") {
		t.Fatalf("status from a root-owned socket served by uid 65534 = %v; want a refusal", err)
	}
}

func TestClientRefusesLooseModeAndLinks(t *testing.T) {
	b := &fakeBackend{snap: state.Snapshot{Phase: state.Running}}
	dir, c := serveFake(t, b)
	path := filepath.Join(dir, SocketName)
	// Negative control: the real one is trusted.
	if err := c.Status(context.Background(), new(map[string]any)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	if err := NewClient(dir).Status(context.Background(), new(map[string]any)); !errors.Is(err, rundir.ErrNotTrusted) {
		t.Errorf("world-writable socket: %v, want a refusal", err)
	}
	os.Chmod(path, 0o600)
	other := t.TempDir()
	if err := os.Symlink(path, filepath.Join(other, SocketName)); err != nil {
		t.Fatal(err)
	}
	if err := NewClient(other).Status(context.Background(), new(map[string]any)); !errors.Is(err, rundir.ErrNotTrusted) {
		t.Errorf("symlinked socket: %v, want a refusal", err)
	}
}

// A client of another uid: the socket's mode keeps it out with a message
// saying who may connect; with a loosened mode, the server itself refuses.
func TestServerRefusesOtherUIDs(t *testing.T) {
	b := &fakeBackend{snap: state.Snapshot{Phase: state.Held}}
	dir := sharedDir(t)
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(b, slogDiscard())
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	os.Chmod(l.Path, 0o666)
	out, err := asNobody(t, "get", l.Path).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "403 ") || !strings.Contains(string(out), "uid 65534 may not use") || strings.Contains(string(out), "held") {
		t.Errorf("uid 65534 through a 0666 socket got %q (%v); want 403 and no status", out, err)
	}
}

func TestPermissionDeniedSaysWhoMayConnect(t *testing.T) {
	err := accessError("/x/holdfast.sock", 0, -1, 1000)
	if !errors.Is(err, ErrPermission) || errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "only root may") || !strings.Contains(err.Error(), "uid 1000") {
		t.Errorf("EACCES message: %v", err)
	}
	if err := accessError("/x/holdfast.sock", 10001, -1, 1000); !strings.Contains(err.Error(), "root and uid 10001") {
		t.Errorf("EACCES message for a non-root holdfast: %v", err)
	}
	if err := accessError("/x/holdfast.sock", 0, 65534, 1000); !strings.Contains(err.Error(), "only root and the app's user (the socket's group is gid 65534) may") {
		t.Errorf("EACCES message for a socket shared with the app's group: %v", err)
	}
}

// The state dir cannot hold the socket: it goes to the fallback directory,
// where the client finds it.
func TestFallbackSocket(t *testing.T) {
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, "file"), nil, 0o600)
	stateDir := filepath.Join(parent, "file", "state")
	t.Cleanup(func() {
		for _, d := range rundir.Fallbacks(stateDir) {
			os.RemoveAll(d)
		}
	})
	l, err := Listen(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.Path, "/run/holdfast-") && !strings.HasPrefix(l.Path, "/tmp/holdfast-") || l.FallbackReason == "" {
		t.Errorf("socket at %s (reason %q), want the fallback", l.Path, l.FallbackReason)
	}
	s := NewServer(&fakeBackend{snap: state.Snapshot{Phase: state.Held}}, slogDiscard())
	go s.Serve(l)
	defer s.Shutdown(context.Background())
	var snap state.Snapshot
	if err := NewClient(stateDir).Status(context.Background(), &snap); err != nil || snap.Phase != state.Held {
		t.Errorf("status through the fallback = %+v, %v", snap, err)
	}
	// A path too long for a socket falls back too.
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	os.Mkdir(long, 0o700)
	t.Cleanup(func() {
		for _, d := range rundir.Fallbacks(long) {
			os.RemoveAll(d)
		}
	})
	ll, err := Listen(long)
	if err != nil || ll.FallbackReason == "" {
		t.Fatalf("long state dir: %v, %+v", err, ll)
	}
	ll.Close()
	if _, err := os.Stat(filepath.Dir(ll.Path)); !os.IsNotExist(err) {
		t.Errorf("the empty fallback directory %s was left behind: %v", filepath.Dir(ll.Path), err)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// In /tmp anyone can make the fallback directory first: a client refuses a
// directory planted by another uid, with the socket in it.
func TestClientRefusesPlantedFallbackDir(t *testing.T) {
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, "file"), nil, 0o600)
	stateDir := filepath.Join(parent, "file", "state") // cannot hold a socket
	fbs := rundir.Fallbacks(stateDir)
	t.Cleanup(func() {
		for _, d := range fbs {
			os.RemoveAll(d)
		}
	})
	planted := fbs[len(fbs)-1] // /tmp/holdfast-<key>
	if err := os.Mkdir(planted, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(planted, nobody, nobody); err != nil {
		t.Skipf("cannot chown: %v", err)
	}
	plantServer(t, filepath.Join(planted, SocketName))
	err := NewClient(stateDir).Status(context.Background(), new(map[string]any))
	if !errors.Is(err, rundir.ErrNotTrusted) || !strings.Contains(err.Error(), planted) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("status through a planted fallback directory = %v; want a refusal naming it and uid 65534", err)
	}
	// And the server does not use it either: it takes /run, or refuses.
	if l, err := Listen(stateDir); err == nil {
		defer l.Close()
		if strings.HasPrefix(l.Path, planted) {
			t.Errorf("the server listens in the planted directory %s", l.Path)
		}
	}
}
