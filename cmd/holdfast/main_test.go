package main

import (
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/holdfast-dev/holdfast/cause"
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
	}, state.Snapshot{Run: 4, PID: 99}, 200)
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

// springCause is a cause as the extractor records it for the demo's failure.
var springCause = &cause.Cause{
	Kind:        cause.SpringFailureAnalysis,
	Summary:     "Failed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured. Action: define a datasource URL (shop.db.url)",
	Description: "Failed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured.",
	Line:        12,
}

func TestFormatStatusWhy(t *testing.T) {
	reason, since := state.ReasonStartupCrash, time.Now().Add(-time.Minute)
	held := state.Snapshot{Phase: state.Held, HoldReason: &reason, HeldSince: &since, Run: 3,
		LastExit: &state.Exit{Code: 1, Run: 3, At: since, Cause: springCause}}
	lines := strings.Split(formatStatus(held), "\n")
	if len(lines) < 2 || lines[1] != "why:        "+springCause.Summary {
		t.Errorf("a held app's status: the line after the phase must be its why:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(formatStatus(held), "next:       holdfast logs --why ") {
		t.Errorf("a held status whose cause has a line must suggest holdfast logs --why:\n%s", formatStatus(held))
	}
	// A cause from the exit alone has no line to show: no --why.
	noLine := held
	noLine.LastExit = &state.Exit{Code: 137, Signal: "SIGKILL", Run: 3, Cause: &cause.Cause{Kind: cause.OOMKilled, Summary: "killed by the kernel's OOM killer"}}
	if out := formatStatus(noLine); strings.Contains(out, "--why") || !strings.Contains(out, "next:       holdfast logs --tail 100") {
		t.Errorf("a held status whose cause has no line:\n%s", out)
	}

	// Running again after the failure: the cause goes with the last exit.
	running := held
	running.Phase, running.HoldReason, running.HeldSince, running.PID, running.Run = state.Running, nil, nil, 42, 4
	out := formatStatus(running)
	if strings.Count(out, "why:") != 1 || !strings.Contains(out, "(run 3, ") {
		t.Fatalf("running after a failure: one why, with the last exit:\n%s", out)
	}
	before, after, _ := strings.Cut(out, "last exit:")
	if strings.Contains(before, "why:") || !strings.Contains(after, "why:        "+springCause.Summary) {
		t.Errorf("the why of an earlier run must follow its last exit:\n%s", out)
	}

	// Negative control: a clean exit has no cause, and no why line.
	clean := state.Snapshot{Phase: state.Exited, Run: 1, LastExit: &state.Exit{Code: 0, Run: 1}}
	if out := formatStatus(clean); strings.Contains(out, "why") {
		t.Errorf("a clean exit shows a why:\n%s", out)
	}
}

func TestFormatRunsWhy(t *testing.T) {
	one, zero := 1, 0
	at := time.Date(2026, 11, 27, 18, 3, 24, 0, time.UTC)
	runs := []runrec.RunRecord{
		{Run: 1, StartedAt: at, ExitCode: &one, Reason: "startup-crash", Decision: "restart", Dir: "/var/lib/holdfast/runs/1", Cause: springCause},
		{Run: 2, StartedAt: at, ExitCode: &zero, Reason: "clean-exit", Decision: "exit", Dir: "/var/lib/holdfast/runs/2"},
	}
	now := state.Snapshot{Run: 2}
	for _, width := range []int{200, 140, 115} {
		out := formatRuns(runs, now, width)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 || !strings.HasSuffix(lines[0], "WHY") {
			t.Fatalf("width %d: want a WHY column, header + 2 rows:\n%s", width, out)
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: a line of %d runes:\n%s", width, n, l)
			}
		}
		col := strings.Index(lines[0], "WHY")
		if why := lines[1][col:]; !strings.HasPrefix(springCause.Summary, strings.TrimSuffix(why, "...")) || len(why) < minWhy {
			t.Errorf("width %d: run 1's WHY %q is not the start of its summary", width, why)
		}
		if strings.TrimSpace(lines[2][col:]) != "-" {
			t.Errorf("width %d: a clean run's WHY must be -: %q", width, lines[2])
		}
	}
	if out := formatRuns(runs, now, 400); !strings.Contains(out, springCause.Summary) {
		t.Errorf("a wide terminal gets the whole summary:\n%s", out)
	}

	// Too narrow for a column (80, the width of a pipe): the cause goes
	// under its run, cut to the width; the clean run gets no line.
	out := formatRuns(runs, now, 80)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || strings.Contains(lines[0], "WHY") || !strings.HasPrefix(lines[2], "     why: Failed to configure a DataSource") {
		t.Fatalf("width 80: want the why under run 1 only:\n%s", out)
	}
	if n := utf8.RuneCountInString(lines[2]); n > 80 || !strings.HasSuffix(lines[2], "...") {
		t.Errorf("width 80: the why line is %d runes, want at most 80 and cut: %q", n, lines[2])
	}
}

func TestCut(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abcdef", 6, "abcdef"}, {"abcdef", 5, "ab..."}, {"ab cdef", 6, "ab..."}, {"äöüäöü", 5, "äö..."}, {"abc", 2, ".."}, {"abc", -1, ""},
	} {
		if got := cut(c.s, c.n); got != c.want {
			t.Errorf("cut(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// The status's values start in one column, 12 with "last exit:" shown,
// whatever rows it has: the readiness rows' labels fit it (scripts and the
// README's examples read "why:        <summary>").
func TestFormatStatusColumn(t *testing.T) {
	at := time.Now()
	s := state.Snapshot{Phase: state.Running, PID: 9, Run: 2, ReadyRule: "listen", Command: []string{"java", "-jar", "app.jar"},
		LastReadiness:   &state.ReadinessCheck{At: at, Detail: "no listening TCP socket yet"},
		StartupDeadline: &at, LastExit: &state.Exit{Code: 1, Run: 1, At: at}}
	for _, l := range strings.Split(strings.TrimSuffix(formatStatus(s), "\n"), "\n") {
		if len(l) < 13 || l[11] != ' ' || l[12] == ' ' {
			t.Errorf("value not at column 12: %q", l)
		}
	}
	if !strings.Contains(formatStatus(s), "\nready by:   listen\n") {
		t.Errorf("status:\n%s", formatStatus(s))
	}
}
