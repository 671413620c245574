package runrec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// run.json's field names are an external interface (`holdfast runs
// --json`, tools reading the state dir): renaming one must fail here.
func TestRunRecordJSONFieldNames(t *testing.T) {
	code := 139
	end := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	b, err := json.Marshal(RunRecord{Run: 3, ExitCode: &code, EndedAt: &end, EvidenceDir: "/tmp/e"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{"artifacts", "attempt", "command", "core_dumped", "decision", "dir", "ended_at",
		"evidence_dir", "exit_code", "pid", "ran_for_seconds", "reason", "run", "signal", "started_at"}
	if !slices.Equal(got, want) {
		t.Errorf("run.json fields = %q, want %q", got, want)
	}
	// evidence_dir is written only when set.
	b, _ = json.Marshal(RunRecord{Run: 1})
	m = nil
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["evidence_dir"]; ok {
		t.Errorf("an empty evidence_dir is written: %s", b)
	}
}

// A run.json as an earlier holdfast wrote it loads with every field.
func TestOldRunJSONLoads(t *testing.T) {
	stateDir := t.TempDir()
	dir := filepath.Join(stateDir, "runs", "4")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := `{
  "run": 4,
  "attempt": 2,
  "command": ["java", "-jar", "/app.jar"],
  "pid": 13,
  "started_at": "2026-01-02T03:04:05Z",
  "ended_at": "2026-01-02T03:04:06.5Z",
  "ran_for_seconds": 1.5,
  "exit_code": 134,
  "signal": "SIGABRT",
  "core_dumped": true,
  "reason": "startup-crash",
  "decision": "hold",
  "dir": "/elsewhere/runs/4",
  "artifacts": [{"name": "output.log", "kind": "output", "size": 42}, {"name": "jvm/hs_err_pid13.log", "kind": "hs-err", "size": 7}]
}
`
	if err := os.WriteFile(filepath.Join(dir, RunFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Open(stateDir, 5, nil)
	rec, ok := r.Get(4)
	if !ok {
		t.Fatal("run 4 not found")
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if rec.Run != 4 || rec.Attempt != 2 || !slices.Equal(rec.Command, []string{"java", "-jar", "/app.jar"}) ||
		rec.PID != 13 || !rec.StartedAt.Equal(start) || rec.EndedAt == nil || !rec.EndedAt.Equal(start.Add(1500*time.Millisecond)) ||
		rec.RanForSeconds != 1.5 || rec.ExitCode == nil || *rec.ExitCode != 134 || rec.Signal != "SIGABRT" ||
		!rec.CoreDumped || rec.Reason != "startup-crash" || rec.Decision != "hold" || rec.EvidenceDir != "" {
		t.Errorf("old run.json loaded as %+v", rec)
	}
	// Dir is where the record was found, not where it was written.
	if rec.Dir != dir {
		t.Errorf("dir = %q, want %q", rec.Dir, dir)
	}
	want := []Artifact{{Name: "output.log", Kind: "output", Size: 42}, {Name: "jvm/hs_err_pid13.log", Kind: "hs-err", Size: 7}}
	if !slices.Equal(rec.Artifacts, want) {
		t.Errorf("artifacts = %+v, want %+v", rec.Artifacts, want)
	}
}
