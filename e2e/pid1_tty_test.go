package e2e

// holdfast with a terminal: the app's process group must be the terminal's foreground
// group, so a ^C typed at the terminal reaches the app. script(1) gives the command a
// pty; the test types into script's stdin through a pipe.

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// shellQuote quotes s for sh -c.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startInPty runs argv on a fresh pty through `script -qec`; the returned file is the
// pty's input (write ^C there). Cleanup SIGKILLs everything below script as well: a
// process in a background group of the pty outlives script's exit.
func startInPty(t *testing.T, env []string, argv ...string) (*hf, *os.File) {
	t.Helper()
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return startInPtySh(t, env, strings.Join(quoted, " "))
}

// startInPtySh is startInPty for a sh command line (redirections allowed).
func startInPtySh(t *testing.T, env []string, cmdline string) (*hf, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, spec{env: env, stdin: r, prog: []string{"script", "-qec", cmdline, "/dev/null"}})
	r.Close()
	t.Cleanup(func() {
		w.Close()
		killTree(h.cmd.Process.Pid)
	})
	return h, w
}

// killTree SIGKILLs every descendant of pid (not pid itself), deepest first.
func killTree(pid int) {
	for _, c := range children(pid) {
		killTree(c)
		// c may have been reaped since the listing and its number reused: signal it
		// only through a pidfd of a process that is still pid's child.
		if p, err := pidfdOfChild(pid, c); err == nil {
			_ = p.Kill()
			_ = p.Release()
		}
	}
}

var pgrpLine = regexp.MustCompile(`pid=(\d+) pgid=(-?\d+) tcpgrp=(-?\d+)`)

// foreground waits for the signals app's "pid= pgid= tcpgrp=" line.
func foreground(t *testing.T, h *hf) (pid, pgid, tcpgrp int) {
	t.Helper()
	var m []string
	hfrun.WaitFor(t, hfrun.WaitLong, "the app to print its process group and the terminal's", func() bool {
		m = pgrpLine.FindStringSubmatch(h.stdout.String())
		return m != nil && strings.Contains(h.stdout.String(), "ready")
	}, func() string { return "output:\n" + h.output() })
	fmt.Sscan(m[1], &pid)
	fmt.Sscan(m[2], &pgid)
	fmt.Sscan(m[3], &tcpgrp)
	return pid, pgid, tcpgrp
}

func TestTerminalForegroundAndCtrlC(t *testing.T) {
	t.Parallel()
	sigs := t.TempDir() + "/signals"
	argv := append([]string{"unshare", "--pid", "--fork", "--mount-proc", "--kill-child", holdfastBin},
		defaultArgs(t.TempDir())...)
	argv = append(argv, "--", selfExe)
	h, tty := startInPty(t, []string{fakeEnv + "=signals", fakeSigFile + "=" + sigs}, argv...)
	_, pgid, tcpgrp := foreground(t, h)
	if tcpgrp == -1 {
		t.Fatalf("the app has no terminal on stdin (tcgetpgrp failed); output:\n%s", h.output())
	}
	if tcpgrp != pgid {
		t.Fatalf("the terminal's foreground group is %d, the app's group is %d: want the app's group in the foreground", tcpgrp, pgid)
	}
	if _, err := tty.Write([]byte{0x03}); err != nil {
		t.Fatalf("cannot type ^C: %v", err)
	}
	if code := h.waitExit(t, hfrun.WaitLong); code != 130 {
		t.Errorf("^C at the terminal: holdfast (through script) exited %d, want 130", code)
	}
	if got := strings.Join(readLines(sigs), " "); got != "INT" {
		t.Errorf("^C at the terminal gave the app %q, want INT exactly once", got)
	}
}

// TestTerminalForegroundNegativeControl shows the check can fail: a launcher that puts
// the app in its own group without handing it the terminal leaves tcgetpgrp != pgid.
func TestTerminalForegroundNegativeControl(t *testing.T) {
	t.Parallel()
	h, _ := startInPty(t, []string{fakeEnv + "=pgid-launcher"}, selfExe, selfExe)
	pid, pgid, tcpgrp := foreground(t, h)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if tcpgrp == -1 || tcpgrp == pgid {
		t.Errorf("under a launcher that does not hand over the terminal: pgid %d tcpgrp %d; want a terminal whose foreground group is not the app's", pgid, tcpgrp)
	}
}
