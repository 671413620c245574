package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// whyBackend serves runs and each run's output, numbered "line N".
type whyBackend struct {
	runs []runrec.RunRecord
	out  map[int][]byte
}

func (b whyBackend) Status() state.Snapshot   { return state.Snapshot{Phase: state.Held} }
func (b whyBackend) Runs() []runrec.RunRecord { return b.runs }
func (b whyBackend) Request(string) error     { return nil }
func (b whyBackend) Logs(_ context.Context, run int, _ bool) ([]byte, <-chan []byte, error) {
	if run == 0 {
		run = b.runs[len(b.runs)-1].Run
	}
	out, ok := b.out[run]
	if !ok {
		return nil, nil, fmt.Errorf("run %d is not kept", run)
	}
	return out, nil, nil
}

func numbered(n int) []byte {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return []byte(b.String())
}

func TestLogsWhy(t *testing.T) {
	one, zero := 1, 0
	exc := &cause.Cause{Kind: cause.Exception, Summary: "java.net.ConnectException: Connection refused", Line: 40}
	early := &cause.Cause{Kind: cause.JVMLaunch, Summary: "Error: Unable to access jarfile /app.jar", Line: 2}
	killed := &cause.Cause{Kind: cause.OOMKilled, Summary: "killed by the kernel's OOM killer"}
	beyond := &cause.Cause{Kind: cause.Exception, Summary: "x", Line: 500}
	b := whyBackend{
		runs: []runrec.RunRecord{
			{Run: 1, ExitCode: &one, Cause: early},
			{Run: 2, ExitCode: &one, Cause: exc},
			{Run: 3, ExitCode: &one, Cause: killed},
			{Run: 4, ExitCode: &one, Cause: beyond},
			{Run: 5, ExitCode: &zero, Reason: "clean-exit"},
			{Run: 6},
		},
		out: map[int][]byte{1: []byte("Picked up JAVA_TOOL_OPTIONS\nError: Unable to access jarfile /app.jar"),
			2: numbered(1000), 3: numbered(3), 4: numbered(10), 5: numbered(2), 6: nil},
	}
	dir := serveBackend(t, b)
	why := func(args ...string) (string, string, int) {
		var code int
		var out string
		errOut := captureStderr(t, func() {
			out = captureStdout(t, func() { code = run(append([]string{"logs", "--why", "--state-dir", dir}, args...)) })
		})
		return out, errOut, code
	}

	// Run 2, asked for: lines 35..50, line 40 marked.
	out, errOut, code := why("--run", "2")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 17 || lines[0] != "run 2: "+exc.Summary+" (exception)" {
		t.Fatalf("logs --why --run 2: exit %d, %s\n%s", code, errOut, out)
	}
	if lines[1] != "  35  line 35" || lines[6] != "> 40  line 40" || lines[16] != "  50  line 50" {
		t.Errorf("logs --why --run 2: want lines 35..50 with 40 marked:\n%s", out)
	}

	// Run 1: the window starts at line 1, and the last line has no newline.
	out, _, code = why("--run", "1")
	if code != 0 || !strings.HasSuffix(out, "  1  Picked up JAVA_TOOL_OPTIONS\n> 2  Error: Unable to access jarfile /app.jar\n") {
		t.Errorf("logs --why --run 1 (exit %d):\n%s", code, out)
	}

	// Without --run: the newest run with a cause (4, whose line is not kept).
	out, errOut, code = why()
	if code != 1 || !strings.HasPrefix(out, "run 4: ") || !strings.Contains(errOut, "line 500 of run 4's output is not in what was kept (10 lines)") {
		t.Errorf("logs --why: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// Clear messages, exit 1: a cause without a line, no cause, not ended,
	// not kept.
	for run, want := range map[string]string{
		"3": "run 3's cause (oom-killed) comes from its exit, not from a line of its output",
		"5": "run 5 has no cause (exit code 0: clean-exit)",
		"6": "run 6 has not ended",
		"9": "run 9 is not kept",
	} {
		if _, errOut, code := why("--run", run); code != 1 || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("logs --why --run %s: exit %d, stderr %q; want one line with %q", run, code, errOut, want)
		}
	}
	// --why does not go with -f or --tail.
	for _, args := range [][]string{{"-f"}, {"--tail", "3"}} {
		if _, _, code := why(args...); code != 2 {
			t.Errorf("logs --why %v: exit %d, want 2", args, code)
		}
	}
}

func TestLogsWhyNoCause(t *testing.T) {
	zero := 0
	dir := serveBackend(t, whyBackend{runs: []runrec.RunRecord{{Run: 1, ExitCode: &zero}}, out: map[int][]byte{1: numbered(3)}})
	var code int
	errOut := captureStderr(t, func() { code = run([]string{"logs", "--why", "--state-dir", dir}) })
	if code != 1 || !strings.Contains(errOut, "no kept run has a cause") {
		t.Errorf("logs --why with no cause: exit %d, %q", code, errOut)
	}
}

// The window keeps only its lines, each cut to whyLineMax, and stops the
// copy after its last line.
func TestLineWindow(t *testing.T) {
	lw := newLineWindow(2, 3)
	long := strings.Repeat("x", 3*whyLineMax)
	for _, chunk := range []string{"a\n" + long[:10], long[10:] + "\nc", "\nd\n"} {
		if _, err := lw.Write([]byte(chunk)); err != nil {
			if err != errWindowDone || chunk != "\nd\n" {
				t.Fatalf("write %q: %v", chunk[:1], err)
			}
		}
	}
	if len(lw.lines) != 2 || lw.lines[0] != long[:whyLineMax] || lw.lines[1] != "c" || lw.seen != 3 {
		t.Errorf("window: %d lines, seen %d, first %d bytes", len(lw.lines), lw.seen, len(lw.lines[0]))
	}
}
