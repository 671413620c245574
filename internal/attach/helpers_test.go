package attach

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/testutil"
)

// Bounds of the tests: generous, the box is shared and a cold JVM is slow.
const (
	jvmStartBound = 90 * time.Second
	attachBound   = 60 * time.Second
)

// classDir holds the compiled AttachTarget, readable by every user; it is
// "" when javac is missing (the JVM tests skip).
var classDir string

func TestMain(m *testing.M) {
	if child := os.Getenv(childEnv); child != "" {
		os.Exit(runChild(child))
	}
	dir, err := compileTarget()
	if err != nil {
		fmt.Fprintln(os.Stderr, "attach tests: no test JVM:", err)
	}
	classDir = dir
	code := m.Run()
	if dir != "" {
		os.RemoveAll(filepath.Dir(dir))
	}
	os.Exit(code)
}

func compileTarget() (string, error) {
	if _, err := exec.LookPath("javac"); err != nil {
		return "", err
	}
	root, err := os.MkdirTemp("", "attach-test-")
	if err != nil {
		return "", err
	}
	// Every user (the tests' JVMs run as nobody too) must read it.
	if err := os.Chmod(root, 0o755); err != nil {
		return "", err
	}
	dir := filepath.Join(root, "classes")
	out, err := exec.Command("javac", "-d", dir, "testdata/AttachTarget.java").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("javac: %v: %s", err, out)
	}
	return dir, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, fi.Mode()|0o755)
	})
}

// jvm is a running AttachTarget.
type jvm struct {
	cmd    *exec.Cmd
	pid    int // the java process's pid here
	exited chan struct{}
	stdout testutil.Buffer // what it printed (a SIGQUIT's thread dump goes here)
}

type jvmOpts struct {
	mode  string   // "idle" or "deadlock"
	flags []string // JVM flags
	cred  *syscall.Credential
	// unshare: in new pid and mount namespaces, where java is pid 1 and
	// its /tmp is a tmpfs of its own (as in a container).
	unshare bool
	// sharedTmp keeps our /tmp in the new mount namespace (with unshare).
	sharedTmp bool
}

func needJVM(t testing.TB) {
	t.Helper()
	if classDir == "" {
		t.Skip("no javac: the JVM tests need a JDK")
	}
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// startJVM starts AttachTarget and waits until it prints "ready". The JVM
// is killed at the test's end.
func startJVM(t testing.TB, o jvmOpts) *jvm {
	t.Helper()
	needJVM(t)
	if o.mode == "" {
		o.mode = "idle"
	}
	args := append([]string{"java", "-Xmx64m", "-XX:TieredStopAtLevel=1"}, o.flags...)
	if o.unshare {
		// The classes are bound to /mnt before the tmpfs hides them.
		args = append(args, "-cp", "/mnt", "AttachTarget", o.mode)
		script := `mount --bind "$0" /mnt && mount -t tmpfs tmpfs /tmp && exec "$@"`
		if o.sharedTmp {
			script = `mount --bind "$0" /mnt && exec "$@"`
		}
		args = append([]string{"unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, classDir}, args...)
	} else {
		args = append(args, "-cp", classDir, "AttachTarget", o.mode)
	}
	cmd := exec.Command(args[0], args[1:]...)
	// Its working directory, where the trigger file goes when the JVM's
	// user may write there (else /tmp): never the source tree.
	cmd.Dir = openTempDir(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred, Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	j := &jvm{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			fmt.Fprintln(&j.stdout, sc.Text())
			if sc.Text() == "ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	go func() { cmd.Wait(); close(j.exited) }()
	t.Cleanup(func() { j.stop(o.unshare) })
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%v exited before it was ready", args)
		}
	case <-time.After(jvmStartBound):
		t.Fatalf("%v not ready within %v", args, jvmStartBound)
	}
	if o.unshare {
		j.pid = findDescendant(t, cmd.Process.Pid, "java")
	}
	removeStaleSocket(t, j.pid, o.cred)
	return j
}

// removeStaleSocket removes a socket under the JVM's attach name that
// another user's JVM of the same pid left when it was killed. The JVM
// removes a stale one at start, but in a sticky /tmp only its own user's:
// on a machine whose tests kill root JVMs, a pid reused by a JVM of
// another user would find root's socket and never be reached, whatever
// this package does. One of the JVM's own user is its live listener.
func removeStaleSocket(t testing.TB, pid int, cred *syscall.Credential) {
	t.Helper()
	uid := uint32(0)
	if cred != nil {
		uid = cred.Uid
	}
	path := fmt.Sprintf("/proc/%d/root/tmp/.java_pid%d", pid, pid)
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil || st.Uid == uid {
		return
	}
	t.Logf("removing %s of uid %d, left by an earlier JVM of pid %d", path, st.Uid, pid)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// findDescendant returns the pid of the first descendant of pid whose
// command name is comm.
func findDescendant(t testing.TB, pid int, comm string) int {
	t.Helper()
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		if p != pid && strings.TrimSpace(string(b)) == comm {
			return p
		}
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, s := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(s)
				queue = append(queue, n)
			}
		}
	}
	t.Fatalf("no %s under pid %d", comm, pid)
	return 0
}

// stop ends the JVM with SIGTERM, so it removes its socket itself, and
// with SIGKILL if it has not exited within the bound; then removes what a
// killed JVM leaves in our /tmp.
func (j *jvm) stop(privateTmp bool) {
	pgid := j.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGCONT)
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-j.exited:
	case <-time.After(jvmStartBound):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-j.exited
	}
	if !privateTmp {
		os.Remove(fmt.Sprintf("/tmp/.java_pid%d", j.pid))
	}
}

func (j *jvm) alive() bool {
	select {
	case <-j.exited:
		return false
	default:
		return true
	}
}

// run attaches with the test's bound and returns the output.
func run(t testing.TB, pid int, req Request) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), attachBound)
	defer cancel()
	var b strings.Builder
	err := Run(ctx, pid, req, &b)
	return b.String(), err
}

func mustRun(t testing.TB, pid int, req Request) string {
	t.Helper()
	out, err := run(t, pid, req)
	if err != nil {
		t.Fatalf("%s %q: %v", req.Command, req.Args, err)
	}
	return out
}

func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The re-exec of the test binary as another user: childEnv names what the
// child does, childPidEnv the JVM. The child prints one line: "ok" or the
// error.
const (
	childEnv    = "ATTACH_TEST_CHILD"
	childPidEnv = "ATTACH_TEST_PID"
)

func runChild(what string) int {
	pid, _ := strconv.Atoi(os.Getenv(childPidEnv))
	ctx, cancel := context.WithTimeout(context.Background(), attachBound)
	defer cancel()
	if os.Getenv("ATTACH_TEST_NOSWITCH") != "" {
		switchCredentials = false
	}
	switch what {
	case "thread-print":
		var b strings.Builder
		if err := Run(ctx, pid, Jcmd("Thread.print"), &b); err != nil {
			fmt.Println(err)
			return 0
		}
		if !strings.Contains(b.String(), `"main"`) {
			fmt.Println("no main thread in:", b.String())
			return 0
		}
		fmt.Println("ok")
	case "raw-connect":
		// Past the package's own check: what the JVM's side does.
		path := fmt.Sprintf("/proc/%d/root/tmp/.java_pid%s", pid, os.Getenv("ATTACH_TEST_NSPID"))
		_, err := dial(ctx, path)
		fmt.Println(err)
	default:
		fmt.Println("unknown child", what)
		return 2
	}
	return 0
}

// asUser runs the test binary as uid/gid doing what (see runChild), and
// returns its line.
func asUser(t testing.TB, uid, gid uint32, what string, env ...string) string {
	t.Helper()
	cmd := childCommand(t, nil, what, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	return childLine(t, cmd)
}

// asRootWithout runs the test binary as root without the capabilities
// drop (setpriv(1) --bounding-set syntax: "-sys_ptrace,-dac_override").
func asRootWithout(t testing.TB, drop string, what string, env ...string) string {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv")
	}
	return childLine(t, childCommand(t, []string{"setpriv", "--bounding-set", drop, "--"}, what, env...))
}

// childCommand is a copy of the test binary every user may run, behind
// the wrapper command prefix.
func childCommand(t testing.TB, prefix []string, what string, env ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := openTempDir(t)
	bin := filepath.Join(dir, "attach.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append(prefix, bin)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append([]string{childEnv + "=" + what}, env...)
	return cmd
}

func childLine(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %v: %v: %s", cmd.Args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// openTempDir is a temporary directory every user may enter and read (a
// t.TempDir's parent is private), writable only by us.
func openTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "attach-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
