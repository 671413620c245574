package e2e

// The fake app: holdfast runs this test binary with HOLDFAST_E2E_FAKE=<mode> (the
// environment passes through holdfast unchanged) and TestMain hands over to fakeMain
// before anything else. Each mode is one behaviour a test needs; files and settings come
// in HOLDFAST_E2E_* variables so that argv stays free for the argv test.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const (
	fakeEnv      = "HOLDFAST_E2E_FAKE"      // the mode
	fakeSigFile  = "HOLDFAST_E2E_SIGFILE"   // signals, grandchild: one signal name per line
	fakeIgnore   = "HOLDFAST_E2E_IGNORE"    // signals, grandchild: names recorded but never exited on
	fakeExitOn   = "HOLDFAST_E2E_EXIT_ON"   // signals: names exited on with 128+n (default TERM,INT)
	fakeOut      = "HOLDFAST_E2E_OUT"       // dump: the JSON file
	fakeDir      = "HOLDFAST_E2E_DIR"       // family: where grandchildren write
	fakeRelease  = "HOLDFAST_E2E_RELEASE"   // leaf: exit once this file exists
	fakeLeafSecs = "HOLDFAST_E2E_LEAF_SECS" // orphan-middle without a release file: leaves are `sleep <this>`
	fakeMarker   = "HOLDFAST_E2E_MARKER"    // marker: the file to create
	fakeBlocked  = "HOLDFAST_E2E_BLOCKED"   // sigmask-launcher: names to block
	fakeIgnored  = "HOLDFAST_E2E_IGNORED"   // sigmask-launcher: names to set to SIG_IGN
)

// fakeMain runs mode with args (argv after argv[0]) and returns the exit code.
func fakeMain(mode string, args []string) int {
	switch mode {
	case "exit": // exit N
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return fakeFail("bad exit code %q", args[0])
		}
		return n
	case "ready": // print "ready", then live with Go's default signal handling
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "signals":
		return fakeSignals()
	case "dump":
		return fakeDump()
	case "isatty": // isatty N: say which of fds 0, 1, 2 are terminals, a line on stderr, exit N
		fmt.Printf("isatty 0=%v 1=%v 2=%v\n", isatty(0), isatty(1), isatty(2))
		fmt.Fprintln(os.Stderr, "stderr-line")
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return fakeFail("bad exit code %q", args[0])
		}
		return n
	case "echo": // one stdin line to stdout and stderr
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		line = strings.TrimSuffix(line, "\n")
		fmt.Fprintf(os.Stdout, "out:%s\n", line)
		fmt.Fprintf(os.Stderr, "err:%s\n", line)
		return 0
	case "orphans":
		return fakeOrphans(args)
	case "orphan-middle": // start N leaves and exit at once: they become orphans
		n, _ := strconv.Atoi(args[0])
		for i := 0; i < n; i++ {
			// A leaf that waits for the release file is this binary; a short-lived one
			// is sleep(1), much cheaper to start 2,000 times on a loaded box.
			cmd := exec.Command(selfPath(), "leaf")
			cmd.Env = fakeEnvWith("leaf")
			if os.Getenv(fakeRelease) == "" {
				cmd = exec.Command("sleep", os.Getenv(fakeLeafSecs))
			}
			if err := cmd.Start(); err != nil {
				return fakeFail("cannot start leaf: %v", err)
			}
		}
		return 0
	case "leaf":
		return fakeLeaf()
	case "noreap-init":
		return fakeNoReapInit(args)
	case "family":
		return fakeFamily(args)
	case "grandchild":
		return fakeGrandchild()
	case "flood": // flood N: write N bytes of numbered lines to stdout, then exit 1
		return fakeFlood(args)
	case "marker":
		if err := os.WriteFile(os.Getenv(fakeMarker), []byte("started\n"), 0o644); err != nil {
			return fakeFail("cannot create marker: %v", err)
		}
		return 0
	case "sigmask-launcher":
		return fakeSigmaskLauncher(args)
	case "pgid-launcher":
		return fakePgidLauncher(args)
	case "forged-control":
		return fakeForgedControl(args)
	case "listen-late": // listen-late DELAY ADDR: wait, create the marker, listen on ADDR (readiness_test.go)
		return fakeListenLate(args)
	case "crash-late": // crash-late DELAY: exit 1 after DELAY, never listening (readiness_test.go)
		d, err := time.ParseDuration(args[0])
		if err != nil {
			return fakeFail("bad delay %q", args[0])
		}
		time.Sleep(d)
		fmt.Fprintln(os.Stderr, "fake app: failing before it listens")
		return 1
	case "crash-unless-marker": // exit 1 at once unless $HOLDFAST_E2E_MARKER exists; else live (durable_test.go)
		if _, err := os.Stat(os.Getenv(fakeMarker)); err != nil {
			fmt.Fprintln(os.Stderr, "fake app: not configured, failing at startup")
			return 1
		}
		fmt.Println("fake app: configured, up")
		for {
			time.Sleep(time.Hour)
		}
	case "plant-next": // statedir_test.go
		return fakePlantNext()
	case "plant-spin":
		return fakePlantSpin(args)
	}
	return fakeFail("unknown mode %q", mode)
}

func fakeFail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "fake app: "+format+"\n", a...)
	return 99
}

func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return p
}

// fakeEnvWith is this process's environment with the mode replaced.
func fakeEnvWith(mode string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, fakeEnv+"=") {
			env = append(env, kv)
		}
	}
	return append(append(env, fakeEnv+"="+mode), extra...)
}

// appendLine appends one line to path with a single write(2), so concurrent writers
// never interleave.
func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fake app: cannot open %s: %v\n", path, err)
		return
	}
	defer f.Close()
	_, _ = f.Write([]byte(line + "\n"))
}

// sigSet parses a comma-separated list of signal names.
func sigSet(list string) map[syscall.Signal]bool {
	set := map[syscall.Signal]bool{}
	for _, n := range strings.Split(list, ",") {
		if s, ok := parseSig(strings.TrimSpace(n)); ok {
			set[s] = true
		}
	}
	return set
}

// catchable is every signal a program can catch, including the ones holdfast must not
// forward (CHLD, URG, PIPE), so that a wrongly forwarded one is seen.
func catchable() []os.Signal {
	var sigs []os.Signal
	for s := syscall.Signal(1); s <= sigRTMax; s++ {
		if s == syscall.SIGKILL || s == syscall.SIGSTOP || s == 32 || s == 33 {
			continue
		}
		sigs = append(sigs, s)
	}
	return sigs
}

// fakeSignals records every signal it gets to $HOLDFAST_E2E_SIGFILE and prints
// "got <NAME>"; on a signal in EXIT_ON (default TERM,INT) and not in IGNORE it exits
// with 128+n.
func fakeSignals() int {
	// The Go runtime preempts goroutines with SIGURG sent to itself, which
	// signal.Notify would report as if holdfast had forwarded it. Turn that off.
	if !strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") {
		env := append(os.Environ(), "GODEBUG=asyncpreemptoff=1")
		err := syscall.Exec(selfPath(), os.Args, env)
		return fakeFail("cannot re-exec with asyncpreemptoff: %v", err)
	}
	file := os.Getenv(fakeSigFile)
	ignore := sigSet(os.Getenv(fakeIgnore))
	exitOn := sigSet("TERM,INT")
	if v, ok := os.LookupEnv(fakeExitOn); ok {
		exitOn = sigSet(v)
	}
	c := make(chan os.Signal, 1024)
	signal.Notify(c, catchable()...)
	fmt.Printf("pid=%d pgid=%d tcpgrp=%d\n", os.Getpid(), syscall.Getpgrp(), tcgetpgrp(0))
	fmt.Println("ready")
	for s := range c {
		sig := s.(syscall.Signal)
		if file != "" {
			appendLine(file, signame(sig))
		}
		fmt.Printf("got SIG%s\n", signame(sig))
		if exitOn[sig] && !ignore[sig] {
			return 128 + int(sig)
		}
	}
	return 0
}

// isatty reports whether fd is a terminal (tcgetattr succeeds), as isatty(3).
func isatty(fd int) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// tcgetpgrp returns the foreground process group of the terminal on fd, or -1.
func tcgetpgrp(fd int) int {
	var pgrp int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	if errno != 0 {
		return -1
	}
	return int(pgrp)
}

// dumpRecord is what the dump mode writes. []byte fields are base64 in JSON, so
// non-UTF-8 bytes survive.
type dumpRecord struct {
	Args            [][]byte // argv, including argv[0]
	Env             [][]byte
	Cwd             []byte
	Pid, Ppid, Pgid int
}

func fakeDump() int {
	cwd := make([]byte, 4096)
	n, err := syscall.Getcwd(cwd)
	if err != nil {
		return fakeFail("cannot getcwd: %v", err)
	}
	rec := dumpRecord{Cwd: cwd[:n-1], Pid: os.Getpid(), Ppid: os.Getppid(), Pgid: syscall.Getpgrp()}
	for _, a := range os.Args {
		rec.Args = append(rec.Args, []byte(a))
	}
	for _, kv := range os.Environ() {
		rec.Env = append(rec.Env, []byte(kv))
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fakeFail("cannot encode: %v", err)
	}
	if err := os.WriteFile(os.Getenv(fakeOut), b, 0o644); err != nil {
		return fakeFail("cannot write dump: %v", err)
	}
	return 0
}

// fakeOrphans makes N orphans in batches of B: each batch is a middle process that
// starts B leaves and exits, so the leaves are reparented to the nearest reaper (PID 1
// or a subreaper). Then it prints "orphans done" and keeps running.
func fakeOrphans(args []string) int {
	n, _ := strconv.Atoi(args[0])
	batch, _ := strconv.Atoi(args[1])
	for made := 0; made < n; made += batch {
		k := min(batch, n-made)
		cmd := exec.Command(selfPath(), strconv.Itoa(k))
		cmd.Env = fakeEnvWith("orphan-middle")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fakeFail("cannot run orphan-middle: %v", err)
		}
	}
	fmt.Printf("orphans done %d\n", n)
	for {
		time.Sleep(time.Hour)
	}
}

// fakeLeaf lives until $HOLDFAST_E2E_RELEASE exists (at most 2 minutes).
func fakeLeaf() int {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(os.Getenv(fakeRelease)); err == nil {
			return 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// fakeNoReapInit is the negative control of the reaping tests: an init (or subreaper)
// that starts args[1:] as fake-app mode args[0] and never calls wait, so orphans stay
// zombies.
func fakeNoReapInit(args []string) int {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fakeFail("cannot become a subreaper: %v", errno)
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Env = fakeEnvWith(args[0])
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fakeFail("cannot start %v: %v", args, err)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// fakeFamily starts one grandchild per arg "name[:setsid][:ignore]", waits until each
// wrote "ready" to $HOLDFAST_E2E_DIR/<name>.sig, records its own exit time in
// app.exit (unix nanoseconds) and exits 0 without waiting for them.
func fakeFamily(args []string) int {
	dir := os.Getenv(fakeDir)
	for _, a := range args {
		parts := strings.Split(a, ":")
		cmd := exec.Command(selfPath())
		env := []string{fakeSigFile + "=" + filepath.Join(dir, parts[0]+".sig"), fakeIgnore + "="}
		cmd.SysProcAttr = &syscall.SysProcAttr{}
		for _, p := range parts[1:] {
			switch p {
			case "setsid":
				cmd.SysProcAttr.Setsid = true
			case "ignore":
				env = append(env, fakeIgnore+"=TERM")
			}
		}
		cmd.Env = fakeEnvWith("grandchild", env...)
		if err := cmd.Start(); err != nil {
			return fakeFail("cannot start grandchild %s: %v", a, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, a := range args {
		name, _, _ := strings.Cut(a, ":")
		for {
			b, _ := os.ReadFile(filepath.Join(dir, name+".sig"))
			if strings.Contains(string(b), "ready\n") {
				break
			}
			if time.Now().After(deadline) {
				return fakeFail("grandchild %s never got ready", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	fmt.Println("family ready")
	appendLine(filepath.Join(dir, "app.exit"), strconv.FormatInt(time.Now().UnixNano(), 10))
	return 0
}

// fakeGrandchild writes "ready", records TERM/INT/HUP; on TERM (unless ignored) it
// takes 300 ms to clean up, writes "bye" and exits 0, so a test can tell whether
// holdfast waited for it.
func fakeGrandchild() int {
	file := os.Getenv(fakeSigFile)
	ignore := sigSet(os.Getenv(fakeIgnore))
	c := make(chan os.Signal, 16)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	appendLine(file, "ready")
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case s := <-c:
			sig := s.(syscall.Signal)
			appendLine(file, signame(sig))
			if sig == syscall.SIGTERM && !ignore[sig] {
				time.Sleep(300 * time.Millisecond)
				appendLine(file, "bye")
				return 0
			}
		case <-timeout:
			return 0
		}
	}
}

// fakeSigmaskLauncher execs args with the names in $HOLDFAST_E2E_BLOCKED blocked and
// those in $HOLDFAST_E2E_IGNORED set to SIG_IGN, as a careless launcher (nohup, a shell
// with traps, a JVM) would leave them. The mode variable is dropped on the way.
func fakeSigmaskLauncher(args []string) int {
	runtime.LockOSThread() // the mask is per thread; exec from the one we change
	var set [2]uint32      // a kernel sigset_t, 64 bits
	for s := range sigSet(os.Getenv(fakeBlocked)) {
		set[(s-1)/32] |= 1 << ((s - 1) % 32)
	}
	const sigBlock = 0
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, sigBlock, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0); errno != 0 {
		return fakeFail("cannot block signals: %v", errno)
	}
	for s := range sigSet(os.Getenv(fakeIgnored)) {
		signal.Ignore(s)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, fakeEnv+"=") {
			env = append(env, kv)
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return fakeFail("cannot find %s: %v", args[0], err)
	}
	err = syscall.Exec(path, args, env)
	return fakeFail("cannot exec %v: %v", args, err)
}

// fakePgidLauncher is the negative control of the terminal test: it runs args in a
// new process group but does not make that group the terminal's foreground group.
func fakePgidLauncher(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = fakeEnvWith("signals")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// ^C reaches our group, not the child's: stay alive (caught, not ignored, so the
	// child does not inherit SIG_IGN).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return fakeFail("cannot run %v: %v", args, err)
	}
	return 0
}

// fakeFlood writes n bytes of numbered lines to stdout in 64 KiB writes and
// exits 1: one run of a crash loop that logs a lot before it dies.
func fakeFlood(args []string) int {
	n, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return fakeFail("bad byte count %q", args[0])
	}
	buf := make([]byte, 0, 64<<10+128)
	for line := 0; n > 0; {
		for len(buf) < 64<<10 {
			buf = fmt.Appendf(buf, "flood line %09d ........................................\n", line)
			line++
		}
		k := int(min(int64(len(buf)), n))
		if _, err := os.Stdout.Write(buf[:k]); err != nil {
			return fakeFail("cannot write: %v", err)
		}
		n -= int64(k)
		buf = buf[:0]
	}
	return 1
}
