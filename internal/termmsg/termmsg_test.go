package termmsg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/runrec"
)

func record(code int, signal string) *runrec.RunRecord {
	return &runrec.RunRecord{Run: 7, ExitCode: &code, Signal: signal, Reason: "startup-crash",
		Dir: "/var/lib/holdfast/runs/7", Artifacts: []runrec.Artifact{
			{Name: "output.log", Kind: "output"},
			{Name: "hs_err_pid13.log", Kind: "hs-err"},
			{Name: "java_pid13.hprof", Kind: "heap-dump"},
			{Name: "notes.txt", Kind: "other"},
		}}
}

func TestWriteTerminationMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "termination-log")
	// The kubelet's file exists (bind mount); an older, longer text must go.
	if err := os.WriteFile(path, []byte(strings.Repeat("stale ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, record(1, ""), 3); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "holdfast: app ended: exit code 1 (startup-crash) after 3 runs; evidence: /var/lib/holdfast/runs/7 (hs_err_pid13.log, java_pid13.hprof)"
	if string(got) != want {
		t.Fatalf("message\n got %q\nwant %q", got, want)
	}
}

func TestWriteTerminationMessageNeverCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "termination-log")
	if err := Write(path, record(1, ""), 1); err != nil {
		t.Fatalf("absent file: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file was created: %v", err)
	}
	// A path that exists but cannot be written is an error for the caller.
	dir := t.TempDir()
	if err := Write(dir, record(1, ""), 1); err == nil ||
		!strings.Contains(err.Error(), "cannot open termination log") {
		t.Fatalf("directory as path: err = %v", err)
	}
}

func TestTermMessageVariants(t *testing.T) {
	seg := record(139, "SIGSEGV")
	seg.CoreDumped = true
	seg.Reason = "late-crash"
	mem := record(2, "")
	mem.Dir, mem.Artifacts = "", nil
	tmp := record(2, "")
	tmp.Dir, tmp.EvidenceDir = "", "/tmp/holdfast-evidence/2"
	for _, tc := range []struct {
		rec  *runrec.RunRecord
		runs int
		want string
	}{
		{seg, 1, "holdfast: app ended: killed by SIGSEGV (code 139, core dumped) (late-crash) after 1 run; evidence: /var/lib/holdfast/runs/7 (hs_err_pid13.log, java_pid13.hprof)"},
		{mem, 2, "holdfast: app ended: exit code 2 (startup-crash) after 2 runs; no evidence kept on disk (state dir not writable)"},
		{tmp, 2, "holdfast: app ended: exit code 2 (startup-crash) after 2 runs; evidence: /tmp/holdfast-evidence/2 (state dir not writable) (hs_err_pid13.log, java_pid13.hprof)"},
		{&runrec.RunRecord{Reason: "exec-failed"}, 0, "holdfast: app ended (exec-failed); no evidence kept on disk (state dir not writable)"},
		{nil, 0, "holdfast: exiting; the app never ran"},
	} {
		if got := message(tc.rec, tc.runs); got != tc.want {
			t.Errorf("\n got %q\nwant %q", got, tc.want)
		}
	}
}

func TestTermMessageFitsKubeletLimit(t *testing.T) {
	rec := record(1, "")
	for range 500 {
		rec.Artifacts = append(rec.Artifacts, runrec.Artifact{Name: "java_pid1é.hprof", Kind: "heap-dump"})
	}
	msg := message(rec, 3)
	if len(msg) > maxBytes || len(msg) < maxBytes-4 || !strings.HasSuffix(msg, "...") {
		t.Fatalf("len %d, suffix %q", len(msg), msg[len(msg)-10:])
	}
	if !utf8.ValidString(msg) {
		t.Fatal("truncation split a rune")
	}
	for cut := maxBytes - 8; cut <= maxBytes; cut++ {
		s := strings.Repeat("é", maxBytes) // 2 bytes each
		if got := truncate(s, cut); len(got) > cut || !utf8.ValidString(got) {
			t.Fatalf("truncate(%d): len %d valid %v", cut, len(got), utf8.ValidString(got))
		}
	}
	// Negative control: a short message is not touched.
	if short := message(record(1, ""), 3); strings.HasSuffix(short, "...") {
		t.Fatalf("short message truncated: %q", short)
	}
}

// The first line is the cause's summary; a record without a cause keeps
// the one line it had (the control).
func TestTermMessageLeadsWithCause(t *testing.T) {
	rec := record(1, "")
	rec.Cause = &cause.Cause{Kind: cause.SpringFailureAnalysis, Summary: "Web server failed to start. Port 8080 was already in use."}
	got := message(rec, 3)
	first, rest, ok := strings.Cut(got, "\n")
	if !ok || first != rec.Cause.Summary || !strings.HasPrefix(rest, "holdfast: app ended: exit code 1 (startup-crash) after 3 runs") {
		t.Fatalf("message %q", got)
	}
	rec.Cause = nil
	if got := message(rec, 3); strings.Contains(got, "\n") {
		t.Fatalf("message without a cause %q", got)
	}
}
