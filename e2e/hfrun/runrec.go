package hfrun

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RunRec is runs/<N>/run.json.
type RunRec struct {
	Run           int        `json:"run"`
	Attempt       int        `json:"attempt"`
	Command       []string   `json:"command"`
	PID           int        `json:"pid"`
	StartedAt     time.Time  `json:"started_at"`
	EndedAt       *time.Time `json:"ended_at"`
	RanForSeconds float64    `json:"ran_for_seconds"`
	ExitCode      *int       `json:"exit_code"`
	Signal        string     `json:"signal"`
	CoreDumped    bool       `json:"core_dumped"`
	Reason        string     `json:"reason"`
	Decision      string     `json:"decision"`
	Dir           string     `json:"dir"`
	Artifacts     []Artifact `json:"artifacts"`
}

// Artifact is one evidence file a run record lists.
type Artifact struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Size int64  `json:"size"`
}

// Code is exit_code, -1 while the run has not ended.
func (r RunRec) Code() int {
	if r.ExitCode == nil {
		return -1
	}
	return *r.ExitCode
}

// Of returns the artifacts of kind.
func (r RunRec) Of(kind string) []Artifact {
	var out []Artifact
	for _, a := range r.Artifacts {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

// RunDir is run n's evidence directory under stateDir.
func RunDir(stateDir string, n int) string {
	return filepath.Join(stateDir, "runs", strconv.Itoa(n))
}

// ReadRun reads runs/<n>/run.json.
func ReadRun(t testing.TB, stateDir string, n int) RunRec {
	t.Helper()
	path := filepath.Join(RunDir(stateDir, n), "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read run %d's record: %v", n, err)
	}
	var r RunRec
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("cannot parse %s: %v\n%s", path, err, b)
	}
	return r
}

// WaitRun waits until run n's run.json records an end.
func WaitRun(t testing.TB, stateDir string, n int) RunRec {
	t.Helper()
	path := filepath.Join(RunDir(stateDir, n), "run.json")
	var r RunRec
	WaitFor(t, 3*WaitLong, fmt.Sprintf("run %d to end in %s", n, path), func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &r) == nil && r.ExitCode != nil
	})
	return r
}

// CheckRun checks the exit fields of a run record and that its evidence dir is
// its own directory.
func CheckRun(t testing.TB, stateDir string, r RunRec, n, attempt, code int, reason, decision string) {
	t.Helper()
	if r.Run != n || r.Attempt != attempt || r.Code() != code || r.Reason != reason || r.Decision != decision {
		t.Errorf("run %d: got run=%d attempt=%d exit_code=%d reason=%q decision=%q, want run=%d attempt=%d exit_code=%d reason=%q decision=%q",
			n, r.Run, r.Attempt, r.Code(), r.Reason, r.Decision, n, attempt, code, reason, decision)
	}
	if r.Dir != RunDir(stateDir, n) {
		t.Errorf("run %d: dir %q, want %q", n, r.Dir, RunDir(stateDir, n))
	}
	if r.EndedAt == nil || r.PID <= 0 || r.StartedAt.IsZero() || len(r.Command) == 0 {
		t.Errorf("run %d: incomplete record: %+v", n, r)
	}
	// Every artifact is a real file of the size listed.
	for _, a := range r.Artifacts {
		fi, err := os.Stat(filepath.Join(r.Dir, a.Name))
		if err != nil || fi.Size() != a.Size {
			t.Errorf("run %d: artifact %+v: file %v (size %d)", n, a, err, fileSize(fi))
		}
	}
	if out := r.Of("output"); len(out) != 1 || out[0].Name != "output.log" {
		t.Errorf("run %d: want one output artifact output.log, got %+v", n, r.Artifacts)
	}
}

func fileSize(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}

// ReadFile returns the content of path, failing the test when it cannot be read.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	return string(b)
}

// WaitFileHas waits until the file contains every one of subs.
func WaitFileHas(t testing.TB, path string, subs ...string) string {
	t.Helper()
	var s string
	WaitFor(t, WaitLong, fmt.Sprintf("%s to contain %q", path, subs), func() bool {
		b, _ := os.ReadFile(path)
		s = string(b)
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	}, func() string { return "content:\n" + s })
	return s
}
