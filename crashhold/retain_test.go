package crashhold

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher/capture"
)

// With a state dir, a run whose output is over the memory budget gives up
// its memory copy once it ended, and `holdfast logs` serves it from
// output.log, byte for byte; the budget then holds nothing. With a budget
// the output fits in, it stays in memory (the negative control).
func TestRetainMemoryServesFromDisk(t *testing.T) {
	for _, budget := range []int64{8, 1 << 20} {
		cfg := Config{Policy: quickPolicy(), RetainMemory: budget}
		cfg.Policy.MaxRestarts = 2
		h := newHarness(t, cfg, "HF_FAKE=crash-unless-file", "HF_FILE="+filepath.Join(t.TempDir(), "absent"))
		h.waitPhase(state.Held)
		runs := h.records.List()
		if len(runs) != 3 {
			t.Fatalf("runs = %+v, want 3", runs)
		}
		for _, r := range runs {
			want, err := os.ReadFile(filepath.Join(r.Dir, "output.log"))
			if err != nil || !strings.Contains(string(want), "config missing") {
				t.Fatalf("run %d: output.log = %q, %v", r.Run, want, err)
			}
			got, err := logsOf(h, r.Run)
			if err != nil || got != string(want) {
				t.Errorf("budget %d: logs of run %d = %q, %v; want output.log, %q", budget, r.Run, got, err, want)
			}
		}
		used := h.sup.budget.Used()
		if budget == 8 && used != 0 {
			t.Errorf("budget %d: %d bytes of output held in memory in the hold, want 0", budget, used)
		}
		if budget > 8 && used == 0 {
			t.Errorf("budget %d: nothing held in memory; the runs' output fits, so the test above proves nothing", budget)
		}
	}
}

// Without a writable state dir, older runs' output is dropped to keep the
// budget, the newest run's is kept, and `holdfast logs` of a dropped run
// says why.
func TestRetainMemoryDropsOldestWithoutDisk(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	line := "fake app: config missing, failing\n"
	cfg := Config{Policy: quickPolicy(), RetainMemory: int64(len(line)) + 4, StateDir: filepath.Join(file, "state")}
	cfg.Policy.MaxRestarts = 3
	h := newHarness(t, cfg, "HF_FAKE=crash-unless-file", "HF_FILE="+filepath.Join(t.TempDir(), "absent"))
	h.waitPhase(state.Held)
	runs := h.records.List()
	if len(runs) != 4 || runs[0].Dir != "" {
		t.Fatalf("runs = %+v, want 4 kept in memory", runs)
	}
	if got, err := logsOf(h, runs[3].Run); err != nil || got != line {
		t.Errorf("logs of the newest run = %q, %v; want %q", got, err, line)
	}
	for _, r := range runs[:3] {
		_, err := logsOf(h, r.Run)
		if !errors.Is(err, capture.ErrDropped) || !strings.Contains(err.Error(), "--retain-memory") {
			t.Errorf("logs of run %d: %v; want it dropped for --retain-memory", r.Run, err)
		}
	}
	if used := h.sup.budget.Used(); used > cfg.RetainMemory {
		t.Errorf("%d bytes held, budget %d", used, cfg.RetainMemory)
	}
}
