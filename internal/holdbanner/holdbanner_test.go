package holdbanner

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
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
