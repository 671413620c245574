package control

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/rundir"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// stranger is a uid that is neither root, holdfast's nor the app's.
const stranger = 12345

// lockedBackend records requests under a lock: the server's goroutines
// write them, the test reads them.
type lockedBackend struct {
	fakeBackend
	mu   sync.Mutex
	reqs []string
}

func (b *lockedBackend) Request(kind string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = append(b.reqs, kind)
	return nil
}

func (b *lockedBackend) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.reqs...)
}

// serveShared serves b on a socket shared with gid 65534 in a state dir
// like holdfast's (root's, 0755), allowing uid app unless it is negative.
func serveShared(t *testing.T, b Backend, app int) (stateDir string, l *Listener) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the socket to another group and run clients as other uids")
	}
	stateDir = filepath.Join(sharedDir(t), "state")
	if err := os.Mkdir(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := ListenShared(stateDir, nobody)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(b, slogDiscard())
	if app >= 0 {
		s.AllowUID(app)
	}
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return stateDir, l
}

// runClient runs helperClient as uid:gid against stateDir and returns what
// it printed.
func runClient(t *testing.T, uid, gid uint32, stateDir string) string {
	t.Helper()
	cmd := asUser(t, uid, gid, "client", stateDir)
	cmd.WaitDelay = 5 * time.Second
	out, err := runBounded(cmd)
	if err != nil {
		t.Fatalf("the client as uid %d: %v\n%s", uid, err, out)
	}
	return out
}

func runBounded(cmd *exec.Cmd) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env, c.SysProcAttr, c.WaitDelay = cmd.Env, cmd.SysProcAttr, cmd.WaitDelay
	out, err := c.CombinedOutput()
	return string(out), err
}

// The socket of a holdfast whose app runs as uid 65534 is root's, group
// 65534, mode 0660; the server answers the app's uid, through the real
// client and its checks, with every request.
func TestServerAnswersAppUID(t *testing.T) {
	b := &lockedBackend{fakeBackend: fakeBackend{snap: state.Snapshot{Phase: state.Held}}}
	stateDir, l := serveShared(t, b, nobody)
	fi, err := os.Lstat(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 0 || st.Gid != nobody || fi.Mode().Perm() != 0o660 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket %s: uid %d gid %d mode %v; want root's, group %d, 0660", l.Path, st.Uid, st.Gid, fi.Mode(), nobody)
	}
	out := runClient(t, nobody, nobody, stateDir)
	if !strings.Contains(out, "status ok held") || !strings.Contains(out, "restart ok") {
		t.Errorf("the app's uid through the real client:\n%s", out)
	}
	if got := b.requests(); len(got) != 1 || got[0] != "restart" {
		t.Errorf("requests that reached the backend: %v, want [restart]", got)
	}
	// Root still may.
	var snap state.Snapshot
	if err := NewClient(stateDir).Status(context.Background(), &snap); err != nil || snap.Phase != state.Held {
		t.Errorf("root's status = %+v, %v", snap, err)
	}
}

// Anyone else is refused: a member of the app's group who is not the app's
// user gets the server's 403 naming who may; a uid outside the group
// cannot connect, and is told who may.
func TestServerRefusesOthersWithAppUID(t *testing.T) {
	b := &lockedBackend{fakeBackend: fakeBackend{snap: state.Snapshot{Phase: state.Held}}}
	stateDir, _ := serveShared(t, b, nobody)
	out := runClient(t, stranger, nobody, stateDir)
	for _, what := range []string{"status", "restart"} {
		want := what + " error uid 12345 may not use holdfast's control socket: only root and the app's uid 65534 may"
		if !strings.Contains(out, want) {
			t.Errorf("uid %d in the app's group, %s: want %q in\n%s", stranger, what, want, out)
		}
	}
	if strings.Contains(out, "held") {
		t.Errorf("uid %d saw the status:\n%s", stranger, out)
	}
	out = runClient(t, stranger, stranger, stateDir)
	if !strings.Contains(out, "status error permission denied") || !strings.Contains(out, "the app's user (the socket's group is gid 65534)") {
		t.Errorf("uid %d outside the app's group: want permission denied naming who may:\n%s", stranger, out)
	}
	if got := b.requests(); len(got) != 0 {
		t.Errorf("requests of others reached the backend: %v", got)
	}
}

// Negative control: the same socket, but a server not told the app's uid,
// refuses it.
func TestServerRefusesAppUIDUnlessAllowed(t *testing.T) {
	b := &lockedBackend{fakeBackend: fakeBackend{snap: state.Snapshot{Phase: state.Held}}}
	stateDir, _ := serveShared(t, b, -1)
	out := runClient(t, nobody, nobody, stateDir)
	if !strings.Contains(out, "status error uid 65534 may not use holdfast's control socket: only root may") || !strings.Contains(out, "restart error") {
		t.Errorf("uid %d without AllowUID:\n%s", nobody, out)
	}
	if got := b.requests(); len(got) != 0 {
		t.Errorf("requests reached the backend: %v", got)
	}
}

// In the fallback directory the shared socket is reachable by name: the
// directory is 0711, which the client accepts, and the app's uid gets its
// answer there too.
func TestSharedSocketInFallbackDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	parent := sharedDir(t)
	os.WriteFile(filepath.Join(parent, "file"), nil, 0o600)
	stateDir := filepath.Join(parent, "file", "state") // cannot hold a socket
	t.Cleanup(func() {
		for _, d := range rundir.Fallbacks(stateDir) {
			os.RemoveAll(d)
		}
	})
	l, err := ListenShared(stateDir, nobody)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(&fakeBackend{snap: state.Snapshot{Phase: state.Held}}, slogDiscard())
	s.AllowUID(nobody)
	go s.Serve(l)
	defer s.Shutdown(context.Background())
	if fi, err := os.Lstat(filepath.Dir(l.Path)); err != nil || fi.Mode().Perm() != 0o711 {
		t.Fatalf("fallback directory %s: %v, %v; want 0711", filepath.Dir(l.Path), fi.Mode(), err)
	}
	if out := runClient(t, nobody, nobody, stateDir); !strings.Contains(out, "status ok held") {
		t.Errorf("the app's uid through the fallback directory:\n%s", out)
	}
}

func TestWhoMay(t *testing.T) {
	for _, c := range []struct {
		uid, app int
		want     string
	}{
		{0, -1, "root"},
		{0, 1000, "root and the app's uid 1000"},
		{10001, -1, "root and uid 10001"},
		{10001, 1000, "root, uid 10001 and the app's uid 1000"},
	} {
		s := &Server{uid: c.uid, app: -1}
		s.AllowUID(c.app)
		if got := s.whoMay(); got != c.want {
			t.Errorf("uid %d app %d: %q, want %q", c.uid, c.app, got, c.want)
		}
	}
	s := &Server{uid: 10001, app: -1}
	s.AllowUID(0)
	s.AllowUID(10001)
	if s.app != -1 {
		t.Errorf("AllowUID of root or holdfast's own uid set app %d", s.app)
	}
}
