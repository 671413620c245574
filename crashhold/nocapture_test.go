package crashhold

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// With NoCapture (--capture=false) the app writes to holdfast's own stdout and
// stderr: the run is recorded and held as usual, but no output.log is made,
// `holdfast logs` says why, and the hold banner points at kubectl logs. The
// captured run is the control: the same app, with its output kept.
func TestNoCapture(t *testing.T) {
	for _, noCapture := range []bool{false, true} {
		name := "captured"
		if noCapture {
			name = "not-captured"
		}
		t.Run(name, func(t *testing.T) {
			cfg := Config{Policy: quickPolicy(), NoCapture: noCapture}
			cfg.Policy.MaxRestarts = 0
			h := newHarness(t, cfg, "HF_FAKE=crash-unless-file", "HF_FILE="+filepath.Join(t.TempDir(), "absent"))
			h.waitPhase(state.Held)
			runs := h.records.List()
			if len(runs) != 1 || runs[0].ExitCode == nil || *runs[0].ExitCode != 3 {
				t.Fatalf("runs = %+v, want one that exited 3", runs)
			}
			logPath := filepath.Join(runs[0].Dir, "output.log")
			got, logsErr := logsOf(h, runs[0].Run)
			waitOutput(t, h, "APP HELD")
			banner := h.consoleErr()
			if !noCapture {
				if b, err := os.ReadFile(logPath); err != nil || !contains(string(b), "config missing") {
					t.Errorf("output.log = %q, %v; want the app's stderr", b, err)
				}
				if logsErr != nil || !contains(got, "config missing") {
					t.Errorf("logs = %q, %v; want the app's stderr", got, logsErr)
				}
				if n := logBytes(h); n == 0 {
					t.Error("no log bytes counted for a captured run")
				}
				if !contains(banner, "holdfast logs --tail") || contains(banner, "--capture=false") {
					t.Errorf("banner does not point at holdfast logs:\n%s", banner)
				}
				return
			}
			if _, err := os.Stat(logPath); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("output.log: %v; want none with NoCapture", err)
			}
			if logsErr == nil || !contains(logsErr.Error(), "--capture=false") {
				t.Errorf("logs = %q, %v; want an error naming --capture=false", got, logsErr)
			}
			if !contains(banner, "no output.log: --capture=false") || !contains(banner, "kubectl logs") || contains(banner, "holdfast logs --tail") {
				t.Errorf("banner does not say the output was not kept:\n%s", banner)
			}
			if n := logBytes(h); n != 0 {
				t.Errorf("log bytes counted = %d, want 0 (nothing was relayed)", n)
			}
		})
	}
}

func logBytes(h *harness) uint64 {
	return h.store.Counters.LogBytesStdout.Load() + h.store.Counters.LogBytesStderr.Load()
}

func logsOf(h *harness, run int) (string, error) {
	b, _, err := h.sup.Logs(context.Background(), run, false)
	return string(b), err
}
