package e2e

// A holdfast that is not PID 1 (a subreaper under some other init or supervisor) whose
// parent is SIGKILLed: with --parent-death-signal=TERM the kernel sends it TERM
// (PR_SET_PDEATHSIG, tini's -p) and it stops the app as on TERM; by default nothing
// happens: holdfast is reparented and goes on supervising the app.

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

// orphanable is holdfast started by an intermediate sh (the parent the test kills),
// running the signal recorder.
type orphanable struct {
	parent   *hf
	hfPid    int
	appPid   int
	sigFile  string
	logFile  string
	stateDir string
}

func startOrphanable(t *testing.T, flags ...string) *orphanable {
	t.Helper()
	dir := t.TempDir()
	o := &orphanable{sigFile: filepath.Join(dir, "signals"), logFile: filepath.Join(dir, "holdfast.log"), stateDir: t.TempDir()}
	// holdfast's output goes to a file: the pipe to the test ends with sh. The command
	// after it keeps sh from exec'ing holdfast in its place.
	prog := append([]string{"sh", "-c", `"$@" >"$HF_LOG" 2>&1; echo "holdfast ended: $?"`, "sh", holdfastBin},
		defaultArgs(o.stateDir)...)
	prog = append(append(prog, flags...), "--", selfExe)
	o.parent = start(t, spec{prog: prog, stateDir: o.stateDir,
		env: []string{"HF_LOG=" + o.logFile, fakeEnv + "=signals", fakeSigFile + "=" + o.sigFile}})
	hfrun.WaitFor(t, hfrun.WaitLong, "the app to be ready", func() bool {
		return strings.Contains(o.log(), "ready") || o.parent.exited()
	})
	if !strings.Contains(o.log(), "ready") {
		t.Fatalf("holdfast did not start the app:\n%s\n%s", o.log(), o.parent.output())
	}
	o.hfPid = onlyChild(t, o.parent.cmd.Process.Pid)
	o.appPid = onlyChild(t, o.hfPid)
	// Once orphaned, neither is in the harness's reach: kill what is left.
	for _, pid := range []int{o.appPid, o.hfPid} {
		t.Cleanup(func() {
			if !gone(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
	return o
}

func (o *orphanable) log() string {
	b, _ := os.ReadFile(o.logFile)
	return string(b)
}

func (o *orphanable) signals() []string { return readLines(o.sigFile) }

// killParent SIGKILLs the intermediate sh and waits until holdfast is reparented:
// by then the kernel has sent the parent-death signal, if one was set.
func (o *orphanable) killParent(t *testing.T) {
	t.Helper()
	sh := o.parent.cmd.Process.Pid
	if err := syscall.Kill(sh, syscall.SIGKILL); err != nil {
		t.Fatalf("cannot kill holdfast's parent: %v", err)
	}
	hfrun.WaitFor(t, hfrun.WaitLong, "holdfast to be reparented", func() bool {
		st, err := procStat(o.hfPid)
		return err != nil || st.ppid != sh
	})
}

func onlyChild(t *testing.T, pid int) int {
	t.Helper()
	var kids []int
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("pid %d to have one child", pid), func() bool {
		kids = children(pid)
		return len(kids) == 1
	}, func() string { return fmt.Sprintf("children: %v", kids) })
	return kids[0]
}

// gone: the process has exited (a zombie counts: its new parent may be slow to reap).
func gone(pid int) bool {
	st, err := procState(pid)
	return err != nil || st == "Z"
}

func TestParentDeathSignal(t *testing.T) {
	t.Parallel()
	t.Run("TERM stops the app", func(t *testing.T) {
		t.Parallel()
		o := startOrphanable(t, "--parent-death-signal=TERM")
		o.killParent(t)
		hfrun.WaitFor(t, hfrun.WaitLong, "the app and holdfast to end", func() bool { return gone(o.appPid) && gone(o.hfPid) },
			func() string { return fmt.Sprintf("app recorded %v\n%s", o.signals(), o.log()) })
		if got := slices.DeleteFunc(o.signals(), func(s string) bool { return s == "CONT" }); !slices.Equal(got, []string{"TERM"}) {
			t.Errorf("after its parent died, holdfast with --parent-death-signal=TERM gave the app %v, want [TERM]", o.signals())
		}
		if !strings.Contains(o.log(), `msg="stopping the app" component=supervisor received=SIGTERM`) {
			t.Errorf("holdfast did not log stopping the app on SIGTERM:\n%s", o.log())
		}
	})
	t.Run("default: holdfast and the app keep running", func(t *testing.T) {
		t.Parallel()
		o := startOrphanable(t)
		o.killParent(t)
		// A sentinel after the reparenting: a TERM sent at the parent's death would reach
		// the app no later than this.
		if err := syscall.Kill(o.hfPid, syscall.SIGWINCH); err != nil {
			t.Fatalf("cannot signal holdfast: %v", err)
		}
		hfrun.WaitFor(t, hfrun.WaitLong, "the app to record WINCH", func() bool { return slices.Contains(o.signals(), "WINCH") },
			func() string { return fmt.Sprintf("app recorded %v\n%s", o.signals(), o.log()) })
		if got := o.signals(); !slices.Equal(got, []string{"WINCH"}) || gone(o.appPid) || gone(o.hfPid) {
			t.Errorf("without --parent-death-signal, after its parent died: the app recorded %v (want [WINCH]), app gone %v, holdfast gone %v",
				got, gone(o.appPid), gone(o.hfPid))
		}
		if st := cliStatus(t, o.stateDir); st.Phase != "running" {
			t.Errorf("holdfast status after its parent died: phase %q, want running", st.Phase)
		}
	})
}
