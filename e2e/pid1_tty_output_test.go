package e2e

// holdfast on a terminal (docker run -it): the app gets the terminal for each of its
// output streams where holdfast has one, as under tini (isatty is true, so programs keep
// their colours and line buffering). Such a stream is not kept: output.log and
// `holdfast logs` start with a note naming it and keep the other stream. script(1) gives
// holdfast the terminal.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

const (
	ttyLogLine = "holdfast keeps no copy of that stream"
	ttyNoteOut = "[holdfast: the app's stdout went straight to holdfast's terminal and is not kept]\n"
	ttyNoteAll = "[holdfast: the app's stdout and stderr went straight to holdfast's terminal and are not kept]\n"
)

func TestTerminalOutputPassedThrough(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		stderrToFile bool   // holdfast's stderr is a file, not the terminal
		isatty       string // what the app reports
		logFile      string // output.log of each run
	}{
		{"stdout and stderr", false, "isatty 0=true 1=true 2=true", ttyNoteAll},
		{"stdout only", true, "isatty 0=true 1=true 2=false", ttyNoteOut + "stderr-line\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stateDir := t.TempDir()
			errFile := filepath.Join(t.TempDir(), "stderr")
			argv := append([]string{"unshare", "--pid", "--fork", "--mount-proc", "--kill-child", holdfastBin},
				defaultArgs(stateDir)...)
			// Two runs, then held: the hand-over is logged once, the note is in both.
			argv = append(argv, "--hold=true", "--max-restarts=1", "--backoff=10ms", "--", selfExe, "3")
			quoted := make([]string, len(argv))
			for i, a := range argv {
				quoted[i] = shellQuote(a)
			}
			cmdline := strings.Join(quoted, " ")
			if tc.stderrToFile {
				cmdline += " 2>" + shellQuote(errFile)
			}
			h, _ := startInPtySh(t, []string{fakeEnv + "=isatty"}, cmdline)
			all := func() string {
				b, _ := os.ReadFile(errFile)
				return h.output() + string(b)
			}
			hfrun.WaitFor(t, hfrun.WaitLong, "holdfast to hold after two runs", func() bool {
				return strings.Contains(all(), "APP HELD")
			}, all)
			// The app writes to the terminal itself, holdfast's banner may go to a file:
			// the banner does not say the terminal's bytes have been read yet.
			hfrun.WaitFor(t, hfrun.WaitLong, "the second run's line on the terminal", func() bool {
				return strings.Count(all(), tc.isatty) >= 2
			}, all)

			out := all()
			if n := strings.Count(out, tc.isatty); n != 2 {
				t.Errorf("the app said %q %d times; want once per run (2):\n%s", tc.isatty, n, out)
			}
			if n := strings.Count(out, ttyLogLine); n != 1 {
				t.Errorf("holdfast logged the terminal hand-over %d times over two runs; want once:\n%s", n, out)
			}
			if tc.stderrToFile {
				// Whole lines: the hold banner's why quotes the last one.
				if b, _ := os.ReadFile(errFile); hfrun.CountLines(string(b), "stderr-line") != 2 {
					t.Errorf("holdfast's stderr (a file) lacks the app's stderr line of both runs:\n%s", b)
				}
			}
			for run := 1; run <= 2; run++ {
				dir := hfrun.RunDir(stateDir, run)
				b, err := os.ReadFile(filepath.Join(dir, "output.log"))
				if err != nil || string(b) != tc.logFile {
					t.Errorf("run %d: output.log %q (%v); want %q", run, b, err, tc.logFile)
				}
				if _, err := os.Stat(filepath.Join(dir, "run.json")); err != nil {
					t.Errorf("run %d: run.json: %v; the run must be recorded", run, err)
				}
			}
			logsOut, logsErr, code := runCLI(t, stateDir, "logs")
			if code != 0 || logsOut != tc.logFile {
				t.Errorf("holdfast logs exited %d: %q %q; want 0 and %q", code, logsOut, logsErr, tc.logFile)
			}
			if _, errOut, code := runCLI(t, stateDir, "release"); code != 0 {
				t.Fatalf("holdfast release exited %d: %s", code, errOut)
			}
			if code := h.waitExit(t, hfrun.WaitLong); code != 3 {
				t.Errorf("holdfast (through script) exited %d after release, want the app's 3", code)
			}
		})
	}
}

// TestTerminalOutputNegativeControl: without a terminal nothing changes. The app's
// streams are holdfast's relay pipes, both are kept, and there is no note and no log line.
func TestTerminalOutputNegativeControl(t *testing.T) {
	t.Parallel()
	h := startPID1(t, []string{fakeEnv + "=isatty"}, "--hold=true", "--max-restarts=0", "--", selfExe, "3")
	h.waitOutput(t, "APP HELD", hfrun.WaitLong)
	if out := h.output(); !strings.Contains(out, "isatty 0=false 1=false 2=false\n") || strings.Contains(out, ttyLogLine) {
		t.Errorf("without a terminal: want the app to see none and no hand-over logged; output:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(hfrun.RunDir(h.stateDir, 1), "output.log"))
	if log := string(b); err != nil || !strings.Contains(log, "isatty 0=false 1=false 2=false\n") ||
		!strings.Contains(log, "stderr-line\n") || strings.Contains(log, "[holdfast:") {
		t.Errorf("output.log %q (%v); want both of the app's lines and no note", b, err)
	}
	if _, errOut, code := runCLI(t, h.stateDir, "release"); code != 0 {
		t.Fatalf("holdfast release exited %d: %s", code, errOut)
	}
	if code := h.waitExit(t, hfrun.WaitLong); code != 3 {
		t.Errorf("holdfast exited %d after release, want the app's 3", code)
	}
}
