package e2e

// The app's user controls its app: with --user, `holdfast status`,
// `holdfast restart` and the rest work for that uid (from an ssh session,
// which runs as it, or `kubectl exec` as it), and for nobody else but root.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// acStranger is a uid that is neither root nor the app's.
const acStranger = 12345

// TestCLIAppUserControl: holdfast as PID 1 with --user 65534:65534 holds a
// crashed app; uid 65534 sees the status and restarts it; uid 12345 is
// refused, in the app's group (the server's 403) or not (the socket's
// mode), with a message naming who may; root still may.
func TestCLIAppUserControl(t *testing.T) {
	t.Parallel()
	bin, _ := csShared(t)
	stateDir := filepath.Join(csOpenDir(t), "state")
	h := start(t, spec{pid1: true, stateDir: stateDir, args: []string{"--hold=true", "--max-restarts=0",
		fmt.Sprintf("--user=%d:%d", csNobody, csNobody), "--", "sh", "-c", "echo boom-out; exit 3"}})
	h.waitOutput(t, "APP HELD", hfrun.WaitLong)
	if h.exited() {
		t.Fatalf("holdfast exited instead of holding:\n%s", h.output())
	}
	app := &syscall.Credential{Uid: csNobody, Gid: csNobody}
	cli := func(cred *syscall.Credential, argv ...string) csRes {
		return csCLI(t, bin, nil, "/", cred, append(argv, "--state-dir", stateDir)...)
	}

	if r := cli(app, "status"); r.code != 0 || !strings.Contains(r.out, "HELD") {
		t.Errorf("status as the app's uid %d: want exit 0 and HELD:\n%v", csNobody, r)
	}
	if r := cli(app, "logs"); r.code != 0 || r.out != "boom-out\n" {
		t.Errorf("logs as the app's uid:\n%v", r)
	}
	if r := cli(app, "restart"); r.code != 0 || !strings.Contains(r.out, "restarting the app") {
		t.Errorf("restart as the app's uid:\n%v", r)
	} else {
		hfrun.WaitFor(t, hfrun.WaitLong, "run 2 after the app's user's restart", func() bool {
			return slices.Contains(csRuns(t, stateDir), "2")
		}, func() string { return h.output() })
	}

	for _, c := range []struct {
		name string
		cred *syscall.Credential
		want string
	}{
		// In the app's group: it may connect; the server refuses it.
		{"in the app's group", &syscall.Credential{Uid: acStranger, Gid: csNobody},
			"uid 12345 may not use holdfast's control socket: only root and the app's uid 65534 may"},
		// Outside it: the socket's mode keeps it out; the client says who may.
		{"outside the app's group", &syscall.Credential{Uid: acStranger, Gid: acStranger},
			"only root and the app's user (the socket's group is gid 65534) may use holdfast's control socket; you are uid 12345"},
	} {
		for _, argv := range [][]string{{"status"}, {"restart"}, {"release"}} {
			r := cli(c.cred, argv...)
			if r.code != 1 || !strings.Contains(r.err, c.want) || strings.Contains(r.out, "HELD") || strings.Contains(r.out, "restarting") {
				t.Errorf("%v as uid %d %s: want exit 1 and %q:\n%v", argv, acStranger, c.name, c.want, r)
			}
		}
	}
	if h.exited() {
		t.Fatalf("holdfast exited: a refused release reached it\n%s", h.output())
	}

	// Root still may.
	if r := cli(nil, "status"); r.code != 0 || !strings.Contains(r.out, "HELD") {
		t.Errorf("status as root:\n%v", r)
	}
	fi, err := os.Lstat(filepath.Join(stateDir, "holdfast.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != csNobody || fi.Mode().Perm() != 0o660 {
		t.Errorf("control socket: uid %d gid %d mode %v; want root's, group %d, 0660", st.Uid, st.Gid, fi.Mode().Perm(), csNobody)
	}
}

// Negative control: without --user the socket stays root's 0600 and uid
// 65534 is told it may not connect.
func TestCLIAppUserControlNeedsUser(t *testing.T) {
	t.Parallel()
	bin, _ := csShared(t)
	stateDir := filepath.Join(csOpenDir(t), "state")
	h := start(t, spec{pid1: true, stateDir: stateDir, args: []string{"--hold=true", "--max-restarts=0",
		"--", "sh", "-c", "echo boom-out; exit 3"}})
	h.waitOutput(t, "APP HELD", hfrun.WaitLong)
	r := csCLI(t, bin, nil, "/", &syscall.Credential{Uid: csNobody, Gid: csNobody}, "status", "--state-dir", stateDir)
	if r.code != 1 || !strings.Contains(r.err, "permission denied") || !strings.Contains(r.err, "only root may") {
		t.Errorf("uid 65534 without --user: want exit 1, permission denied, only root:\n%v", r)
	}
	fi, err := os.Lstat(filepath.Join(stateDir, "holdfast.sock"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket without --user: %v %v, want 0600", fi, err)
	}
}

// TestSSHAppUserRunsStatus: an ssh session runs as the app's user (with
// --user), and the hold banner tells it to run `holdfast status` and
// `holdfast restart`: both work from it.
func TestSSHAppUserRunsStatus(t *testing.T) {
	t.Parallel()
	s := startSSHUser(t)
	bin, _ := csShared(t)
	// t.TempDir's parents are 0700: let the app's user reach the state dir
	// (holdfast makes the state dir itself 0755), as it can in an image.
	for d := filepath.Dir(s.stateDir); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	r := s.run(t, "hfapp", fmt.Sprintf("id -u; %s status --state-dir %s", bin, s.stateDir))
	if r.rc != 0 || !strings.HasPrefix(r.stdout, fmt.Sprintf("%d\n", appUID)) || !strings.Contains(r.stdout, "HELD") {
		t.Errorf("holdfast status in an ssh session as the app's user: %v, want uid %d and HELD", r, appUID)
	}
	r = s.run(t, "hfapp", fmt.Sprintf("%s restart --state-dir %s", bin, s.stateDir))
	if r.rc != 0 || !strings.Contains(r.stdout, "restarting the app") {
		t.Errorf("holdfast restart in an ssh session as the app's user: %v", r)
	}
}
