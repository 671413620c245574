package crashhold

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/dumps"
	"github.com/holdfast-dev/holdfast/runrec"
)

// A run's dumps go to its run dir and, once the JVM has one, its jvm/ dir.
// With records in memory there is no run dir: text dumps have nowhere to
// go (the temp evidence dir is the app's user's, who could swap it for a
// link), while the JVM still writes its own files into the evidence dir.
func TestDumpPlace(t *testing.T) {
	r := runrec.Open(t.TempDir(), 5, nil)
	s := &Supervisor{d: Deps{Records: r}}
	rec := r.Begin([]string{"java"}, 1, 0, time.Now())
	if got := s.dumpPlace(rec.Run, ""); got != (dumps.Place{RunDir: rec.Dir}) {
		t.Errorf("before jvm/: %+v", got)
	}
	app, err := r.AppDir(rec.Run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.dumpPlace(rec.Run, ""); got != (dumps.Place{RunDir: rec.Dir, AppDir: app}) {
		t.Errorf("with jvm/: %+v, want %s and %s", got, rec.Dir, app)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mem := runrec.Open(filepath.Join(file, "state"), 5, nil) // cannot be made: memory mode
	s = &Supervisor{d: Deps{Records: mem}}
	rec = mem.Begin([]string{"java"}, 1, 0, time.Now())
	if rec.Dir != "" {
		t.Fatalf("memory mode has run dir %s", rec.Dir)
	}
	if got := s.dumpPlace(rec.Run, "/tmp/evidence"); got != (dumps.Place{AppDir: "/tmp/evidence"}) {
		t.Errorf("memory mode: %+v, want no run dir and the evidence dir for the JVM", got)
	}
}
