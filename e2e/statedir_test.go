package e2e

// The state dir as an attacker sees it: an app started with --user (uid 65534) that
// plants links where root writes, rewrites earlier runs' evidence, or fills the disk.
// Every attack test here fails on a holdfast that follows links or hands the app its
// run dirs, and passes when root writes only in dirs it owns, never through a link.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

const (
	sdAppUser = "65534:65534" // nobody:nogroup, the unprivileged app
	sdAppUID  = 65534
	// sdVictimText is a root-owned file's content that must survive.
	sdVictimText = "root's file: must not change\n"
)

// sdTemp is a fresh dir that every uid may traverse (t.TempDir's parents are 0700,
// so an app running as another uid could not reach anything in it).
func sdTemp(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "holdfast-sd-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// sdStateDir makes a state dir under base owned by uid with mode (chmod, past the umask).
func sdStateDir(t *testing.T, base string, uid, gid int, mode os.FileMode) string {
	t.Helper()
	d := filepath.Join(base, "state")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	return d
}

// sdVictim makes a root-owned 0644 file that no app may change.
func sdVictim(t *testing.T, base, name string) string {
	t.Helper()
	p := filepath.Join(base, name)
	if err := os.WriteFile(p, []byte(sdVictimText), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sdVictimIntact(t *testing.T, p string) {
	t.Helper()
	if b, err := os.ReadFile(p); err != nil || string(b) != sdVictimText {
		t.Errorf("root-owned %s was written through a link: %q (%v)", p, b, err)
	}
}

// sdExe is a copy of this test binary (the fake app) that uid 65534 may execute.
func sdExe(t *testing.T) string {
	t.Helper()
	dir := sdTemp(t)
	dst := filepath.Join(dir, "fakeapp")
	in, err := os.Open(selfExe)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// sdOwner is the uid and mode of path itself.
func sdOwner(t *testing.T, path string) (int, os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid), fi.Mode()
}

// fakePlantNext is the app of TestStateDirOutputLogLink: it prints a line, leaves a
// process outside its process group (holdfast stops the group before the next run)
// that plants the next run's output.log as a link to the victim, and crashes.
func fakePlantNext() int {
	runs := os.Getenv(fakeDir)
	high := 0
	entries, _ := os.ReadDir(runs)
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > high {
			high = n
		}
	}
	cmd := exec.Command(selfPath(), strconv.Itoa(high+1))
	cmd.Env = fakeEnvWith("plant-spin")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ready, err := cmd.StdoutPipe()
	if err != nil {
		return fakeFail("cannot make a pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		return fakeFail("cannot start the planter: %v", err)
	}
	// Crash only once it spins: the next run comes 10 ms later.
	_, _ = ready.Read(make([]byte, 1))
	fmt.Println("OUTPUT OF THE APP, meant for output.log")
	return 1
}

// fakePlantSpin tries, as fast as it can, to put a link to the victim at
// runs/<N>/output.log before holdfast opens it; it gives up when run N+1 exists.
func fakePlantSpin(args []string) int {
	n, _ := strconv.Atoi(args[0])
	runs, victim := os.Getenv(fakeDir), os.Getenv(fakeOut)
	link := filepath.Join(runs, strconv.Itoa(n), "output.log")
	next := filepath.Join(runs, strconv.Itoa(n+1))
	deadline := time.Now().Add(20 * time.Second)
	os.Stdout.Write([]byte("s"))
	os.Stdout.Close()
	for i := 0; ; i++ {
		if os.Symlink(victim, link) == nil {
			return 0
		}
		if i%4096 == 0 {
			if _, err := os.Lstat(next); err == nil || time.Now().After(deadline) {
				return 0
			}
		}
	}
}

// TestStateDirOutputLogLink: a process the app leaves behind races holdfast for the
// next run's output.log, planting a link to a root-owned file there (docs/security/statedir.md:
// an old holdfast chowned each run dir to the app before opening output.log, and so
// wrote the app's output into whatever the link named).
func TestStateDirOutputLogLink(t *testing.T) {
	t.Parallel()
	base := sdTemp(t)
	state := sdStateDir(t, base, 0, 0, 0o755)
	victim := sdVictim(t, base, "victim")
	const runs = 40
	z := start(t, spec{
		pid1: true, probe: true,
		stateDir: state,
		args: []string{"--hold=true", fmt.Sprintf("--max-restarts=%d", runs-1), "--backoff=10ms",
			"--backoff-max=10ms", "--keep-runs=50", "--user=" + sdAppUser},
		env: []string{fakeEnv + "=plant-next", fakeDir + "=" + filepath.Join(state, "runs"), fakeOut + "=" + victim},
		app: []string{sdExe(t)},
	})
	z.waitPhase(t, "held", runs)
	sdVictimIntact(t, victim)
	for n := 1; n <= runs; n++ {
		p := filepath.Join(hfrun.RunDir(state, n), "output.log")
		uid, mode := sdOwner(t, p)
		if !mode.IsRegular() || uid != 0 || mode.Perm() != 0o600 {
			t.Errorf("run %d: output.log is %v owned by %d, want a regular file of root's, mode 0600", n, mode, uid)
			continue
		}
		if b, _ := os.ReadFile(p); !strings.Contains(string(b), "OUTPUT OF THE APP") {
			t.Errorf("run %d: output.log = %q, want the app's output", n, b)
		}
		if uid, mode := sdOwner(t, hfrun.RunDir(state, n)); uid != 0 || mode.Perm() != 0o755 {
			t.Errorf("run %d: run dir owned by %d mode %v, want root's 0755", n, uid, mode)
		}
	}
}

// TestStateDirEarlierRunsEvidence: run 2 of an app started with --user deletes run 1's
// output.log and heap dump and replaces its run.json with a forged one. All must
// survive.
func TestStateDirEarlierRunsEvidence(t *testing.T) {
	t.Parallel()
	base := sdTemp(t)
	state := sdStateDir(t, base, 0, 0, 0o755)
	r1 := filepath.Join(state, "runs", "1")
	script := fmt.Sprintf(`echo "evidence of the crash"
d=${JAVA_TOOL_OPTIONS##*HeapDumpPath=}; d=${d%%%% *}
if [ ! -d %[1]s/runs/2 ]; then echo dump > "$d/java_pid1.hprof"; fi
if [ -d %[1]s/runs/2 ]; then
  rm -f %[2]s/java_pid1.hprof %[2]s/jvm/java_pid1.hprof; [ -e %[2]s/jvm/java_pid1.hprof ] || [ -e %[2]s/java_pid1.hprof ] || echo "deleted run 1's heap dump"
  rm -f %[2]s/output.log && echo "deleted run 1's output.log"
  echo '{"run":1,"reason":"forged"}' > %[2]s/forged && mv -f %[2]s/forged %[2]s/run.json && echo "forged run 1's run.json"
  echo forged >> %[2]s/output.log
fi
exit 1`, state, r1)
	z := start(t, spec{
		pid1: true, probe: true,
		stateDir: state,
		args:     []string{"--hold=true", "--max-restarts=1", "--backoff=10ms", "--jvm=on", "--user=" + sdAppUser},
		app:      []string{"/bin/sh", "-c", script},
	})
	z.waitPhase(t, "held", 2)
	if b, err := os.ReadFile(filepath.Join(r1, "jvm", "java_pid1.hprof")); err != nil || string(b) != "dump\n" {
		t.Errorf("run 1's heap dump in jvm/: %q (%v), want it kept", b, err)
	}
	out2 := hfrun.ReadFile(t, filepath.Join(hfrun.RunDir(state, 2), "output.log"))
	if b, err := os.ReadFile(filepath.Join(r1, "output.log")); err != nil || string(b) != "evidence of the crash\n" {
		t.Errorf("run 1's output.log = %q (%v), want the app's output; run 2 said:\n%s", b, err, out2)
	}
	if r := hfrun.ReadRun(t, state, 1); r.Reason != "startup-crash" || r.Code() != 1 {
		t.Errorf("run 1's run.json: %+v, want the real record (startup-crash, code 1); run 2 said:\n%s", r, out2)
	}
	// Negative control: the app really ran its attack (and was refused).
	if !strings.Contains(out2, "evidence of the crash") || strings.Contains(out2, "deleted run 1") || strings.Contains(out2, "forged run 1") {
		t.Errorf("run 2's output: %q", out2)
	}
}

// TestStateDirRunsLink: `runs` as a link to a dir with numbered dirs, planted by the
// app in a world-writable state dir (a Kubernetes emptyDir) or found there at start.
// With --keep-runs=2 an old holdfast pruned the numbered dirs it found through the
// link; nothing outside the state dir may be removed or created.
func TestStateDirRunsLink(t *testing.T) {
	t.Parallel()
	outsideWith := func(t *testing.T, base string) string {
		out := filepath.Join(base, "outside")
		for n := 1; n <= 5; n++ {
			if err := os.MkdirAll(filepath.Join(out, strconv.Itoa(n)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(out, strconv.Itoa(n), "keep"), []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	intact := func(t *testing.T, out string) {
		t.Helper()
		entries, _ := os.ReadDir(out)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != "1,2,3,4,5" {
			t.Errorf("outside dir holds %v, want 1..5 untouched", names)
		}
		for n := 1; n <= 5; n++ {
			if _, err := os.Stat(filepath.Join(out, strconv.Itoa(n), "keep")); err != nil {
				t.Errorf("outside/%d/keep: %v", n, err)
			}
		}
	}

	t.Run("planted-by-app", func(t *testing.T) {
		t.Parallel()
		base := sdTemp(t)
		state := sdStateDir(t, base, 0, 0, 0o777) // an emptyDir
		out := outsideWith(t, base)
		script := fmt.Sprintf(`if [ ! -d %[1]s/runs/2 ] && mv %[1]s/runs %[1]s/runs.old && ln -s %[2]s %[1]s/runs; then echo planted; fi
exit 1`, state, out)
		z := start(t, spec{
			pid1: true, probe: true,
			stateDir: state,
			args:     []string{"--hold=true", "--max-restarts=2", "--backoff=10ms", "--keep-runs=2", "--user=" + sdAppUser},
			app:      []string{"/bin/sh", "-c", script},
		})
		z.waitPhase(t, "held", 0)
		intact(t, out)
		if uid, mode := sdOwner(t, state); uid != 0 || mode.Perm() != 0o755 {
			t.Errorf("emptyDir state dir after start: uid %d mode %v, want root's 0755", uid, mode)
		}
		if fi, err := os.Lstat(filepath.Join(state, "runs")); err != nil || !fi.IsDir() {
			t.Errorf("runs is %v (%v), want holdfast's own dir", fi.Mode(), err)
		}
	})
	t.Run("found-at-start", func(t *testing.T) {
		t.Parallel()
		base := sdTemp(t)
		state := sdStateDir(t, base, 0, 0, 0o755)
		out := outsideWith(t, base)
		if err := os.Symlink(out, filepath.Join(state, "runs")); err != nil {
			t.Fatal(err)
		}
		z := start(t, spec{
			pid1: true, probe: true,
			stateDir: state,
			args:     []string{"--hold=true", "--max-restarts=2", "--backoff=10ms", "--keep-runs=2"},
			app:      []string{"/bin/sh", "-c", "exit 1"},
		})
		z.waitPhase(t, "held", 0)
		intact(t, out)
		if !strings.Contains(z.output(), "runs") {
			t.Errorf("holdfast did not say why runs is not used:\n%s", z.output())
		}
	})
}

// TestStateDirAuditAndHostKeyLinks: audit.log and ssh_host_ed25519_key.pub are links
// to root-owned files, left in the state dir (an emptyDir the app wrote into). An old
// holdfast appended audit lines to one and wrote the public key over the other.
func TestStateDirAuditAndHostKeyLinks(t *testing.T) {
	t.Parallel()
	base := sdTemp(t)
	state := sdStateDir(t, base, 0, 0, 0o777)
	auditVictim := sdVictim(t, base, "audit-victim")
	pubVictim := sdVictim(t, base, "pub-victim")
	for link, target := range map[string]string{"audit.log": auditVictim, "ssh_host_ed25519_key.pub": pubVictim} {
		if err := os.Symlink(target, filepath.Join(state, link)); err != nil {
			t.Fatal(err)
		}
	}
	key := sshKeygen(t, t.TempDir(), "client")
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(hfrun.Port(t))
	h := start(t, spec{pid1: true, stateDir: state,
		env: []string{fakeEnv + "=exit", "HOLDFAST_SSH_AUTHORIZED_KEYS=" + string(pub)},
		prog: []string{holdfastBin, "--probe-addr=", "--state-dir=" + state, "--hold=true", "--max-restarts=0",
			"--user=" + sdAppUser, "--ssh-addr=127.0.0.1:" + port, "--", sdExe(t), "3"}})
	h.waitOutput(t, "ssh listening", hfrun.WaitLong)
	h.waitPhase(t, "held", 0)
	cl := sshClient{port: port, key: key}
	r := cl.run(t, "echo hi")
	// Negative control: the login happened, so an audit event was due.
	if r.rc != 0 || r.stdout != "hi\n" {
		t.Errorf("ssh login: %v", r)
	}
	sdVictimIntact(t, auditVictim)
	sdVictimIntact(t, pubVictim)
	if !strings.Contains(h.output(), "audit") {
		t.Errorf("holdfast did not report the audit log it could not open:\n%s", h.output())
	}
}

// TestStateDirOwnership: who owns the state dir decides whether holdfast may start.
func TestStateDirOwnership(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, state string, user string) *hf {
		args := []string{"--hold=false"}
		if user != "" {
			args = append(args, "--user="+user)
		}
		args = append(args, "--", "/bin/sh", "-c", "echo app ran")
		return start(t, spec{pid1: true, stateDir: state, args: args})
	}
	// The attack: a state dir the app's uid owns. The app could replace anything root
	// writes there, and root cannot fix that without taking the dir away: refuse,
	// exit 2, naming the path. (An old holdfast ran the app.)
	t.Run("app-owned-refused", func(t *testing.T) {
		t.Parallel()
		state := sdStateDir(t, sdTemp(t), sdAppUID, sdAppUID, 0o755)
		h := run(t, state, sdAppUser)
		if code := h.waitExit(t, hfrun.WaitLong); code != 2 || !strings.Contains(h.stderr.String(), state) {
			t.Errorf("state dir owned by the app's uid, --user: exit %d, stderr %q; want 2 naming %s", code, h.stderr, state)
		}
		if strings.Contains(h.output(), "app ran") {
			t.Error("the app ran")
		}
	})
	// No boundary: the app runs as holdfast's uid, so it may write anyway.
	t.Run("same-uid-runs", func(t *testing.T) {
		t.Parallel()
		state := sdStateDir(t, sdTemp(t), sdAppUID, sdAppUID, 0o755)
		h := run(t, state, "")
		if code := h.waitExit(t, hfrun.WaitLong); code != 0 || !strings.Contains(h.output(), "app ran") {
			t.Errorf("without --user: exit %d, want 0 and the app's output:\n%s", code, h.output())
		}
	})
	// A Kubernetes emptyDir: root-owned, world-writable. holdfast (root) owns it and
	// takes the write bits away; the app still gets its jvm/ dir.
	t.Run("emptydir-fixed", func(t *testing.T) {
		t.Parallel()
		state := sdStateDir(t, sdTemp(t), 0, 0, 0o777)
		h := start(t, spec{pid1: true, stateDir: state, args: []string{"--hold=false", "--jvm=on", "--user=" + sdAppUser,
			"--", "/bin/sh", "-c", `echo app ran; d=${JAVA_TOOL_OPTIONS##*HeapDumpPath=}; d=${d%% *}; echo dump > "$d/java_pid1.hprof" && echo wrote dump`}})
		if code := h.waitExit(t, hfrun.WaitLong); code != 0 || !strings.Contains(h.output(), "wrote dump") {
			t.Errorf("emptyDir with --user: exit %d, want 0 and the app's dump written:\n%s", code, h.output())
		}
		for p, want := range map[string]os.FileMode{state: 0o755, filepath.Join(state, "runs"): 0o755,
			hfrun.RunDir(state, 1): 0o755, filepath.Join(hfrun.RunDir(state, 1), "run.json"): 0o600,
			filepath.Join(hfrun.RunDir(state, 1), "output.log"): 0o600} {
			if uid, mode := sdOwner(t, p); uid != 0 || mode.Perm() != want {
				t.Errorf("%s: uid %d mode %v, want root's %v", p, uid, mode.Perm(), want)
			}
		}
		// The app wrote its dump in jvm/ (it said so above); once the run ended
		// holdfast took the dir back, the app's group still reads it.
		jvm := filepath.Join(hfrun.RunDir(state, 1), "jvm")
		if uid, mode := sdOwner(t, jvm); uid != 0 || mode.Perm() != 0o750 {
			t.Errorf("jvm/ after the run: uid %d mode %v, want root's 0750", uid, mode.Perm())
		}
		if uid, _ := sdOwner(t, filepath.Join(jvm, "java_pid1.hprof")); uid != sdAppUID {
			t.Errorf("the dump is owned by %d, want the app's %d", uid, sdAppUID)
		}
		r := hfrun.ReadRun(t, state, 1)
		found := false
		for _, a := range r.Artifacts {
			found = found || (a.Name == "jvm/java_pid1.hprof" && a.Kind == "heap-dump")
		}
		if !found || r.PID == 0 {
			t.Errorf("run 1: %+v, want its pid and the heap dump in jvm/ as an artifact", r)
		}
	})
	// The non-root image (deploy/docker/Dockerfile): holdfast and the app are uid
	// 10001, group 0; the state dir is 0775, owned by 10001:0. On OpenShift an
	// arbitrary uid in group 0 runs the same image: not the owner, no --user, no
	// boundary; the group-writable dir is used as it is.
	for _, uid := range []int{10001, 12345} {
		t.Run(fmt.Sprintf("non-root-image-uid-%d", uid), func(t *testing.T) {
			t.Parallel()
			base := sdTemp(t)
			state := sdStateDir(t, base, 10001, 0, 0o775)
			bin := filepath.Join(sdTemp(t), "holdfast")
			if err := hfrun.CopyExecutable(holdfastBin, bin); err != nil {
				t.Fatalf("cannot copy holdfast: %v", err)
			}
			h := start(t, spec{pid1: true, stateDir: state, prog: []string{
				"setpriv", fmt.Sprintf("--reuid=%d", uid), "--regid=0", "--clear-groups", bin, "--probe-addr=", "--state-dir=" + state,
				"--ssh-authorized-keys=/nonexistent", "--hold=false", "--", "/bin/sh", "-c", "echo app ran as $(id -u)"}})
			want := fmt.Sprintf("app ran as %d\n", uid)
			if code := h.waitExit(t, hfrun.WaitLong); code != 0 || !strings.Contains(h.output(), want) {
				t.Errorf("non-root image as uid %d: exit %d, want 0 and the app's output:\n%s", uid, code, h.output())
			}
			if b, err := os.ReadFile(filepath.Join(hfrun.RunDir(state, 1), "output.log")); err != nil || string(b) != want {
				t.Errorf("run 1 output.log = %q (%v)", b, err)
			}
			if owner, _ := sdOwner(t, hfrun.RunDir(state, 1)); owner != uid {
				t.Errorf("run dir owned by %d, want %d", owner, uid)
			}
			// holdfast takes the group write bit off only a dir it owns.
			wantMode := map[int]os.FileMode{10001: 0o755, 12345: 0o775}[uid]
			if _, mode := sdOwner(t, state); mode.Perm() != wantMode {
				t.Errorf("state dir mode %v, want %v", mode.Perm(), wantMode)
			}
		})
	}
}

// TestStateDirFullDisk: every run writes more than the state dir holds (a 2 MiB
// tmpfs). The held run must still have its run.json (with its pid), and the status
// must say what the full disk cost. (An old holdfast left the held run without a
// run.json and said nothing.)
func TestStateDirFullDisk(t *testing.T) {
	t.Parallel()
	base := sdTemp(t)
	state := filepath.Join(base, "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", state).CombinedOutput(); err != nil {
		t.Fatalf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", state).Run() })
	z := start(t, spec{
		pid1: true, probe: true,
		stateDir: state,
		args:     []string{"--hold=true", "--max-restarts=2", "--backoff=10ms"},
		app:      []string{"/bin/sh", "-c", "yes 'a line of output that fills the disk' | head -c 3000000; echo; echo LAST LINE; exit 1"},
	})
	z.waitPhase(t, "held", 3)
	for n := 1; n <= 3; n++ {
		if n < 3 {
			continue // older runs may give their output up for the newest
		}
		r := hfrun.ReadRun(t, state, n)
		if r.PID == 0 || r.Reason != "startup-crash" || r.Code() != 1 {
			t.Errorf("run %d's run.json: %+v, want its pid and the crash", n, r)
		}
	}
	out, _, code := runCLI(t, state, "status", "--json")
	var st map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status --json: exit %d %q", code, out)
	}
	if d, _ := st["state_dir_degraded"].(string); !strings.Contains(d, "full") {
		t.Errorf("status state_dir_degraded = %q, want what the full disk cost; status %s", d, out)
	}
	if !strings.Contains(z.stderr.String(), "DEGRADED") {
		t.Errorf("the hold banner does not say the state dir is degraded:\n%s", z.stderr)
	}
	// The newest run keeps the most output: older runs' output.log went first.
	if fi, err := os.Stat(filepath.Join(hfrun.RunDir(state, 3), "output.log")); err != nil || fi.Size() < 1<<20 {
		t.Errorf("run 3's output.log: %v, want at least 1 MiB of its output", err)
	}
}

// TestStateDirPIDAtStart: run.json names the running app's pid while it runs
// (docs/security/statedir.md "Full disk"), so a holdfast killed mid-run leaves a record that says which process it
// was. (An old holdfast wrote pid 0 until the run ended.)
func TestStateDirPIDAtStart(t *testing.T) {
	t.Parallel()
	z := start(t, spec{pid1: true, probe: true, env: []string{fakeEnv + "=ready"}, app: []string{selfExe}})
	st := z.waitPhase(t, "running", 1)
	if st.PID == nil {
		t.Fatalf("running without a pid: %+v", st)
	}
	// Written before the phase turns running; no waiting needed, but the box is slow.
	var r hfrun.RunRec
	hfrun.WaitFor(t, hfrun.WaitLong, "run.json with the pid", func() bool {
		b, err := os.ReadFile(filepath.Join(hfrun.RunDir(z.stateDir, 1), "run.json"))
		return err == nil && json.Unmarshal(b, &r) == nil && r.PID != 0
	}, func() string { return fmt.Sprintf("run.json: %+v", r) })
	if r.PID != *st.PID || r.ExitCode != nil {
		t.Errorf("run.json while running: pid %d exit %v, want pid %d and no exit", r.PID, r.ExitCode, *st.PID)
	}
}
