package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/holdfast-dev/holdfast/internal/dumps"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// captureStdout is captureStderr for stdout.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	os.Stdout = old
	w.Close()
	return <-done
}

type fakeBackend struct{ snap state.Snapshot }

func (f fakeBackend) Status() state.Snapshot { return f.snap }
func (f fakeBackend) Runs() []runrec.RunRecord {
	return []runrec.RunRecord{{Run: 1, Dir: "/s/runs/1"}}
}
func (f fakeBackend) Logs(context.Context, int, bool) ([]byte, <-chan []byte, error) {
	return []byte("out\n"), nil, nil
}
func (f fakeBackend) Request(string) error { return nil }
func (f fakeBackend) Dump(_ context.Context, kind dumps.Kind) (dumps.Result, error) {
	return dumps.Result{Path: "/s/runs/1/" + string(kind) + "-x.txt"}, nil
}

// serveHeld runs a control server for a held app in a fresh state dir.
func serveHeld(t *testing.T) string {
	t.Helper()
	return serveBackend(t, fakeBackend{state.Snapshot{Phase: state.Held, Run: 1}})
}

// Global flags before the subcommand, as git and kubectl take them; the
// env twin loses to them.
func TestGlobalFlagsBeforeSubcommand(t *testing.T) {
	dir := serveHeld(t)
	t.Setenv("HOLDFAST_STATE_DIR", t.TempDir())
	for _, args := range [][]string{
		{"--state-dir=" + dir, "status", "--json"},
		{"--state-dir", dir, "status", "--json"},
		{"-state-dir", dir, "status", "--json"},
		{"status", "--json", "--state-dir", dir},
	} {
		var code int
		out := captureStdout(t, func() { code = run(args) })
		if code != 0 || !strings.Contains(out, `"phase": "held"`) {
			t.Errorf("%q: exit %d, %q", args, code, out)
		}
		if !strings.HasSuffix(out, "}\n") {
			t.Errorf("%q: status --json does not end with a newline: %q", args, out)
		}
	}
	out := captureStdout(t, func() { run([]string{"--state-dir", dir, "runs", "--json"}) })
	if !strings.HasSuffix(out, "]\n") {
		t.Errorf("runs --json does not end with a newline: %q", out)
	}
	// The records as the control socket encodes them (indented), not a
	// schema of the CLI's own.
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fakeBackend{}.Runs()); err != nil {
		t.Fatal(err)
	}
	if out != want.String() || !strings.Contains(out, `"ended_at": null`) {
		t.Errorf("runs --json = %q, want %q", out, want.String())
	}
	// An entrypoint flag before a subcommand does nothing there: refused.
	errOut := captureStderr(t, func() {
		if code := run([]string{"--hold-window=1m", "--state-dir", dir, "status"}); code != 2 {
			t.Errorf("--hold-window before status: exit %d, want 2", code)
		}
	})
	if !strings.Contains(errOut, "--hold-window is an entrypoint flag") {
		t.Errorf("stderr %q", errOut)
	}
}

// A relative --state-dir means the same wherever the subcommand runs from.
func TestRelativeStateDirSubcommand(t *testing.T) {
	dir := serveHeld(t)
	t.Chdir(dir)
	for _, args := range [][]string{{"--state-dir=.", "status", "--json"}, {"status", "--state-dir=.", "--json"}} {
		var code int
		out := captureStdout(t, func() { code = run(args) })
		if code != 0 || !strings.Contains(out, `"held"`) {
			t.Errorf("%q: exit %d, %q", args, code, out)
		}
	}
}

// A word that is no subcommand and no command is refused, with a
// suggestion; it never runs as the app.
func TestUnknownSubcommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing is on PATH
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"stauts"}, "did you mean status?"},
		{[]string{"--state-dir=/x", "relase"}, "did you mean release?"},
		{[]string{"log", "-f"}, "did you mean logs?"},
		{[]string{"Status"}, "did you mean status?"},
		{[]string{"frobnicate"}, "the subcommands are status, runs, logs, bundle, restart, release, stop, hold, probe"},
	} {
		var code int
		errOut := captureStderr(t, func() { code = run(c.args) })
		if code != 2 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "holdfast -- ") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	var code int
	out := captureStdout(t, func() { code = run([]string{"help"}) })
	if code != 0 || !strings.Contains(out, "holdfast hold") || !strings.Contains(out, "--state-dir") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

func TestSuggest(t *testing.T) {
	for w, want := range map[string]string{
		"stauts": "status", "statsu": "status", "stat": "status", "rusn": "runs", "log": "logs",
		"restrat": "restart", "hlod": "hold", "prob": "probe", "versoin": "version", "hepl": "help",
		"frobnicate": "", "java": "", "x": "", "": "", strings.Repeat("s", 200): "",
	} {
		if got := suggest(w); got != want {
			t.Errorf("suggest(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestFormatRunsWithoutRecord(t *testing.T) {
	out := formatRuns([]runrec.RunRecord{{Run: 3, Dir: "/s/runs/3"}}, state.Snapshot{Run: 4}, 80)
	if strings.Contains(out, "0001-01-01") || !strings.Contains(out, "unknown") {
		t.Errorf("a run without a record:\n%s", out)
	}
}
