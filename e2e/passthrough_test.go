package e2e

// --capture=false: the app gets holdfast's own stdout and stderr, as under tini.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// TestCaptureFalsePassesStdioThrough checks that with --capture=false the app's fds 1
// and 2 are holdfast's own (the same pipes: nothing relays them), that every byte
// arrives, that the run is still recorded and held, and that output.log is absent and
// `holdfast logs` says why. The default, capturing run is the control: its fds are
// holdfast's relay pipes and its output is kept.
func TestCaptureFalsePassesStdioThrough(t *testing.T) {
	t.Parallel()
	const big = 1 << 20
	// $$ is the shell, the app itself; /proc/1 is holdfast (PID 1 of the namespace).
	script := fmt.Sprintf(`for fd in 1 2; do echo "fd$fd $(readlink /proc/$$/fd/$fd) $(readlink /proc/1/fd/$fd)"; done
head -c %d /dev/zero | tr '\0' x; echo; echo "err-line" >&2; exit 3`, big)
	for _, capture := range []bool{true, false} {
		t.Run(fmt.Sprintf("capture=%v", capture), func(t *testing.T) {
			t.Parallel()
			h := startPID1(t, nil, "--hold=true", "--max-restarts=0", fmt.Sprintf("--capture=%v", capture), "--", "sh", "-c", script)
			h.waitOutput(t, "APP HELD", hfrun.WaitLong)
			// holdfast's stdout and stderr are separate pipes, copied by separate
			// goroutines of this test: wait for the last bytes of both.
			hfrun.WaitFor(t, hfrun.WaitLong, "the app's stdout and stderr", func() bool {
				return strings.Count(h.stdout.String(), "x") >= big && strings.Contains(h.stderr.String(), "err-line\n")
			})

			out := h.stdout.String()
			for _, fd := range []string{"fd1", "fd2"} {
				app, pid1, ok := ptLinks(out, fd)
				if !ok {
					t.Fatalf("no %s line in stdout:\n%.300s", fd, out)
				}
				if same := app == pid1; same == capture {
					t.Errorf("capture=%v: the app's %s is %s, holdfast's is %s; want them %s", capture, fd, app, pid1,
						map[bool]string{true: "different (a relay pipe)", false: "the same"}[capture])
				}
			}
			if n := strings.Count(out, "x"); n != big {
				t.Errorf("stdout has %d of the app's %d x bytes", n, big)
			}

			logPath := filepath.Join(hfrun.RunDir(h.stateDir, 1), "output.log")
			_, statErr := os.Stat(logPath)
			logsOut, logsErr, logsCode := runCLI(t, h.stateDir, "logs")
			if capture {
				if statErr != nil {
					t.Errorf("output.log: %v; want it kept", statErr)
				}
				if logsCode != 0 || !strings.Contains(logsOut, "err-line\n") || strings.Count(logsOut, "x") != big {
					t.Errorf("holdfast logs exited %d: %d bytes, %.200q; want the app's output", logsCode, len(logsOut), logsErr)
				}
			} else {
				if !errors.Is(statErr, fs.ErrNotExist) {
					t.Errorf("output.log: %v; want none with --capture=false", statErr)
				}
				if logsCode != 1 || !strings.Contains(logsErr, "--capture=false") {
					t.Errorf("holdfast logs exited %d: %.200q %q; want 1 and a line naming --capture=false", logsCode, logsOut, logsErr)
				}
			}
			if _, err := os.Stat(filepath.Join(hfrun.RunDir(h.stateDir, 1), "run.json")); err != nil {
				t.Errorf("run.json: %v; the run must be recorded either way", err)
			}
			if _, errOut, code := runCLI(t, h.stateDir, "release"); code != 0 {
				t.Fatalf("holdfast release exited %d: %s", code, errOut)
			}
			if code := h.waitExit(t, hfrun.WaitLong); code != 3 {
				t.Errorf("holdfast exited %d after release, want the app's 3", code)
			}
		})
	}
}

// ptLinks finds the line "fdN APP PID1" and returns the two link targets.
func ptLinks(out, fd string) (app, pid1 string, ok bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == fd {
			return f[1], f[2], true
		}
	}
	return "", "", false
}
