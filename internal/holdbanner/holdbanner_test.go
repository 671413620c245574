package holdbanner

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

func TestText(t *testing.T) {
	since := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	dir := "/var/lib/holdfast/runs/3"
	snap := state.Snapshot{
		Phase: state.Held, BudgetUsed: 2, MaxRestarts: 2, StateDir: "/var/lib/holdfast", StateDirWritable: true,
		EvidenceDir: &dir,
		LastExit:    &state.Exit{Code: 139, Signal: "SIGSEGV", CoreDumped: true, Run: 3, RanForSeconds: 1.25},
	}
	f := Facts{Reason: state.ReasonStartupCrash, HeldSince: since, Pod: "web-0", HoldTimeout: time.Hour}
	got := Text(snap, f)
	for _, want := range []string{
		"holdfast: the app crashed during startup 3 time(s) in a row; restarts stopped (--max-restarts=2).\n",
		"holdfast: last exit: run 3, killed by SIGSEGV (code 139, core dumped) after 1.25s.\n",
		"holdfast: evidence:  " + dir + " (output.log, run.json;",
		"holdfast: look:      kubectl exec web-0 -- holdfast status\n",
		"kubectl exec web-0 -- holdfast logs --tail 100\n",
		"holdfast: the hold ends by itself at 2026-12-06T11:00:00Z (--hold-timeout=1h0m0s).\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("banner lacks %q:\n%s", want, got)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !strings.HasPrefix(line, "holdfast: ") {
			t.Errorf("a line does not stand alone: %q", line)
		}
	}
	if strings.Contains(got, "ssh -p") {
		t.Errorf("banner advertises ssh that is off:\n%s", got)
	}

	// ssh on, no pod name, held until released, output not captured.
	f = Facts{Reason: state.ReasonManual, SSHAddr: "[::1]:2222", NoCapture: true}
	got = Text(snap, f)
	for _, want := range []string{"held on request (holdfast hold).", "ssh -p 2222 ", "kubectl logs <pod>", "no output.log: --capture=false"} {
		if !strings.Contains(got, want) {
			t.Errorf("banner lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hold ends by itself") || strings.Contains(got, "holdfast logs --tail") {
		t.Errorf("banner names a timeout or holdfast logs it does not have:\n%s", got)
	}

	// A hang hold names the URL and the live pid; memory mode says so.
	snap.PID, snap.EvidenceDir, snap.StateDirWritable = 42, nil, false
	got = Text(snap, Facts{Reason: state.ReasonHang, LiveURL: "http://127.0.0.1:8080/live"})
	for _, want := range []string{"stopped answering http://127.0.0.1:8080/live; its process (pid 42)", "evidence:  in memory only (the state dir /var/lib/holdfast is not writable)"} {
		if !strings.Contains(got, want) {
			t.Errorf("banner lacks %q:\n%s", want, got)
		}
	}
}

// The first line after the title is why; the JVM's evidence files that
// exist are named with size and meaning, and nothing else is.
func TestWhyAndEvidence(t *testing.T) {
	dir := "/var/lib/holdfast/runs/3"
	snap := state.Snapshot{Phase: state.Held, MaxRestarts: 2, StateDirWritable: true, EvidenceDir: &dir,
		LastExit: &state.Exit{Code: 134, Signal: "SIGABRT", Run: 3, RanForSeconds: 2}}
	crash := &cause.Cause{Kind: cause.JVMCrash, Summary: "the JVM crashed with SIGSEGV in libfoo.so+0x1a2b crash+0x10",
		Message: "SIGSEGV", Frame: "libfoo.so+0x1a2b crash+0x10"}
	arts := []runrec.Artifact{
		{Name: "output.log", Kind: "output", Size: 4000},
		{Name: "jvm/hs_err_pid9.log", Kind: "hs-err", Size: 12345},
		{Name: "jvm/java_pid43.hprof", Kind: "heap-dump", Size: 7_800_000},
		{Name: "jvm/notes.txt", Kind: "other", Size: 3},
	}
	got := Text(snap, Facts{Reason: state.ReasonStartupCrash, Cause: crash, Artifacts: arts})
	lines := strings.Split(got, "\n")
	if want := "holdfast: why: " + crash.Summary; lines[1] != want {
		t.Errorf("line after the title %q, want %q", lines[1], want)
	}
	for _, want := range []string{
		"holdfast: found:     jvm/hs_err_pid9.log (12.3 kB): the JVM crashed in native code (SIGSEGV in libfoo.so)\n",
		"holdfast: found:     heap dump jvm/java_pid43.hprof (7.8 MB): the JVM ran out of heap\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("banner lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "notes.txt") || strings.Contains(got, "found:     output.log") {
		t.Errorf("banner names files that are not evidence:\n%s", got)
	}
	// Negative controls: no files, no found lines; no cause, says so; a
	// hang names the URL, not the last run's cause.
	got = Text(snap, Facts{Reason: state.ReasonStartupCrash})
	if strings.Contains(got, "found:") || !strings.Contains(got, "holdfast: why: no cause recorded for the last run\n") {
		t.Errorf("banner without cause or files:\n%s", got)
	}
	got = Text(snap, Facts{Reason: state.ReasonHang, LiveURL: "http://127.0.0.1:8080/live", Cause: crash})
	if !strings.Contains(got, "holdfast: why: the app hung: it stopped answering its liveness URL http://127.0.0.1:8080/live\n") {
		t.Errorf("hang banner:\n%s", got)
	}
	// An hs_err file when the cause is another: named without a guess.
	oom := &cause.Cause{Kind: cause.OOMHeap, Summary: "the JVM ran out of heap"}
	got = Text(snap, Facts{Reason: state.ReasonStartupCrash, Cause: oom, Artifacts: arts[1:2]})
	if !strings.Contains(got, "jvm/hs_err_pid9.log (12.3 kB): the JVM's fatal error report\n") {
		t.Errorf("hs_err with an OOM cause:\n%s", got)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 12345: "12.3 kB", 7_800_000: "7.8 MB", 1_200_000_000: "1.2 GB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
