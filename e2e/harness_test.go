package e2e

// The black-box harness: the holdfast binary is built once per test binary and driven
// from outside, as PID 1 of a fresh pid namespace (`unshare --pid --fork --mount-proc`)
// or as a plain child (subreaper mode). One handle, hf, started by start with a spec of
// options (pid1, a shell run before holdfast, args, the app, an HTTP listener whose
// /status is watched, env, cwd, state dir, stdin, stdout). The pieces that need no
// handle (the locked buffer, ports, waits, the status and run.json records, the rule
// for a missing tool) are in package hfrun. The test binary doubles as the fake app
// (see fakeapp_test.go), so no test needs a program that scripts/deps.sh does not install.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// holdfastBin is the binary under test: $HOLDFAST_BIN, or built by TestMain.
var holdfastBin string

// selfExe is the absolute path of this test binary, which is also the fake app.
var selfExe string

func TestMain(m *testing.M) {
	// Fake-app and launcher modes come first: the re-executed test binary must not
	// parse test flags, build anything or run tests.
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeMain(mode, os.Args[1:]))
	}
	flag.Parse()
	// Most of these tests wait on processes, not the CPU: run more of them at once than
	// the default -parallel (GOMAXPROCS, 2 here), unless -parallel was given.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	var err error
	if selfExe, err = os.Executable(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot find the test binary: %v\n", err)
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "holdfast-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot create a temp dir: %v\n", err)
		os.Exit(1)
	}
	if holdfastBin, err = hfrun.Holdfast(tmp); err != nil {
		// Tests fail, not skip: a suite that cannot build the binary proves nothing.
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.RemoveAll(tmp)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// spec says how to start one holdfast (or, for negative controls, another program).
type spec struct {
	pid1     bool      // PID 1 of a new pid+mount namespace via unshare
	pre      string    // shell run (inside the namespaces under pid1) before holdfast is exec'd: mounts
	args     []string  // holdfast's arguments, after the safe defaults (the last one wins)
	app      []string  // the app's argv, given after "--"; nil = none (or it is in args)
	probe    bool      // an HTTP listener on a free loopback port (base), watched (watch)
	env      []string  // added to the base environment ("K=V")
	dir      string    // working directory of holdfast and the app; empty = a fresh temp dir
	stdin    io.Reader // nil = /dev/null
	prog     []string  // run this instead of holdfast, with no default flags
	stateDir string    // --state-dir; empty = a fresh temp dir
	stdout   io.Writer // holdfast's stdout; nil = kept for output()
}

// hf is one running holdfast (or negative-control program).
type hf struct {
	cmd            *exec.Cmd
	stdout, stderr *hfrun.Buffer
	spec           spec
	stateDir       string
	started        time.Time
	done           chan struct{} // closed when cmd.Wait returned
	exitedAt       time.Time
	waitErr        error
	base           string       // "http://127.0.0.1:N" with spec.probe, else ""
	watch          *hfrun.Watch // records every (phase, run) of /status, with spec.probe

	mu      sync.Mutex
	hostPid int // holdfast's pid as the host sees it (unshare's child under pid1)
}

// baseEnv is the test's environment without holdfast's own variables (so a developer's
// shell cannot change what a test sees), with ssh forced off.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HOLDFAST_") || strings.HasPrefix(kv, "GODEBUG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOLDFAST_SSH_AUTHORIZED_KEYS=")
}

// defaultArgs are given to every holdfast before the test's own: no HTTP listener, a
// private state dir, no ssh, and plain-init behaviour (no crash-hold). A test that wants
// otherwise passes the flag again; the last one wins.
func defaultArgs(stateDir string) []string {
	return []string{
		"--probe-addr=",
		"--state-dir=" + stateDir,
		"--ssh-authorized-keys=/nonexistent",
		"--hold=false",
		"--max-restarts=0",
	}
}

// argv is the full command line for s.
func (s spec) argv(stateDir string) []string {
	var argv []string
	if s.pid1 {
		// --kill-child: if unshare dies, so does the namespace.
		argv = []string{"unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}
	}
	if s.prog != nil {
		return append(argv, s.prog...)
	}
	if s.pre != "" {
		// The shell execs holdfast, which so stays PID 1.
		argv = append(argv, "sh", "-ec", s.pre+"\nexec \"$@\"", "sh")
	}
	argv = append(argv, holdfastBin)
	argv = append(argv, defaultArgs(stateDir)...)
	argv = append(argv, s.args...)
	if s.app != nil {
		argv = append(append(argv, "--"), s.app...)
	}
	return argv
}

// privateTmpMount is the line of privateTmpScript that gives the namespace its own /tmp.
const privateTmpMount = "mount -t tmpfs -o mode=1777 tmpfs /tmp\n"

// tmpTop matches a path under /tmp anywhere in an argument ("--state-dir=/tmp/x/y",
// "-XX:HeapDumpPath=/tmp/x"); its group is the entry of /tmp it is in.
var tmpTop = regexp.MustCompile(`/tmp/([^/\s:=,;"']+)`)

// privateTmpScript is a spec.pre script (pid1) that gives holdfast's mount namespace a
// /tmp of its own, as a container has, with the host /tmp's entries that paths name
// (the test's temp dirs, holdfast, the zoo's jars) bound back at their places.
// HotSpot keeps its attach socket, its trigger file and hsperfdata in /tmp under its
// pid in its namespace, which is the same for every JVM that is holdfast's first
// child: in one shared /tmp, concurrent tests' JVMs would find each other's.
// An entry made in the host /tmp after the start (a subtest's t.TempDir) is not
// seen inside: put what the app or an ssh session must see beside the state dir.
func privateTmpScript(paths []string) string {
	tops := map[string]bool{}
	for _, p := range paths {
		for _, m := range tmpTop.FindAllStringSubmatch(p, -1) {
			tops[m[1]] = true
		}
	}
	script := "mount --rbind /tmp /mnt\n" + privateTmpMount
	for _, top := range slices.Sorted(maps.Keys(tops)) {
		script += fmt.Sprintf("if [ -d /mnt/%[1]s ]; then mkdir /tmp/%[1]s; elif [ -e /mnt/%[1]s ]; then : > /tmp/%[1]s; fi\n"+
			"if [ -e /tmp/%[1]s ]; then mount --rbind /mnt/%[1]s /tmp/%[1]s; fi\n", top)
	}
	return script
}

// runsJava reports whether s's app is a JVM.
func runsJava(s spec) bool {
	for _, a := range append(slices.Clone(s.args), s.app...) {
		if filepath.Base(a) == "java" {
			return true
		}
	}
	return false
}

// env is the full environment for s.
func (s spec) fullEnv() []string { return append(baseEnv(), s.env...) }

// launch starts s without a *testing.T, so worker goroutines can use it. The caller
// must call kill and wait.
func launch(s spec, tmp string) (*hf, error) {
	h := &hf{stdout: &hfrun.Buffer{}, stderr: &hfrun.Buffer{}, spec: s, done: make(chan struct{})}
	h.stateDir = s.stateDir
	if h.stateDir == "" {
		d, err := os.MkdirTemp(tmp, "state-")
		if err != nil {
			return nil, fmt.Errorf("cannot create a state dir: %w", err)
		}
		h.stateDir = d
	}
	if s.dir == "" {
		// Not the test's own: a crashing JVM may leave a core file in its cwd.
		d, err := os.MkdirTemp(tmp, "cwd-")
		if err != nil {
			return nil, fmt.Errorf("cannot create a working dir: %w", err)
		}
		s.dir = d
	}
	if s.pid1 && s.prog == nil && runsJava(s) && !strings.Contains(s.pre, privateTmpMount) {
		// Every JVM that is holdfast's first child has the same pid in its namespace:
		// in one shared /tmp, concurrent tests' JVMs take each other's attach
		// socket, trigger file and hsperfdata (a hang's thread dump went missing).
		paths := append([]string{tmp, holdfastBin, h.stateDir, s.dir}, s.args...)
		paths = append(append(paths, s.app...), s.env...)
		s.pre = privateTmpScript(paths) + s.pre
	}
	argv := s.argv(h.stateDir)
	h.cmd = exec.Command(argv[0], argv[1:]...)
	h.cmd.Env = s.fullEnv()
	h.cmd.Dir = s.dir
	h.cmd.Stdin = s.stdin
	h.cmd.Stdout, h.cmd.Stderr = h.stdout, h.stderr
	if s.stdout != nil {
		h.cmd.Stdout = s.stdout
	}
	// Own process group: a ^C meant for `go test` must not reach it.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Grandchildren that keep our pipes open must not hang Wait.
	h.cmd.WaitDelay = 5 * time.Second
	h.started = time.Now()
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %q: %w", argv, err)
	}
	go func() {
		h.waitErr = h.cmd.Wait()
		h.exitedAt = time.Now()
		close(h.done)
	}()
	return h, nil
}

// start runs s and registers a Cleanup that kills whatever is left of it.
func start(t testing.TB, s spec) *hf {
	t.Helper()
	if s.pid1 {
		hfrun.NeedTool(t, "unshare")
	}
	if len(s.prog) > 0 && !strings.Contains(s.prog[0], "/") {
		hfrun.NeedTool(t, s.prog[0])
	}
	var addr string
	if s.probe {
		addr = hfrun.Addr(t)
		s.args = append(append([]string(nil), s.args...), "--probe-addr="+addr)
	}
	h, err := launch(s, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.kill()
		if t.Failed() {
			t.Logf("holdfast %q\nstdout:\n%s\nstderr:\n%s", h.cmd.Args, h.stdout, h.stderr)
		}
	})
	if s.probe {
		h.base = "http://" + addr
		h.watch = hfrun.WatchStatus(t, h.base)
	}
	return h
}

// startPID1 runs holdfast with args as PID 1 of a new pid namespace.
func startPID1(t testing.TB, env []string, args ...string) *hf {
	t.Helper()
	return start(t, spec{pid1: true, env: env, args: args})
}

// startPlain runs holdfast as an ordinary child of the test (subreaper mode).
func startPlain(t testing.TB, env []string, args ...string) *hf {
	t.Helper()
	return start(t, spec{env: env, args: args})
}

// kill SIGKILLs holdfast (which ends its whole pid namespace under pid1) and unshare,
// then waits for Wait to return. Safe to call more than once.
func (h *hf) kill() {
	if h.exited() {
		return
	}
	if pid, err := h.findHostPid(); err == nil {
		if !h.spec.pid1 {
			killTree(pid) // no namespace takes the app and its children down
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	<-h.done
}

func (h *hf) exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// findHostPid returns the host pid of the program under test: the started process
// itself, or under pid1 unshare's child once it has exec'd (before that, it is still a
// copy of unshare, and signals would go to the wrong program).
func (h *hf) findHostPid() (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hostPid != 0 {
		return h.hostPid, nil
	}
	if !h.spec.pid1 {
		h.hostPid = h.cmd.Process.Pid
		return h.hostPid, nil
	}
	kids := children(h.cmd.Process.Pid)
	if len(kids) != 1 {
		return 0, fmt.Errorf("unshare (pid %d) has %d children, want 1", h.cmd.Process.Pid, len(kids))
	}
	unshareExe, err1 := os.Readlink(fmt.Sprintf("/proc/%d/exe", h.cmd.Process.Pid))
	exe, err2 := os.Readlink(fmt.Sprintf("/proc/%d/exe", kids[0]))
	if err1 != nil || err2 != nil || exe == unshareExe {
		return 0, fmt.Errorf("unshare's child %d has not exec'd yet", kids[0])
	}
	h.hostPid = kids[0]
	return h.hostPid, nil
}

// pid waits (bounded) for the host pid of holdfast.
func (h *hf) pid(t testing.TB) int {
	t.Helper()
	var pid int
	var last error
	hfrun.WaitFor(t, hfrun.WaitLong, "holdfast's host pid", func() bool {
		pid, last = h.findHostPid()
		return last == nil || h.exited()
	})
	if last != nil {
		t.Fatalf("cannot find holdfast's host pid: %v", last)
	}
	return pid
}

// trackApp returns the host pid of holdfast's only child, the app, and registers a
// Cleanup that SIGKILLs the app's process group: in subreaper mode a holdfast that dies
// early leaves the app behind, outside any namespace.
func (h *hf) trackApp(t testing.TB) int {
	t.Helper()
	var kids []int
	hfrun.WaitFor(t, hfrun.WaitLong, "holdfast to have one child", func() bool {
		kids = children(h.pid(t))
		return len(kids) == 1
	}, func() string { return fmt.Sprintf("children: %v", kids) })
	app := kids[0]
	// By cleanup time the app may be long gone and its pid handed to a process of
	// another test: signal it through a pidfd taken now, and its group only while it
	// is alive (then no other group can have its number).
	p, err := pidfdOfChild(h.pid(t), app)
	if err != nil {
		t.Logf("the app %d is already gone, nothing to clean up: %v", app, err)
		return app
	}
	t.Cleanup(func() {
		if p.Signal(syscall.Signal(0)) == nil {
			_ = syscall.Kill(-app, syscall.SIGKILL)
		}
		_ = p.Kill()
		_ = p.Release()
	})
	return app
}

// pidfdOfChild returns a pidfd-backed handle on pid, checked to be a child of parent:
// the pidfd pins the process, so a later reuse of the number cannot redirect a signal,
// and the parent check after opening it rules out a reuse before.
func pidfdOfChild(parent, pid int) (*os.Process, error) {
	p, err := os.FindProcess(pid) // pidfd_open(2) on Linux
	if err != nil {
		return nil, err
	}
	st, err := procStat(pid)
	if err != nil || st.ppid != parent {
		p.Release()
		return nil, fmt.Errorf("pid %d is no longer a child of %d (%+v, %v)", pid, parent, st, err)
	}
	return p, nil
}

// children lists the children of pid from /proc/<pid>/task/*/children.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// signal sends sig from the host to holdfast (never to unshare).
func (h *hf) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(h.pid(t), sig); err != nil {
		t.Fatalf("cannot send %s to holdfast (host pid %d): %v", signame(sig), h.pid(t), err)
	}
}

// alive reports whether holdfast still runs (and is not a zombie).
func (h *hf) alive(t testing.TB) bool {
	t.Helper()
	if h.exited() {
		return false
	}
	st, err := procState(h.pid(t))
	return err == nil && st != "Z"
}

// code converts a Wait result into the code a shell shows: the exit status, or 128+N
// for death by signal N.
func (h *hf) code() (int, error) {
	var ee *exec.ExitError
	if h.waitErr != nil && !errors.As(h.waitErr, &ee) {
		return -1, fmt.Errorf("cannot wait for %q: %w", h.cmd.Args, h.waitErr)
	}
	ws := h.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// waitExit waits up to d for the exit and returns the exit code.
func (h *hf) waitExit(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(d):
		t.Fatalf("%q still running after %v\nstdout:\n%s\nstderr:\n%s", h.cmd.Args, d, h.stdout, h.stderr)
	}
	code, err := h.code()
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// output is everything written so far to stdout and stderr.
func (h *hf) output() string { return h.stdout.String() + h.stderr.String() }

// waitOutput waits up to d until stdout or stderr contains s.
func (h *hf) waitOutput(t testing.TB, s string, d time.Duration) {
	t.Helper()
	explain := func() string { return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", h.stdout, h.stderr) }
	// Output is complete once it exited (Wait returns after the copiers), so stop there.
	hfrun.WaitFor(t, d, fmt.Sprintf("output %q", s), func() bool { return strings.Contains(h.output(), s) || h.exited() }, explain)
	if !strings.Contains(h.output(), s) {
		code, _ := h.code()
		t.Fatalf("%q exited (code %d) without printing %q\n%s", h.cmd.Args, code, s, explain())
	}
}

// execInNS runs argv inside holdfast's pid and mount namespaces (so /proc and pid 1 are
// the namespace's) and returns its combined output.
func execInNS(t testing.TB, h *hf, argv ...string) (string, error) {
	t.Helper()
	args := append([]string{"--target", strconv.Itoa(h.pid(t)), "--pid", "--mount", "--"}, argv...)
	cmd := exec.Command(hfrun.NeedTool(t, "nsenter"), args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// proc is one process as the host sees it.
type proc struct {
	pid, ppid int
	state     string // R, S, Z, ...
	comm      string
}

// procStat reads /proc/<pid>/stat.
func procStat(pid int) (proc, error) {
	return procStatAt(fmt.Sprintf("/proc/%d/stat", pid), pid)
}

// procStatAt reads a stat file of pid: the process's, or one of its
// threads' (/proc/<pid>/task/<tid>/stat).
func procStatAt(path string, pid int) (proc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return proc{}, err
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return proc{}, fmt.Errorf("cannot parse %s: %q", path, s)
	}
	f := strings.Fields(s[close+1:])
	if len(f) < 2 {
		return proc{}, fmt.Errorf("cannot parse %s: %q", path, s)
	}
	ppid, _ := strconv.Atoi(f[1])
	return proc{pid: pid, ppid: ppid, state: f[0], comm: s[open+1 : close]}, nil
}

// procWhere says where each thread of pid is, for a message about a process
// that took too long: its state, the kernel function it waits in, and
// whether the pid is gone already.
func procWhere(pid int) string {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if len(tasks) == 0 {
		return fmt.Sprintf("pid %d: gone", pid)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d:", pid)
	for _, task := range tasks {
		state := "?"
		if st, err := procStatAt(filepath.Join(task, "stat"), pid); err == nil {
			state = st.state
		}
		wchan, _ := os.ReadFile(filepath.Join(task, "wchan"))
		fmt.Fprintf(&b, " [tid %s %s %s]", filepath.Base(task), state, wchan)
	}
	return b.String()
}

func procState(pid int) (string, error) {
	p, err := procStat(pid)
	return p.state, err
}

// nsProcs lists (from the host) every process in the pid namespace of hostPid.
func nsProcs(hostPid int) []proc {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", hostPid))
	if err != nil {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || ns != want {
			continue
		}
		if p, err := procStat(pid); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// countState counts the processes in ps that are in state st.
func countState(ps []proc, st string) int {
	n := 0
	for _, p := range ps {
		if p.state == st {
			n++
		}
	}
	return n
}

// signame is the short name of sig as kill(1) spells it: "USR1", "RTMIN+6".
func signame(sig syscall.Signal) string {
	if n, ok := sigNames[sig]; ok {
		return n
	}
	if sig == sigRTMin {
		return "RTMIN"
	}
	if sig > sigRTMin && sig <= sigRTMax {
		return fmt.Sprintf("RTMIN+%d", int(sig-sigRTMin))
	}
	return fmt.Sprintf("SIG%d", int(sig))
}

// sigRTMin and sigRTMax are the real-time signals glibc programs (kill(1)) can use; 32
// and 33 are reserved by glibc for itself.
const (
	sigRTMin syscall.Signal = 34
	sigRTMax syscall.Signal = 64
)

var sigNames = map[syscall.Signal]string{
	syscall.SIGHUP: "HUP", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT", syscall.SIGILL: "ILL",
	syscall.SIGTRAP: "TRAP", syscall.SIGABRT: "ABRT", syscall.SIGBUS: "BUS", syscall.SIGFPE: "FPE",
	syscall.SIGKILL: "KILL", syscall.SIGUSR1: "USR1", syscall.SIGSEGV: "SEGV", syscall.SIGUSR2: "USR2",
	syscall.SIGPIPE: "PIPE", syscall.SIGALRM: "ALRM", syscall.SIGTERM: "TERM", syscall.SIGSTKFLT: "STKFLT",
	syscall.SIGCHLD: "CHLD", syscall.SIGCONT: "CONT", syscall.SIGSTOP: "STOP", syscall.SIGTSTP: "TSTP",
	syscall.SIGTTIN: "TTIN", syscall.SIGTTOU: "TTOU", syscall.SIGURG: "URG", syscall.SIGXCPU: "XCPU",
	syscall.SIGXFSZ: "XFSZ", syscall.SIGVTALRM: "VTALRM", syscall.SIGPROF: "PROF", syscall.SIGWINCH: "WINCH",
	syscall.SIGIO: "IO", syscall.SIGPWR: "PWR", syscall.SIGSYS: "SYS",
}

// parseSig is the inverse of signame for the names the tests use.
func parseSig(name string) (syscall.Signal, bool) {
	name = strings.TrimPrefix(strings.ToUpper(name), "SIG")
	for s, n := range sigNames {
		if n == name {
			return s, true
		}
	}
	if name == "RTMIN" {
		return sigRTMin, true
	}
	if rest, ok := strings.CutPrefix(name, "RTMIN+"); ok {
		if n, err := strconv.Atoi(rest); err == nil && sigRTMin+syscall.Signal(n) <= sigRTMax {
			return sigRTMin + syscall.Signal(n), true
		}
	}
	return 0, false
}

// runCLI runs a holdfast subcommand against stateDir and returns its stdout, stderr
// and exit code.
func runCLI(t testing.TB, stateDir string, sub string, args ...string) (string, string, int) {
	t.Helper()
	return runCLIWithin(t, hfrun.WaitLong, stateDir, sub, args...)
}

// runCLIWithin is runCLI for a subcommand that may take up to d (a heap dump).
func runCLIWithin(t testing.TB, d time.Duration, stateDir string, sub string, args ...string) (string, string, int) {
	t.Helper()
	argv := append([]string{sub, "--state-dir=" + stateDir}, args...)
	cmd := exec.Command(holdfastBin, argv...)
	cmd.Env = baseEnv()
	var out, errb hfrun.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start holdfast %v: %v", argv, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		where := procWhere(cmd.Process.Pid)
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("holdfast %v did not return within %v (%s)\nstdout:\n%s\nstderr:\n%s", argv, d, where, &out, &errb)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// cliStatus is `holdfast status --json`.
func cliStatus(t testing.TB, stateDir string) hfrun.Status {
	t.Helper()
	out, errOut, code := runCLI(t, stateDir, "status", "--json")
	if code != 0 {
		t.Fatalf("holdfast status --json exited %d: %s%s", code, out, errOut)
	}
	st, err := hfrun.DecodeStatus([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// until waits for a status that satisfies cond; it fails at once if holdfast exits.
// The status comes from the watcher with spec.probe, else from `holdfast status --json`.
func (h *hf) until(t testing.TB, what string, cond func(hfrun.Status) bool) hfrun.Status {
	t.Helper()
	var st hfrun.Status
	var last error
	met := func() bool {
		var ok bool
		if h.watch != nil {
			st, ok = h.watch.Latest()
		} else {
			st, last = statusByCLI(h.stateDir)
			ok = last == nil
		}
		return ok && cond(st)
	}
	seen := func() string {
		if h.watch != nil {
			return h.watch.String()
		}
		return fmt.Sprintf("last status (CLI): %+v (err %v)", st, last)
	}
	hfrun.WaitFor(t, 3*hfrun.WaitLong, what, func() bool { return met() || h.exited() },
		func() string { return seen() + "\n" + h.output() })
	if !met() {
		code, _ := h.code()
		t.Fatalf("holdfast exited (code %d) while waiting for %s\n%s\n%s", code, what, seen(), h.output())
	}
	return st
}

// statusByCLI is `holdfast status --json` against stateDir, bounded by WaitLong, for
// the polls of a holdfast without an HTTP listener.
func statusByCLI(stateDir string) (hfrun.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hfrun.WaitLong)
	defer cancel()
	cmd := exec.CommandContext(ctx, holdfastBin, "status", "--json", "--state-dir="+stateDir)
	cmd.Env = baseEnv()
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return hfrun.Status{}, fmt.Errorf("holdfast status --json: %w", err)
	}
	return hfrun.DecodeStatus(out)
}

// waitPhase waits for phase (and, when run > 0, that run).
func (h *hf) waitPhase(t testing.TB, phase string, run int) hfrun.Status {
	t.Helper()
	return h.until(t, fmt.Sprintf("phase %s (run %d)", phase, run), func(s hfrun.Status) bool {
		return s.Phase == phase && (run == 0 || s.Run == run)
	})
}

// assertPID1 checks that holdfast is PID 1 of its namespace and alive: its own
// status says so, the kernel's NSpid says so, and /proc/1 inside the namespace is the
// holdfast binary.
func (h *hf) assertPID1(t testing.TB, st hfrun.Status) {
	t.Helper()
	if !h.alive(t) {
		t.Fatalf("holdfast is not alive\n%s", h.output())
	}
	if st.HoldfastPID != 1 {
		t.Errorf("status holdfast_pid = %d, want 1", st.HoldfastPID)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.pid(t)))
	if err != nil {
		t.Fatalf("cannot read holdfast's /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "NSpid:"); ok {
			ids := strings.Fields(f)
			if len(ids) < 2 || ids[len(ids)-1] != "1" {
				t.Errorf("holdfast's NSpid is %q, want its last (innermost) pid to be 1", ids)
			}
		}
	}
	out, err := execInNS(t, h, "cat", "/proc/1/cmdline")
	if err != nil {
		t.Fatalf("cannot read /proc/1/cmdline in the namespace: %v\n%s", err, out)
	}
	if argv0, _, _ := strings.Cut(out, "\x00"); argv0 != holdfastBin {
		t.Errorf("PID 1 of the namespace runs %q, want holdfast (%s)", strings.ReplaceAll(out, "\x00", " "), holdfastBin)
	}
}

// checkHeldHTTP checks the probe answers of a held holdfast.
func (h *hf) checkHeldHTTP(t testing.TB, reason string) {
	t.Helper()
	code, body, err := hfrun.Fetch(h.base + "/livez")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"phase":"held"`) {
		t.Errorf("held: GET /livez = %d %s (%v), want 200 with phase held", code, body, err)
	}
	code, body, err = hfrun.Fetch(h.base + "/readyz")
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, reason) {
		t.Errorf("held: GET /readyz = %d %s (%v), want 503 naming %q", code, body, err, reason)
	}
	if _, e, c := runCLI(t, h.stateDir, "probe", "live"); c != 0 {
		t.Errorf("held: holdfast probe live exited %d, want 0: %s", c, e)
	}
	if _, e, c := runCLI(t, h.stateDir, "probe", "ready"); c != 1 {
		t.Errorf("held: holdfast probe ready exited %d, want 1: %s", c, e)
	}
}

// waitLine waits until the app printed line (a whole line) on holdfast's stdout.
func (h *hf) waitLine(t testing.TB, line string) {
	t.Helper()
	has := func() bool {
		out := "\n" + h.stdout.String()
		return strings.Contains(out, "\n"+line+"\n")
	}
	hfrun.WaitFor(t, 3*hfrun.WaitLong, fmt.Sprintf("the app to print %q", line), func() bool { return has() || h.exited() },
		func() string { return h.output() })
	if !has() {
		t.Fatalf("holdfast exited before the app printed %q\n%s", line, h.output())
	}
}
