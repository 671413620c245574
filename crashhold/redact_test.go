package crashhold

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/runrec"
)

// The app's argv is stored and shown with secret values hidden (internal/redact);
// only the app's exec gets it as it is.
func TestRecordsRedactCommand(t *testing.T) {
	state := t.TempDir()
	r := runrec.Open(state, 20, nil)
	argv := []string{"java", "--spring.datasource.password=hunter2", "-jar", "app.jar"}
	rec := r.Begin(argv, 1, 0, time.Now())
	want := []string{"java", "--spring.datasource.password=***", "-jar", "app.jar"}
	if !slices.Equal(rec.Command, want) {
		t.Errorf("Begin stored %q, want %q", rec.Command, want)
	}
	if argv[1] != "--spring.datasource.password=hunter2" {
		t.Errorf("Begin changed the caller's argv: %q", argv)
	}
	b, err := os.ReadFile(filepath.Join(rec.Dir, "run.json"))
	if err != nil || strings.Contains(string(b), "hunter2") {
		t.Errorf("run.json (%v) shows the secret:\n%s", err, b)
	}

	// A record an older holdfast wrote unredacted is hidden when listed.
	old := filepath.Join(state, "runs", "7")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "run.json"), []byte(`{"run":7,"command":["app","--token","t0ps3cret"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Supervisor{d: Deps{Records: r}}
	listed := false
	for _, got := range s.Runs() {
		if slices.Contains(got.Command, "t0ps3cret") || slices.Contains(got.Command, "hunter2") {
			t.Errorf("Runs shows run %d's command %q", got.Run, got.Command)
		}
		listed = listed || got.Run == 7 && slices.Equal(got.Command, []string{"app", "--token", "***"})
	}
	if !listed {
		t.Errorf("Runs does not list run 7 with its command redacted: %+v", s.Runs())
	}
}
