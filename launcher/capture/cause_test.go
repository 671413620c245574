package capture

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/cause"
)

// TestCauseLineInOutputLog runs a real child that writes noise on both
// streams and dies of an uncaught exception, and checks that the run's
// cause names it with the line of output.log where it is: in a run under
// its cap, in one over it (the middle omitted, the tail from the retained
// log), and in one whose tail is shorter than the extractor's window (the
// extractor keeps its own).
func TestCauseLineInOutputLog(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lines    int
		maxBytes int64
		how      string
		omitted  bool
	}{
		{"under the cap", 2000, 0, "mixed", false},
		{"over the cap", 40000, 1 << 20, "ordered", true},
		{"small tail", 40000, 64 << 10, "ordered", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			con, _, _ := testConsole(t)
			path := t.TempDir() + "/output.log"
			run, err := Start(Options{Console: con, LogPath: path, MaxBytes: tc.maxBytes, Budget: NewBudget(0)})
			if err != nil {
				t.Fatal(err)
			}
			cmd := child(t, run, nil, "failure", strconv.Itoa(tc.lines), tc.how)
			finish(t, run, cmd)
			log := readFile(t, path)
			if got := bytes.Contains(log, []byte("bytes omitted]")); got != tc.omitted {
				t.Fatalf("omitted marker %v, want %v", got, tc.omitted)
			}
			c := run.Cause(cause.Exit{Code: 1})
			if c == nil || c.Kind != cause.Exception || c.Exception != "java.lang.IllegalStateException" {
				t.Fatalf("cause %+v", c)
			}
			lines := strings.Split(string(log), "\n")
			if c.Line < 1 || c.Line > len(lines) || !strings.Contains(lines[c.Line-1], "IllegalStateException") {
				at := ""
				if c.Line >= 1 && c.Line <= len(lines) {
					at = lines[c.Line-1]
				}
				t.Fatalf("cause at line %d of %d, which is %q", c.Line, len(lines), at)
			}
		})
	}
}

// TestCauseOff: without the extractor the exit facts alone decide
// (negative control of the test above: the same run names no exception).
func TestCauseOff(t *testing.T) {
	con, _, _ := testConsole(t)
	run, err := Start(Options{Console: con, NoCause: true})
	if err != nil {
		t.Fatal(err)
	}
	finish(t, run, child(t, run, nil, "failure", "10", "mixed"))
	c := run.Cause(cause.Exit{Code: 1})
	if c == nil || c.Kind != cause.ExitCode || c.Line != 0 {
		t.Fatalf("cause %+v, want exit-code from the exit alone", c)
	}
}

// TestCauseLogLine maps extractor lines past holdfast's note and an
// omitted middle.
func TestCauseLogLine(t *testing.T) {
	w := &why{note: 1}
	if got := w.logLine(5); got != 6 {
		t.Errorf("after a one-line note: %d, want 6", got)
	}
	w = &why{omitted: true, headNL: 100, midNL: 50}
	// 101..150 were omitted: in no line of the log.
	for in, want := range map[int]int{0: 0, 7: 7, 100: 100, 120: 0, 150: 0, 151: 103, 160: 112} {
		if got := w.logLine(in); got != want {
			t.Errorf("logLine(%d) = %d, want %d", in, got, want)
		}
	}
}
