package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// With no holdfast running, every subcommand prints one line and exits 1
// (docs/contract.md "Exit codes").
func TestSubcommandWithoutHoldfast(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"status", "--state-dir", dir},
		{"status", "--json", "--state-dir=" + dir},
		{"runs", "--state-dir", dir},
		{"logs", "--tail", "5", "--state-dir", dir},
		{"bundle", "-o", dir + "/b.tgz", "--state-dir", dir},
		{"restart", "--state-dir", dir},
		{"release", "--state-dir", dir},
		{"stop", "--state-dir", dir},
		{"probe", "live", "--state-dir", dir},
	} {
		out := captureStderr(t, func() {
			if code := run(args); code != 1 {
				t.Errorf("%v: exit %d, want 1", args, code)
			}
		})
		if n := strings.Count(strings.TrimRight(out, "\n"), "\n"); n != 0 || !strings.Contains(out, "no holdfast is running") {
			t.Errorf("%v: stderr = %q, want one line saying no holdfast is running", args, out)
		}
	}
}

func TestSubcommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"probe"}, {"probe", "sideways"}, {"status", "extra"}, {"logs", "--run", "x"}, {"logs", "--tail=-1"},
	} {
		captureStderr(t, func() {
			if code := run(args); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		})
	}
	// The env twin finds the state dir like the entrypoint's flag does.
	t.Setenv("HOLDFAST_STATE_DIR", t.TempDir())
	out := captureStderr(t, func() { run([]string{"status"}) })
	if !strings.Contains(out, os.Getenv("HOLDFAST_STATE_DIR")) {
		t.Errorf("status did not use HOLDFAST_STATE_DIR: %q", out)
	}
}

func TestBadFlagExitsTwo(t *testing.T) {
	out := captureStderr(t, func() {
		if code := run([]string{"--hold-window=ten", "--", "true"}); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	if !strings.Contains(out, "--hold-window") || !strings.Contains(out, "ten") {
		t.Errorf("message does not name the flag and value: %q", out)
	}
}

func TestFormatStatusHeld(t *testing.T) {
	reason, dir := state.ReasonStartupCrash, "/var/lib/holdfast/runs/3"
	since := time.Now().Add(-time.Minute)
	s := formatStatus(state.Snapshot{
		Phase: state.Held, HoldReason: &reason, HeldSince: &since, Run: 3, Restarts: 2, BudgetUsed: 2, MaxRestarts: 2,
		Command: []string{"java", "-jar", "/app.jar"}, EvidenceDir: &dir, NotReadyReason: "the app is held (startup-crash)",
		LastExit: &state.Exit{Code: 134, Signal: "SIGABRT", Run: 3, At: since, RanForSeconds: 2.5},
	})
	for _, want := range []string{"HELD (startup-crash)", "java -jar /app.jar", "killed by SIGABRT (code 134)", dir, "holdfast restart", "holdfast release", "2 of 2"} {
		if !strings.Contains(s, want) {
			t.Errorf("status lacks %q:\n%s", want, s)
		}
	}
}

func TestFormatRuns(t *testing.T) {
	one, two := 1, 0
	now := time.Now()
	out := formatRuns([]runrec.RunRecord{
		{Run: 1, ExitCode: &one, Reason: "startup-crash", Decision: "hold", Dir: "/s/runs/1", EndedAt: &now,
			Artifacts: []runrec.Artifact{{Name: "output.log", Kind: "output"}, {Name: "java_pid7.hprof", Kind: "heap-dump"}}},
		{Run: 2, ExitCode: &two, Reason: "clean-exit", Decision: "exit"},
		{Run: 3},
		{Run: 4},
	}, state.Snapshot{Run: 4, PID: 99})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header + 4 rows:\n%s", out)
	}
	if !strings.Contains(lines[1], "java_pid7.hprof") || strings.Contains(lines[1], "output.log") {
		t.Errorf("row 1 evidence: %s", lines[1])
	}
	if !strings.Contains(lines[3], "unknown") || !strings.Contains(lines[4], "running") {
		t.Errorf("an unfinished old run must read unknown, the current one running:\n%s", out)
	}
}

func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b := make([]byte, 0, 4096)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				done <- string(b)
				return
			}
		}
	}()
	f()
	os.Stderr = old
	w.Close()
	return <-done
}

// Only an argv[0] whose base name is tar selects the tar personality.
func TestIsTar(t *testing.T) {
	for argv, want := range map[string]bool{
		"tar": true, "/usr/local/bin/tar": true, "./tar": true,
		"holdfast": false, "/usr/local/bin/holdfast": false, "gtar": false, "tar.exe": false, "/tar/holdfast": false,
	} {
		if got := isTar([]string{argv, "cf", "-", "x"}); got != want {
			t.Errorf("isTar(%q) = %v, want %v", argv, got, want)
		}
	}
	if isTar(nil) {
		t.Error("isTar(nil) = true")
	}
}
