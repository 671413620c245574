package attach

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestThreadPrint(t *testing.T) {
	j := startJVM(t, jvmOpts{})
	out := mustRun(t, j.pid, Jcmd("Thread.print"))
	for _, want := range []string{"Full thread dump", `"main"`, `"Attach Listener"`} {
		if !strings.Contains(out, want) {
			t.Errorf("Thread.print lacks %q:\n%s", want, out)
		}
	}
	// The listener is up now: a second attach connects at once, and
	// the legacy threaddump command answers too.
	out = mustRun(t, j.pid, ThreadDump(true))
	if !strings.Contains(out, `"main"`) || !strings.Contains(out, "Locked ownable synchronizers") {
		t.Errorf("threaddump -l lacks the main thread or its locks:\n%s", out)
	}
	assertNoTrigger(t, j)
}

// assertNoTrigger checks that no .attach_pid file is left behind.
func assertNoTrigger(t *testing.T, j *jvm) {
	t.Helper()
	tg, err := Inspect(j.pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{tg.procPath("cwd"), tg.tmpDir()} {
		if _, err := os.Lstat(filepath.Join(dir, tg.triggerName())); err == nil {
			t.Errorf("%s left in %s", tg.triggerName(), dir)
		}
	}
}

func TestVMVersionMatchesJavaVersion(t *testing.T) {
	j := startJVM(t, jvmOpts{})
	out, err := exec.Command("java", "-version").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	// "OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)"
	m := regexp.MustCompile(`(?m)^(.*VM) \(build ([^,]+),`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no VM build in java -version:\n%s", out)
	}
	want := m[1] + " version " + m[2]
	got := mustRun(t, j.pid, Jcmd("VM.version"))
	if !strings.Contains(got, want) {
		t.Errorf("VM.version does not say %q:\n%s", want, got)
	}
}

func TestHeapDump(t *testing.T) {
	j := startJVM(t, jvmOpts{})
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		req  func(path string) Request
	}{
		{"GC.heap_dump", func(p string) Request { return Jcmd("GC.heap_dump " + p) }},
		{"dumpheap", func(p string) Request { return HeapDump(p, true) }},
	} {
		path := filepath.Join(dir, tc.name+".hprof")
		out := mustRun(t, j.pid, tc.req(path))
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("%s: %v (output %q)", tc.name, err, out)
		}
		head := make([]byte, 19)
		_, err = f.Read(head)
		f.Close()
		if err != nil || string(head) != "JAVA PROFILE 1.0.2\x00" {
			t.Errorf("%s: header %q, %v", tc.name, head, err)
		}
	}
}

func TestClassHistogramAndProperties(t *testing.T) {
	j := startJVM(t, jvmOpts{})
	if out := mustRun(t, j.pid, ClassHistogram(false)); !strings.Contains(out, "java.lang.String") {
		t.Errorf("inspectheap lacks java.lang.String:\n%.2000s", out)
	}
	if out := mustRun(t, j.pid, SystemProperties()); !strings.Contains(out, "java.vm.name=") {
		t.Errorf("properties lack java.vm.name:\n%.2000s", out)
	}
	mustRun(t, j.pid, AgentProperties())
}

func TestUnknownCommand(t *testing.T) {
	j := startJVM(t, jvmOpts{})
	_, err := run(t, j.pid, Jcmd("No.such_command"))
	var ce *CommandError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCommand) {
		t.Fatalf("want a CommandError, got %v", err)
	}
	if !strings.Contains(ce.Message, "Unknown diagnostic command") {
		t.Errorf("message %q", ce.Message)
	}
	t.Log(err)
	// The listener still serves the next request.
	mustRun(t, j.pid, Jcmd("VM.uptime"))
}

func TestDeadlockNamed(t *testing.T) {
	j := startJVM(t, jvmOpts{mode: "deadlock"})
	out := mustRun(t, j.pid, Jcmd("Thread.print"))
	if !strings.Contains(out, "Found one Java-level deadlock") {
		t.Errorf("Thread.print of a deadlocked app does not name the deadlock:\n%s", out)
	}
	// Negative control: an app without the deadlock has none reported.
	k := startJVM(t, jvmOpts{})
	if out := mustRun(t, k.pid, Jcmd("Thread.print")); strings.Contains(out, "deadlock") {
		t.Errorf("an idle app reports a deadlock:\n%s", out)
	}
}

// sections are the parts of a command's output that do not change from
// one call to the next, to compare with the JDK's jcmd.
func sections(command, out string) []string {
	var s []string
	add := func(v string) {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		switch command {
		case "help":
			if f := strings.Fields(line); len(f) == 1 && strings.Contains(f[0], ".") {
				add(f[0])
			}
		case "VM.flags":
			for _, f := range strings.Fields(line) {
				name, _, _ := strings.Cut(f, "=")
				add(name)
			}
		case "Thread.print":
			// Thread names, but not the compiler threads the JVM
			// starts and stops as it likes.
			if strings.HasPrefix(line, `"`) && !strings.Contains(line, "CompilerThread") {
				name, _, _ := strings.Cut(line[1:], `"`)
				add(name)
			}
			if strings.HasPrefix(line, "Full thread dump") || strings.HasPrefix(line, "JNI global refs") {
				add(strings.Fields(line)[0])
			}
		case "GC.heap_info":
			// The leading words of each line, up to the first number.
			var words []string
			for _, w := range strings.Fields(line) {
				if strings.ContainsAny(w, "0123456789") {
					break
				}
				words = append(words, w)
			}
			if len(words) > 0 {
				add(strings.Join(words, " "))
			}
		}
	}
	slices.Sort(s)
	return s
}

func TestSameSectionsAsJDKJcmd(t *testing.T) {
	if _, err := exec.LookPath("jcmd"); err != nil {
		t.Skip("no jcmd")
	}
	j := startJVM(t, jvmOpts{})
	for _, command := range []string{"help", "VM.flags", "Thread.print", "GC.heap_info"} {
		ours := mustRun(t, j.pid, Jcmd(command))
		theirs, err := exec.Command("jcmd", strconv.Itoa(j.pid), command).Output()
		if err != nil {
			t.Fatalf("jcmd %s: %v", command, err)
		}
		// jcmd prints "<pid>:" before the JVM's output.
		body := strings.TrimPrefix(string(theirs), strconv.Itoa(j.pid)+":\n")
		a, b := sections(command, ours), sections(command, body)
		if len(a) == 0 {
			t.Errorf("%s: no sections in our output:\n%s", command, ours)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s: sections differ\nours:  %q\njcmd: %q", command, a, b)
		}
	}
}

func TestDisabledAttach(t *testing.T) {
	j := startJVM(t, jvmOpts{flags: []string{"-XX:+DisableAttachMechanism"}})
	_, err := run(t, j.pid, Jcmd("Thread.print"))
	if !errors.Is(err, ErrDisabled) {
		t.Fatalf("want ErrDisabled, got %v", err)
	}
	t.Log(err)
	// Without hsperfdata the flag is found on the command line.
	n := startJVM(t, jvmOpts{flags: []string{"-XX:-UsePerfData", "-XX:+DisableAttachMechanism"}})
	if _, err := run(t, n.pid, Jcmd("Thread.print")); !errors.Is(err, ErrDisabled) {
		t.Fatalf("without hsperfdata: want ErrDisabled, got %v", err)
	}
	// No SIGQUIT reached them: a JVM without a listener prints a thread
	// dump on one, as the last line's control shows.
	for _, k := range []*jvm{j, n} {
		if strings.Contains(k.stdout.String(), "Full thread dump") {
			t.Errorf("pid %d was sent SIGQUIT:\n%s", k.pid, k.stdout.String())
		}
	}
	syscall.Kill(j.pid, syscall.SIGQUIT)
	waitFor(t, attachBound, "a SIGQUIT's thread dump on stdout", func() bool {
		return strings.Contains(j.stdout.String(), "Full thread dump")
	})
	// Negative controls: without the flag, attach is on, and works
	// without hsperfdata.
	m := startJVM(t, jvmOpts{flags: []string{"-XX:-UsePerfData"}})
	if out := mustRun(t, m.pid, Jcmd("Thread.print")); !strings.Contains(out, `"main"`) {
		t.Errorf("without hsperfdata: %s", out)
	}
	k := startJVM(t, jvmOpts{})
	tg, err := Inspect(k.pid)
	if err != nil || tg.Capabilities == "" || tg.Capabilities[0] != '1' {
		t.Fatalf("a plain JVM: capabilities %+v, %v", tg, err)
	}
}

func TestDeadPid(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, cmd.Process.Pid, Jcmd("Thread.print"))
	if !errors.Is(err, ErrNoProcess) {
		t.Fatalf("want ErrNoProcess, got %v", err)
	}
	t.Log(err)
	if _, err := run(t, -1, Jcmd("Thread.print")); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("pid -1: want ErrNoProcess, got %v", err)
	}
}

// A process that is not a JVM gets no SIGQUIT, which would kill it.
func TestNotAJVMIsNotSignalled(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	tg := &Target{PID: cmd.Process.Pid}
	b, err := os.ReadFile(tg.procPath("status"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.parseStatus(b); err != nil || tg.CatchesQuit {
		t.Fatalf("sleep catches SIGQUIT? %v %v", tg.CatchesQuit, err)
	}
	_, err = run(t, cmd.Process.Pid, Jcmd("Thread.print"))
	if !errors.Is(err, ErrNotJVM) {
		t.Fatalf("want ErrNotJVM, got %v", err)
	}
	t.Log(err)
	// sleep is alive: the SIGTERM we send now is what ends it.
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("sleep ended by %v (%v), not by our SIGTERM", ws, err)
	}
}

func TestStoppedJVMTimesOut(t *testing.T) {
	const bound = 3 * time.Second
	for _, started := range []bool{false, true} {
		t.Run(fmt.Sprintf("listener-started=%v", started), func(t *testing.T) {
			j := startJVM(t, jvmOpts{})
			if started {
				mustRun(t, j.pid, Jcmd("VM.uptime"))
			}
			if err := syscall.Kill(j.pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			begin := time.Now()
			err := Run(ctx, j.pid, Jcmd("Thread.print"), &bytes.Buffer{})
			took := time.Since(begin)
			if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "stopped") {
				t.Fatalf("want ErrTimeout naming the stop, got %v", err)
			}
			t.Logf("%v after %v", err, took)
			if took > bound+2*time.Second {
				t.Errorf("took %v, bound %v", took, bound)
			}
			// Continued, the JVM answers again.
			syscall.Kill(j.pid, syscall.SIGCONT)
			if out := mustRun(t, j.pid, Jcmd("Thread.print")); !strings.Contains(out, `"main"`) {
				t.Errorf("after SIGCONT: %s", out)
			}
		})
	}
}

const nobody = 65534

func TestRootAttachesToOtherUser(t *testing.T) {
	needRoot(t)
	j := startJVM(t, jvmOpts{cred: &syscall.Credential{Uid: nobody, Gid: nobody}})
	before := dumpable()
	out := mustRun(t, j.pid, Jcmd("Thread.print"))
	if !strings.Contains(out, `"main"`) {
		t.Fatalf("Thread.print as root to uid %d:\n%s", nobody, out)
	}
	assertNoTrigger(t, j)
	if os.Geteuid() != 0 || os.Getegid() != 0 || dumpable() != before {
		t.Fatalf("process credentials changed: euid %d egid %d dumpable %d (was %d)",
			os.Geteuid(), os.Getegid(), dumpable(), before)
	}
	// The switched thread is gone: every thread left is root's.
	waitFor(t, 10*time.Second, "no thread with another euid", func() bool {
		return len(foreignThreads()) == 0
	})
	// The socket the listener made belongs to the JVM's user.
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/root/tmp/.java_pid%d", j.pid, j.pid))
	if err != nil || !ownedBy(fi, nobody) {
		t.Errorf("socket: %v, owned by nobody: %v", err, err == nil && ownedBy(fi, nobody))
	}
}

// foreignThreads lists this process's threads whose euid is not root.
func foreignThreads() []string {
	paths, _ := filepath.Glob("/proc/self/task/*/status")
	var bad []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		tg := &Target{}
		if tg.parseStatus(b) == nil && (tg.UID != 0 || tg.GID != 0) {
			bad = append(bad, p)
		}
	}
	return bad
}

func TestTheJVMsUserAttaches(t *testing.T) {
	needRoot(t)
	j := startJVM(t, jvmOpts{cred: &syscall.Credential{Uid: nobody, Gid: nobody}})
	if got := asUser(t, nobody, nobody, "thread-print", childPidEnv+"="+strconv.Itoa(j.pid)); got != "ok" {
		t.Fatalf("as the JVM's own user: %s", got)
	}
}

func TestThirdUserRefused(t *testing.T) {
	needRoot(t)
	j := startJVM(t, jvmOpts{cred: &syscall.Credential{Uid: nobody, Gid: nobody}})
	env := []string{childPidEnv + "=" + strconv.Itoa(j.pid), "ATTACH_TEST_NSPID=" + strconv.Itoa(j.pid)}
	got := asUser(t, 1234, 1234, "thread-print", env...)
	if !strings.Contains(got, ErrPermission.Error()) || !strings.Contains(got, "runs as uid 65534") {
		t.Fatalf("a third user: %s", got)
	}
	t.Log(got)
	if !j.alive() {
		t.Fatal("the JVM died")
	}
	// The JVM's side refuses too: with its listener up (root starts it),
	// the third user cannot connect to the socket.
	mustRun(t, j.pid, Jcmd("VM.uptime"))
	if got := asUser(t, 1234, 1234, "raw-connect", env...); !strings.Contains(got, "permission denied") {
		t.Fatalf("a third user's connect: %s", got)
	}
}

func TestOtherPidNamespace(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	j := startJVM(t, jvmOpts{unshare: true})
	tg, err := Inspect(j.pid)
	if err != nil {
		t.Fatal(err)
	}
	if tg.NSPid != 1 || tg.PID == 1 {
		t.Fatalf("java in its own pid namespace: pid %d, NSpid %d", tg.PID, tg.NSPid)
	}
	// Its /tmp is not ours: the socket is only in its own.
	if _, err := os.Stat("/tmp/.java_pid1"); err == nil {
		t.Fatal("/tmp/.java_pid1 exists outside the JVM's mount namespace")
	}
	out := mustRun(t, j.pid, Jcmd("Thread.print"))
	if !strings.Contains(out, `"main"`) {
		t.Errorf("Thread.print:\n%s", out)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/tmp/.java_pid1", j.pid)); err != nil {
		t.Errorf("the socket is not in the JVM's /tmp: %v", err)
	}
	if _, err := os.Stat("/tmp/.java_pid1"); err == nil {
		t.Error("the socket is in our /tmp")
	}
}

// Two JVMs in sibling pid namespaces that share our /tmp are both pid 1
// there, so both name their attach socket /tmp/.java_pid1. An attach to
// the second must not reach the first, whose socket is there already, but
// say so; the first is still reached.
func TestSharedTmpOtherJVM(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	if _, err := os.Lstat("/tmp/.java_pid1"); err == nil {
		t.Skip("/tmp/.java_pid1 exists already")
	}
	t.Cleanup(func() { os.Remove("/tmp/.java_pid1") }) // after both JVMs stopped
	// Both started first: a JVM removes a socket of its name when it starts.
	first := startJVM(t, jvmOpts{unshare: true, sharedTmp: true})
	second := startJVM(t, jvmOpts{unshare: true, sharedTmp: true})
	mustRun(t, first.pid, Jcmd("VM.uptime")) // its listener binds /tmp/.java_pid1
	out, err := run(t, second.pid, Jcmd("VM.uptime"))
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), fmt.Sprintf("served by pid %d", first.pid)) {
		t.Fatalf("attach to the second JVM: %v (output %q), want a refusal naming the first, pid %d", err, out, first.pid)
	}
	mustRun(t, first.pid, Jcmd("VM.uptime"))
}

func TestBadRequest(t *testing.T) {
	for _, r := range []Request{
		{Command: ""},
		{Command: "a-command-name-too-long"},
		{Command: "jcmd", Args: []string{"a", "b", "c", "d"}},
		{Command: "jcmd", Args: []string{strings.Repeat("x", maxArgLen+1)}},
		{Command: "jcmd", Args: []string{"a\x00b"}},
	} {
		if _, err := run(t, os.Getpid(), r); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: want ErrBadRequest, got %v", r.Command, err)
		}
	}
}

// A JVM started with -Xrs does not handle SIGQUIT (it would die of it) and
// starts its listener at boot: attach connects without a signal.
func TestReduceSignalUsage(t *testing.T) {
	j := startJVM(t, jvmOpts{flags: []string{"-Xrs"}})
	tg, err := Inspect(j.pid)
	if err != nil {
		t.Fatal(err)
	}
	if tg.CatchesQuit {
		t.Fatal("a JVM with -Xrs catches SIGQUIT")
	}
	if out := mustRun(t, j.pid, Jcmd("Thread.print")); !strings.Contains(out, `"main"`) {
		t.Errorf("Thread.print:\n%s", out)
	}
	if !j.alive() {
		t.Fatal("the JVM died")
	}
}

// Root without CAP_SYS_PTRACE and CAP_DAC_OVERRIDE (a container's root, or
// less) may not read the JVM's maps or open its 0600 socket; as the JVM's
// user it may. The negative control attaches without the switch.
func TestRootWithoutCapabilities(t *testing.T) {
	needRoot(t)
	j := startJVM(t, jvmOpts{cred: &syscall.Credential{Uid: nobody, Gid: nobody}})
	const drop = "-sys_ptrace,-dac_override,-dac_read_search,-fowner"
	env := []string{childPidEnv + "=" + strconv.Itoa(j.pid)}
	if got := asRootWithout(t, drop, "thread-print", env...); got != "ok" {
		t.Fatalf("root without %s: %s", drop, got)
	}
	got := asRootWithout(t, drop, "thread-print", append(env, "ATTACH_TEST_NOSWITCH=1")...)
	if !strings.Contains(got, ErrPermission.Error()) {
		t.Fatalf("without the switch: %s", got)
	}
	t.Log("without the switch: ", got)
}

// A socket another user put in the JVM's /tmp under the listener's name
// (before the JVM made its own) is refused unconnected: it would answer
// in the JVM's name.
func TestPlantedSocketRefused(t *testing.T) {
	needRoot(t)
	j := startJVM(t, jvmOpts{cred: &syscall.Credential{Uid: nobody, Gid: nobody}})
	path := fmt.Sprintf("/proc/%d/root/tmp/.java_pid%d", j.pid, j.pid)
	// A socket left by an earlier JVM with the same pid (killed before it
	// could remove it) is stale: this JVM has not started its listener yet.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	defer ln.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 1234, 1234); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, j.pid, Jcmd("Thread.print"))
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "uid 1234") {
		t.Fatalf("want ErrPermission naming uid 1234, got %v", err)
	}
	t.Log(err)
	ln.(*net.UnixListener).SetDeadline(time.Now())
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Fatal("the planted socket was connected to")
	}
	// Negative control: once it is gone, the attach works.
	ln.Close()
	if out := mustRun(t, j.pid, Jcmd("Thread.print")); !strings.Contains(out, `"main"`) {
		t.Errorf("Thread.print:\n%s", out)
	}
}

// Concurrent attaches, switched ones among them, all succeed; the
// process's credentials and dumpable flag are as before.
func TestConcurrentAttaches(t *testing.T) {
	needRoot(t)
	own := startJVM(t, jvmOpts{})
	other := startJVM(t, jvmOpts{cred: &syscall.Credential{Uid: nobody, Gid: nobody}})
	before := dumpable()
	errs := make(chan error, 16)
	for i := 0; i < cap(errs); i++ {
		pid := own.pid
		if i%2 == 1 {
			pid = other.pid
		}
		go func() {
			for k := 0; k < 3; k++ {
				out, err := run(t, pid, Jcmd("Thread.print"))
				if err == nil && !strings.Contains(out, `"main"`) {
					err = fmt.Errorf("no main thread in %q", out)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if os.Geteuid() != 0 || dumpable() != before {
		t.Errorf("euid %d, dumpable %d (was %d)", os.Geteuid(), dumpable(), before)
	}
	waitFor(t, 10*time.Second, "no thread with another euid", func() bool {
		return len(foreignThreads()) == 0
	})
}

// A listener whose backlog is full (a busy or stopped JVM with other
// clients queued) is waited for within the bound, not taken for a refusal.
func TestFullBacklogWaits(t *testing.T) {
	j := startJVM(t, jvmOpts{})
	mustRun(t, j.pid, Jcmd("VM.uptime"))
	if err := syscall.Kill(j.pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/proc/%d/root/tmp/.java_pid%d", j.pid, j.pid)
	full := false
	for i := 0; i < 100 && !full; i++ {
		c, err := net.Dial("unix", path)
		switch {
		case err == nil:
			defer c.Close()
		case errors.Is(err, syscall.EAGAIN):
			full = true
		default:
			t.Fatal(err)
		}
	}
	if !full {
		t.Fatal("the backlog never filled")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := Run(ctx, j.pid, Jcmd("Thread.print"), io.Discard)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	t.Log(err)
}

// Another attach to the same JVM may remove its trigger file between this
// attach's create (the file exists) and its look at the file (gone): the
// trigger is then created again, not reported as "file exists" (seen in
// CI with TestConcurrentAttaches). The hook removes the file at exactly
// that point, the first time.
func TestTriggerRemovedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	p := &proc{Target: &Target{PID: 1, NSPid: 4242, UID: uint32(os.Geteuid())}, pidfd: -1}
	name := filepath.Join(dir, p.triggerName())
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	removed := 0
	triggerExists = func() {
		if removed == 0 {
			removed++
			if err := os.Remove(name); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { triggerExists = nil }()
	remove, err := p.createTrigger([]int{fd})
	if err != nil {
		t.Fatalf("the other attach's trigger vanished meanwhile: %v", err)
	}
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("no trigger file after createTrigger: %v", err)
	}
	remove()
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("the trigger this attach created is still there after remove: %v", err)
	}
}
