package offline

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/runrec"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A state dir with two runs, a broken record, a link posing as a run and
// a link posing as run 2's output: the records are read, the links never
// followed.
func TestRunsAndOutput(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	write(t, outside, "outside\n")
	write(t, filepath.Join(dir, "runs/1/run.json"), `{"run":1,"command":["java","-Dpw.password=x","-jar","a.jar"],"reason":"startup-crash","decision":"restart","artifacts":[{"name":"output.log","kind":"output","size":3}]}`)
	write(t, filepath.Join(dir, "runs/1/output.log"), "one\n")
	write(t, filepath.Join(dir, "runs/2/run.json"), `{"run":2,`)
	if err := os.Symlink(outside, filepath.Join(dir, "runs/2/output.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, "runs/3")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "runs/04/run.json"), `{}`)

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Run != 1 || runs[1].Run != 2 {
		t.Fatalf("runs = %+v, want runs 1 and 2", runs)
	}
	if r := runs[0]; r.Reason != "startup-crash" || strings.Contains(strings.Join(r.Command, " "), "password=x") ||
		r.Dir != filepath.Join(dir, "runs", "1") || len(r.Artifacts) != 1 {
		t.Errorf("run 1 = %+v; want its record, redacted, with its dir", r)
	}
	if r := runs[1]; r.Reason != runrec.Unknown || r.Artifacts == nil {
		t.Errorf("run 2 = %+v; want reason unknown", r)
	}

	f, n, err := s.Output(0)
	if err == nil {
		f.Close()
		t.Fatalf("the newest run's output is a link, but it was opened (run %d)", n)
	}
	f, n, err = s.Output(1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if n != 1 || string(b) != "one\n" {
		t.Errorf("run 1's output = %q (run %d)", b, n)
	}
	if _, _, err := s.Output(3); err == nil || !strings.Contains(err.Error(), "no run 3 is kept") {
		t.Errorf("run 3 (a link): %v", err)
	}
}

// A missing state dir, a file and a dir without runs/ are clear
// errors.
func TestOpenErrors(t *testing.T) {
	base := t.TempDir()
	write(t, filepath.Join(base, "file"), "x")
	os.Mkdir(filepath.Join(base, "empty"), 0o755)
	for name, want := range map[string]string{
		"missing": "no such file or directory",
		"file":    "not a directory",
		"empty":   "holds no runs/ directory",
	} {
		_, err := Open(filepath.Join(base, name))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Join(base, name)) {
			t.Errorf("%s: %v; want an error naming the dir and %q", name, err, want)
		}
	}
}
