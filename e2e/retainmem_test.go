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

// The attack of docs/security/memory.md: an app in a crash loop that logs a lot
// before each crash makes holdfast, PID 1, hold every kept run's output in
// memory (557 MB after 8 runs of 100 MB) until the container is OOM-killed
// with all its evidence. With the memory budget (--retain-memory, 8 MiB by
// default) older runs are served from output.log, so after 20 such runs
// holdfast's RSS stays near the budget. HOLDFAST_E2E_FLOOD_MB sets the
// output per run (default 100).
func TestRetainedOutputMemoryBounded(t *testing.T) {
	const runs = 20
	perRun := int64(100)
	if v := os.Getenv("HOLDFAST_E2E_FLOOD_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("HOLDFAST_E2E_FLOOD_MB=%q: want a positive number", v)
		}
		perRun = n
	}
	perRun <<= 20
	h, pid := floodLoop(t, runs, perRun)
	// Every run happened and kept its evidence on disk.
	for n := 1; n <= runs; n++ {
		r := hfrun.ReadRun(t, h.stateDir, n)
		if r.Code() != 1 {
			t.Fatalf("run %d: %+v, want exit code 1", n, r)
		}
	}
	if _, err := os.Stat(hfrun.RunDir(h.stateDir, runs+1)); err == nil {
		t.Fatalf("run %d exists: want a hold after %d runs", runs+1, runs)
	}

	// Held, holdfast keeps the budget at most (a run whose output.log is
	// complete needs no memory copy). While a run is live it still holds up
	// to --log-max-bytes (64 MiB) of it: output.log's tail is written from
	// memory when the run ends. That bounds the peak.
	// holdfast returns freed memory to the kernel 2 s after the last
	// release; the code before never gets there.
	const budgetKB, capKB, slackKB = 8 << 10, 64 << 10, 64 << 10
	rss, hwm := procMemKB(t, pid)
	_ = hfrun.Poll(hfrun.WaitLong, func() bool {
		rss, hwm = procMemKB(t, pid)
		return rss <= budgetKB+slackKB
	})
	t.Logf("holdfast after %d runs of %d MiB: VmRSS %d KiB, VmHWM (peak) %d KiB", runs, perRun>>20, rss, hwm)
	if rss > budgetKB+slackKB {
		t.Errorf("holdfast's RSS after %d runs of %d MiB is %d KiB, want under %d KiB (budget + 64 MiB): the runs' output is held in memory",
			runs, perRun>>20, rss, budgetKB+slackKB)
	}
	if hwm > budgetKB+capKB+slackKB {
		t.Errorf("holdfast's peak RSS over %d runs of %d MiB is %d KiB, want under %d KiB (budget + --log-max-bytes + 64 MiB)",
			runs, perRun>>20, hwm, budgetKB+capKB+slackKB)
	}

	// An old run is served from its output.log, byte for byte.
	for _, n := range []int{1, runs} {
		want := hfrun.ReadFile(t, filepath.Join(hfrun.RunDir(h.stateDir, n), "output.log"))
		out, errOut, code := runCLI(t, h.stateDir, "logs", "--run", strconv.Itoa(n))
		if code != 0 || out != want {
			t.Errorf("holdfast logs --run %d (exit %d, %s): %d bytes, output.log has %d", n, code, errOut, len(out), len(want))
		}
		if cut := perRun > 64<<20; cut != strings.Contains(want, "bytes omitted]") || !strings.HasPrefix(want, "flood line 000000000 ") {
			t.Errorf("run %d's output.log is not head, marker and tail (%d bytes)", n, len(want))
		}
	}
}

// floodLoop runs holdfast as PID 1 over an app that writes perRun bytes and
// crashes, runs times back to back (zero backoff), and returns once
// holdfast holds after the last run.
func floodLoop(t *testing.T, runs int, perRun int64, args ...string) (*hf, int) {
	t.Helper()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devNull.Close() })
	h := start(t, spec{
		pid1:   true,
		stdout: devNull, // gigabytes of the app's output are not for the test's memory
		env:    []string{fakeEnv + "=flood"},
		args: append(append([]string{"--hold=true", "--max-restarts=" + strconv.Itoa(runs-1), "--backoff=0", "--backoff-max=0",
			"--trim-memory=false"}, args...), "--", selfPath(), strconv.FormatInt(perRun, 10)),
	})
	pid := h.pid(t)
	// 20 runs of 100 MB through a relay of ~1 GB/s take seconds; a busy
	// box is given minutes.
	hfrun.WaitFor(t, 4*hfrun.WaitLong, fmt.Sprintf("the hold after %d runs", runs), func() bool {
		return strings.Contains(h.stderr.String(), "APP HELD") || h.exited()
	}, func() string { return h.stderr.String() })
	if h.exited() {
		t.Fatalf("holdfast exited before holding:\n%s", h.stderr)
	}
	return h, pid
}

// Without a writable state dir the budget holds as well: each run's head
// and tail are cut to fit it and older runs' output is dropped, where the
// code before kept up to --log-max-bytes of every run in memory.
func TestRetainedOutputMemoryBoundedNoStateDir(t *testing.T) {
	const runs, perRun = 20, 32 << 20
	// A regular file as the state dir's parent: holdfast cannot create it.
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h, pid := floodLoop(t, runs, perRun, "--state-dir="+filepath.Join(parent, "state"))
	if !strings.Contains(h.stderr.String(), "run 20,") {
		t.Fatalf("the hold is not after run 20:\n%s", h.stderr)
	}
	rss, hwm := procMemKB(t, pid)
	const budgetKB, slackKB = 8 << 10, 64 << 10
	t.Logf("holdfast without a state dir after %d runs of %d MiB: VmRSS %d KiB, VmHWM (peak) %d KiB", runs, perRun>>20, rss, hwm)
	if hwm > budgetKB+slackKB {
		t.Errorf("holdfast's peak RSS over %d runs of %d MiB without a state dir is %d KiB, want under %d KiB (budget + 64 MiB): the runs' output is held in memory",
			runs, perRun>>20, hwm, budgetKB+slackKB)
	}
}

// procMemKB reads VmRSS and VmHWM (the peak) of pid in KiB.
func procMemKB(t *testing.T, pid int) (rss, hwm int) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && (fields[0] == "VmRSS:" || fields[0] == "VmHWM:") {
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			if fields[0] == "VmRSS:" {
				rss = kb
			} else {
				hwm = kb
			}
		}
	}
	if rss == 0 || hwm == 0 {
		t.Fatalf("no VmRSS/VmHWM in /proc/%d/status", pid)
	}
	return rss, hwm
}
