package e2e

// Attacks on the CLI and its control socket (docs/security/control.md):
// an unprivileged user planting its own control server, a second holdfast
// started on a live state dir (`holdfast --state-dir=X status` used to be
// one), empty environment twins that left listeners on, mistyped
// subcommands run as the app, and an unwritable state dir that cut off
// every subcommand.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// csNobody is the unprivileged attacker's uid and gid.
const csNobody = 65534

// csPubKey is an ed25519 public key: it switches ssh on; nobody logs in with it.
const csPubKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA46Bw5wStA4oDSpfhvU0iLw2bi0o9H/+UGYGg1Q/X+i e2e-cli"

// csForged is what the planted server says; holdfast never says it.
const csForged = "FORGED-BY-UID-65534"

// fakeForgedControl is the attacker (run as uid 65534): it serves a forged
// status and "succeeds" at every action on a socket it binds in /tmp, then
// renames it over the control socket at args[0]. It prints "planted", or
// "unplanted PATH" when it may not write there (the test then plays an app
// that could, as root).
func fakeForgedControl(args []string) int {
	tmp := filepath.Join(os.TempDir(), fmt.Sprintf("forged-%d.sock", os.Getpid()))
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return fakeFail("cannot listen: %v", err)
	}
	os.Chmod(tmp, 0o600)
	if err := os.Rename(tmp, args[0]); err != nil {
		fmt.Println("unplanted", tmp)
	} else {
		fmt.Println("planted")
	}
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			io.WriteString(w, `{"ok":true}`)
			return
		}
		io.WriteString(w, `{"phase":"running","ready":true,"run":99,"version":"`+csForged+`","command":["`+csForged+`"]}`)
	}))
	return 0
}

// csShared copies holdfast and this test binary into a directory every uid
// can enter, so uid 65534 can run them; returns the two paths.
func csShared(t *testing.T) (holdfast, self string) {
	t.Helper()
	dir := csOpenDir(t)
	for _, c := range [][2]string{{holdfastBin, "holdfast"}, {selfExe, "self"}} {
		if err := hfrun.CopyExecutable(c[0], filepath.Join(dir, c[1])); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "holdfast"), filepath.Join(dir, "self")
}

// csOpenDir is a fresh directory whose whole path other uids may enter.
func csOpenDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "holdfast-e2e-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// csRes is one finished CLI run.
type csRes struct {
	out, err string
	code     int
}

func (r csRes) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// csCLI runs a holdfast command line (no default flags) with the base
// environment plus env, in dir, as cred (nil: as the test), bounded.
func csCLI(t testing.TB, bin string, env []string, dir string, cred *syscall.Credential, argv ...string) csRes {
	t.Helper()
	cmd := exec.Command(bin, argv...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Dir = dir
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errb hfrun.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start %v: %v", argv, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(hfrun.WaitLong):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("holdfast %v did not return within %v\nstdout:\n%s\nstderr:\n%s", argv, hfrun.WaitLong, &out, &errb)
	}
	return csRes{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// csStartHeld starts holdfast (not PID 1) on stateDir with an app that
// crashes at once, and waits until the hold banner is out.
func csStartHeld(t *testing.T, stateDir string, env []string, extra ...string) *hf {
	t.Helper()
	args := append([]string{"--hold=true", "--max-restarts=0"}, extra...)
	args = append(args, "--", "sh", "-c", "echo boom-out; exit 3")
	h := start(t, spec{stateDir: stateDir, args: args, env: env})
	h.waitOutput(t, "APP HELD", hfrun.WaitLong)
	if h.exited() {
		t.Fatalf("holdfast exited instead of holding:\n%s", h.output())
	}
	return h
}

// csRuns lists the run directories in stateDir.
func csRuns(t *testing.T, stateDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// csCleanFallback removes the fallback directories holdfast may make for
// stateDir: /run or /tmp, holdfast-<16 hex of sha256(abs path)>.
func csCleanFallback(t *testing.T, stateDir string) {
	sum := sha256.Sum256([]byte(filepath.Clean(stateDir)))
	for _, base := range []string{"/run", "/tmp"} {
		d := filepath.Join(base, "holdfast-"+hex.EncodeToString(sum[:8]))
		t.Cleanup(func() { os.RemoveAll(d) })
	}
}

// Item 1: the app's user replaces the control socket with its own server.
// Root's `holdfast status` must refuse it rather than show what it says,
// and `holdfast release` must not report a success that never reached
// holdfast.
func TestCLIPlantedControlSocket(t *testing.T) {
	t.Parallel()
	_, self := csShared(t)
	stateDir := csOpenDir(t)
	// The shipped Dockerfile hands the app (--user) a state dir it can write.
	if err := os.Chmod(stateDir, 0o777); err != nil {
		t.Fatal(err)
	}
	h := csStartHeld(t, stateDir, nil)
	sock := filepath.Join(stateDir, "holdfast.sock")
	// Negative control: before the attack, status reaches the real holdfast.
	if r := csCLI(t, holdfastBin, nil, "", nil, "status", "--state-dir", stateDir); r.code != 0 || !strings.Contains(r.out, "HELD") {
		t.Fatalf("status before the attack:\n%v", r)
	}

	attacker := exec.Command(self)
	attacker.Args = []string{self, sock}
	attacker.Env = fakeEnvWith("forged-control")
	attacker.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: csNobody, Gid: csNobody}}
	stdout, err := attacker.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	attacker.Stderr = os.Stderr
	if err := attacker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { attacker.Process.Kill(); attacker.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the attacker said nothing: %v", err)
	}
	if path, ok := strings.CutPrefix(strings.TrimSpace(line), "unplanted "); ok {
		// holdfast keeps the app out of its state dir: play an app that got in.
		t.Logf("uid %d cannot write %s; planting its socket as root", csNobody, stateDir)
		if err := os.Rename(path, sock); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != csNobody {
		t.Fatalf("the planted socket is not in place: %v %v", fi, err)
	}

	for _, argv := range [][]string{{"status"}, {"status", "--json"}, {"runs"}, {"probe", "ready"}} {
		r := csCLI(t, holdfastBin, nil, "", nil, append(argv, "--state-dir", stateDir)...)
		if r.code == 0 || strings.Contains(r.out, csForged) || strings.Contains(r.out, "running") {
			t.Errorf("holdfast %v trusted the planted socket:\n%v", argv, r)
		} else if !strings.Contains(r.err, "refusing") || !strings.Contains(r.err, "uid 65534") {
			t.Errorf("holdfast %v: want a refusal naming uid 65534:\n%v", argv, r)
		}
	}
	r := csCLI(t, holdfastBin, nil, "", nil, "release", "--state-dir", stateDir)
	if r.code == 0 || strings.Contains(r.out, "released") {
		t.Errorf("holdfast release reported success through the planted socket:\n%v", r)
	}
	if h.exited() {
		t.Errorf("holdfast exited: something reached it")
	}
}

// Item 13: a user who may not connect is told so, not that no holdfast is
// running.
func TestCLIPermissionDenied(t *testing.T) {
	t.Parallel()
	bin, _ := csShared(t)
	stateDir := filepath.Join(csOpenDir(t), "state")
	csStartHeld(t, stateDir, nil)
	r := csCLI(t, bin, nil, "/", &syscall.Credential{Uid: csNobody, Gid: csNobody}, "status", "--state-dir", stateDir)
	if r.code != 1 || !strings.Contains(r.err, "permission denied") || !strings.Contains(r.err, "only root") ||
		!strings.Contains(r.err, "uid 65534") || strings.Contains(r.err, "no holdfast is running") {
		t.Errorf("uid 65534 against root's holdfast: want exit 1 saying permission denied and who may connect:\n%v", r)
	}
}

// Item 10 (and 13): global flags before the subcommand reach the live
// holdfast, the env twin loses to the flag, and nothing is written.
func TestCLIGlobalStateDirFlag(t *testing.T) {
	t.Parallel()
	stateDir, other := t.TempDir(), t.TempDir()
	csStartHeld(t, stateDir, nil)
	before := csRuns(t, stateDir)
	env := []string{"HOLDFAST_STATE_DIR=" + other}
	r := csCLI(t, holdfastBin, env, "", nil, "--state-dir="+stateDir, "status")
	if r.code != 0 || !strings.Contains(r.out, "HELD") {
		t.Errorf("HOLDFAST_STATE_DIR=other holdfast --state-dir=live status:\n%v", r)
	}
	r = csCLI(t, holdfastBin, env, "", nil, "--state-dir", stateDir, "status", "--json")
	var st map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.out), &st) != nil || st["phase"] != "held" {
		t.Errorf("holdfast --state-dir live status --json:\n%v", r)
	}
	if !strings.HasSuffix(r.out, "}\n") {
		t.Errorf("status --json does not end its line: %q", r.out)
	}
	if after := csRuns(t, stateDir); !slices.Equal(before, after) {
		t.Errorf("runs of the live state dir changed: %v -> %v", before, after)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("something was written into HOLDFAST_STATE_DIR's directory: %v", entries)
	}
}

// Item 10: a second entrypoint on a live state dir exits 2 naming the
// holder's pid; the live one's run 1 is untouched.
func TestCLISecondEntrypointLocked(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	live := csStartHeld(t, stateDir, nil)
	runJSON := filepath.Join(stateDir, "runs", "1", "run.json")
	var rec []byte
	hfrun.WaitFor(t, hfrun.WaitLong, "run 1's run.json", func() bool {
		rec, _ = os.ReadFile(runJSON)
		return json.Valid(rec)
	})
	second := start(t, spec{stateDir: stateDir, args: []string{"--keep-runs=1", "--", "sh", "-c", "echo second; exit 5"}})
	if code := second.waitExit(t, hfrun.WaitLong); code != 2 {
		t.Errorf("second holdfast on a live state dir exited %d, want 2", code)
	}
	if want := "pid " + strconv.Itoa(live.pid(t)); !strings.Contains(second.stderr.String(), want) {
		t.Errorf("second holdfast's message does not name the holder (%s):\n%s", want, second.output())
	}
	if strings.Contains(second.output(), "second") {
		t.Error("the second holdfast started its app")
	}
	if got := csRuns(t, stateDir); !slices.Equal(got, []string{"1"}) {
		t.Errorf("runs after the second holdfast: %v, want [1]", got)
	}
	if now, err := os.ReadFile(runJSON); err != nil || string(now) != string(rec) {
		t.Errorf("run 1's run.json changed (%v):\nbefore %s\nafter  %s", err, rec, now)
	}
	if r := csCLI(t, holdfastBin, nil, "", nil, "status", "--state-dir", stateDir); r.code != 0 || !strings.Contains(r.out, "HELD") {
		t.Errorf("the live holdfast after the attempt:\n%v", r)
	}
}

// csListeners counts the TCP sockets pid listens on, from /proc.
func csListeners(t *testing.T, pid int) int {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if in, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(in, "]")] = true
		}
	}
	n := 0
	for _, f := range []string{"tcp", "tcp6"} {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && fs[3] == "0A" && inodes[fs[9]] { // 0A: LISTEN
				n++
			}
		}
	}
	return n
}

// Item 11: HOLDFAST_SSH_ADDR= and HOLDFAST_PROBE_ADDR= (how Kubernetes
// users write it) turn the listeners off, as the empty flags do.
func TestCLIEmptyTwinsDisableListeners(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		env   []string
		wantN int
	}{
		{"empty", []string{"HOLDFAST_SSH_ADDR=", "HOLDFAST_PROBE_ADDR="}, 0},
		// Negative control: set, both listen.
		{"set", []string{"HOLDFAST_SSH_ADDR=127.0.0.1:0", "HOLDFAST_PROBE_ADDR=127.0.0.1:0"}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			stateDir := t.TempDir()
			env := fakeEnvWith("ready", append(c.env, "HOLDFAST_SSH_AUTHORIZED_KEYS="+csPubKey)...)
			h := start(t, spec{prog: []string{holdfastBin, "--state-dir=" + stateDir, "--hold=false", "--", selfExe}, env: env})
			h.waitOutput(t, "ready", hfrun.WaitLong)
			if n := csListeners(t, h.pid(t)); n != c.wantN {
				t.Errorf("%v: holdfast listens on %d TCP sockets, want %d\n%s", c.env, n, c.wantN, h.output())
			}
		})
	}
}

// Item 12: mistyped or unknown subcommands, and help, never start an app
// (which would write a run into the live state dir).
func TestCLIUnknownSubcommand(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	csStartHeld(t, stateDir, nil)
	for _, c := range []struct {
		argv []string
		code int
		want string
	}{
		{[]string{"stauts"}, 2, "did you mean status?"},
		{[]string{"relase"}, 2, "did you mean release?"},
		{[]string{"frobnicate"}, 2, "the subcommands are"},
		{[]string{"help"}, 0, "holdfast hold"},
	} {
		r := csCLI(t, holdfastBin, nil, "", nil, append([]string{"--state-dir=" + stateDir}, c.argv...)...)
		if r.code != c.code || !strings.Contains(r.out+r.err, c.want) {
			t.Errorf("holdfast %v: want exit %d and %q:\n%v", c.argv, c.code, c.want, r)
		}
	}
	if got := csRuns(t, stateDir); !slices.Equal(got, []string{"1"}) {
		t.Errorf("runs after the mistyped subcommands: %v, want [1]", got)
	}
	// And with no holdfast running: still no app, nothing written.
	empty := t.TempDir()
	r := csCLI(t, holdfastBin, nil, "", nil, "--state-dir="+empty, "stauts")
	if entries, _ := os.ReadDir(empty); r.code != 2 || len(entries) != 0 {
		t.Errorf("holdfast stauts without a holdfast: %v, state dir %v", r, entries)
	}
}

// Item 8: with a state dir holdfast cannot write, the socket goes to the
// fallback directory: `holdfast status` and `holdfast logs` work. The banner
// never advertises ssh that is not listening (the host key cannot be
// written there).
func TestCLIUnwritableStateDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(file, "state")
	csCleanFallback(t, stateDir)
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, []byte(csPubKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := csStartHeld(t, stateDir, nil, "--ssh-authorized-keys="+keys, "--ssh-addr=127.0.0.1:0")
	r := csCLI(t, holdfastBin, nil, "", nil, "status", "--state-dir", stateDir)
	if r.code != 0 || !strings.Contains(r.out, "HELD") {
		t.Errorf("holdfast status with an unwritable state dir:\n%v", r)
	}
	r = csCLI(t, holdfastBin, nil, "", nil, "--state-dir", stateDir, "logs")
	if r.code != 0 || r.out != "boom-out\n" {
		t.Errorf("holdfast logs with an unwritable state dir:\n%v", r)
	}
	banner := h.stderr.String()
	if i := strings.Index(banner, "APP HELD"); i >= 0 {
		banner = banner[i:]
	}
	listening := strings.Contains(h.stderr.String(), "ssh listening")
	if strings.Contains(banner, "ssh -p") != listening {
		t.Errorf("banner advertises ssh: %v, ssh listening: %v\n%s", !listening, listening, h.stderr)
	}
}

// Item 13, the small ones: a valid flag wins over a garbage twin (with a
// warning); a relative --state-dir is made absolute at start; a run with no
// record reads "unknown", not year 1.
func TestCLISmallOnes(t *testing.T) {
	t.Parallel()
	t.Run("flag-wins-over-bad-twin", func(t *testing.T) {
		t.Parallel()
		h := start(t, spec{args: []string{"--grace=2s", "--", "sh", "-c", "exit 0"}, env: []string{"HOLDFAST_GRACE=soon"}})
		if code := h.waitExit(t, hfrun.WaitLong); code != 0 || !strings.Contains(h.stderr.String(), "HOLDFAST_GRACE") {
			t.Errorf("--grace=2s with HOLDFAST_GRACE=soon: exit %d, want 0 and a warning naming the twin\n%s", code, h.output())
		}
	})
	t.Run("relative-state-dir", func(t *testing.T) {
		t.Parallel()
		cwd := t.TempDir()
		csStartHeldIn(t, cwd, "--state-dir=rel")
		r := csCLI(t, holdfastBin, nil, t.TempDir(), nil, "status", "--json", "--state-dir", filepath.Join(cwd, "rel"))
		var st map[string]any
		if r.code != 0 || json.Unmarshal([]byte(r.out), &st) != nil || st["state_dir"] != filepath.Join(cwd, "rel") {
			t.Errorf("state_dir of a holdfast started with --state-dir=rel in %s:\n%v", cwd, r)
		}
	})
	t.Run("run-without-record", func(t *testing.T) {
		t.Parallel()
		stateDir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(stateDir, "runs", "1"), 0o755); err != nil {
			t.Fatal(err)
		}
		csStartHeld(t, stateDir, nil)
		r := csCLI(t, holdfastBin, nil, "", nil, "runs", "--state-dir", stateDir)
		if r.code != 0 || strings.Contains(r.out, "0001-01-01") || !strings.Contains(r.out, "unknown") {
			t.Errorf("holdfast runs with a run that has no record:\n%v", r)
		}
	})
}

// csStartHeldIn is csStartHeld with a working directory.
func csStartHeldIn(t *testing.T, cwd string, extra ...string) *hf {
	t.Helper()
	args := append([]string{"--hold=true", "--max-restarts=0"}, extra...)
	h := start(t, spec{dir: cwd, args: append(args, "--", "sh", "-c", "exit 3")})
	h.waitOutput(t, "APP HELD", hfrun.WaitLong)
	return h
}
