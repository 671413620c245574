package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// startOwnCopy runs holdfast as PID 1 from a private copy of the binary.
// The kernel pages out only pages no other process maps, and every other
// test's holdfast maps the shared binary.
func startOwnCopy(t *testing.T, args ...string) *hf {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "holdfast")
	// Synced (dirty page-cache pages cannot be paged out), and no "text file busy".
	if err := hfrun.CopyExecutable(holdfastBin, bin); err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	prog := append(append([]string{bin}, defaultArgs(stateDir)...), args...)
	return start(t, spec{pid1: true, prog: prog, stateDir: stateDir})
}

// exeRssKB sums the resident kB of the read-only mappings of pid's own
// binary (/proc/<pid>/smaps): the pages --trim-memory gives back.
func exeRssKB(pid int) (int, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return 0, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: address perms offset dev inode [path].
			in = len(fields) >= 6 && strings.Join(fields[5:], " ") == exe && fields[1][1] != 'w'
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, _ := strconv.Atoi(fields[1])
			total += kb
		}
	}
	return total, sc.Err()
}

// TestTrimMemory: with --trim-memory, once the app has run for a second,
// holdfast (PID 1) gives back most of its binary's resident pages, and goes
// on working: it still answers, forwards a signal and exits with the app's
// code. The holdfast started first without the flag is the control: trimming
// is opt-in, so it has run at least as long and keeps its pages. Each runs
// its own copy of the binary.
func TestTrimMemory(t *testing.T) {
	t.Parallel()
	keep := startOwnCopy(t, "--", "sleep", "1000")
	keep.waitOutput(t, "from=starting to=running", hfrun.WaitLong)
	trim := startOwnCopy(t, "--trim-memory", "--", "sleep", "1000")
	trim.waitOutput(t, "from=starting to=running", hfrun.WaitLong)
	keepPid, trimPid := keep.pid(t), trim.pid(t)

	var kept, trimmed int
	hfrun.WaitFor(t, hfrun.WaitLong, "holdfast to give back its start-up pages (resident binary pages at most half the control's)", func() bool {
		var err1, err2 error
		kept, err1 = exeRssKB(keepPid)
		trimmed, err2 = exeRssKB(trimPid)
		return err1 == nil && err2 == nil && kept > 0 && trimmed*2 <= kept
	}, func() string { return fmt.Sprintf("trimmed %d kB, control %d kB", trimmed, kept) })
	t.Logf("resident pages of holdfast's binary: %d kB trimmed, %d kB without --trim-memory", trimmed, kept)
	if kept < 2048 {
		t.Errorf("the control holds only %d kB of its binary resident; the comparison means nothing", kept)
	}

	// Still a working init after the trim: it forwards a signal and exits
	// with the app's status.
	trim.signal(t, 15)
	if code := trim.waitExit(t, hfrun.WaitLong); code != 143 {
		t.Errorf("trimmed holdfast exited %d after SIGTERM, want 143\n%s", code, trim.stderr)
	}
	// The control kept its pages all along.
	if now, err := exeRssKB(keepPid); err != nil || now*2 <= kept {
		t.Errorf("the control (no --trim-memory) has %d kB of its binary resident (%v), down from %d kB", now, err, kept)
	}
}
