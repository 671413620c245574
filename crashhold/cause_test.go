package crashhold

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// diskCause reads run's run.json from disk: what a later holdfast, the
// CLI and a bundle see.
func diskCause(t *testing.T, h *harness, run int) *cause.Cause {
	t.Helper()
	var rec runrec.RunRecord
	b, err := os.ReadFile(filepath.Join(h.records.RunDir(run), runrec.RunFile))
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil {
		t.Fatalf("run.json of run %d: %v", run, err)
	}
	return rec.Cause
}

const uncaught = `echo "INFO starting"; ` +
	`printf 'Exception in thread "main" java.lang.IllegalStateException: no datasource url\n\tat com.example.Db.open(Db.java:9)\n\tat com.example.App.main(App.java:3)\n' >&2; ` +
	`echo "INFO shutdown"; exit 1`

// The cause of a crashed run is in its run.json: from the output when it
// was captured (with the line of output.log), from the exit alone with
// --capture=false (the control: the same app, no exception named).
func TestRunCauseInRunJSON(t *testing.T) {
	for _, noCapture := range []bool{false, true} {
		t.Run("capture="+strconv.FormatBool(!noCapture), func(t *testing.T) {
			cfg := Config{Policy: quickPolicy(), NoCapture: noCapture, Command: []string{"/bin/sh", "-c", uncaught}}
			cfg.Policy.MaxRestarts = 0
			h := newHarness(t, cfg)
			h.waitPhase(state.Held)
			c := diskCause(t, h, 1)
			if noCapture {
				if c == nil || c.Kind != cause.ExitCode || c.Exception != "" || c.Line != 0 {
					t.Fatalf("cause %+v, want exit-code from the exit alone", c)
				}
				return
			}
			if c == nil || c.Kind != cause.Exception || c.Exception != "java.lang.IllegalStateException" || c.Message != "no datasource url" {
				t.Fatalf("cause %+v", c)
			}
			log, err := os.ReadFile(filepath.Join(h.records.RunDir(1), runrec.OutputFile))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(log), "\n")
			if c.Line < 1 || c.Line > len(lines) || !strings.Contains(lines[c.Line-1], "IllegalStateException") {
				t.Fatalf("cause line %d in %q", c.Line, log)
			}
		})
	}
}

// Who ended a run: holdfast's stop, its grace-period SIGKILL, a SIGKILL
// from outside (with the cgroup's OOM counter unchanged: not the kernel),
// and an exec failure.
func TestRunCauseSender(t *testing.T) {
	t.Run("stop", func(t *testing.T) {
		h := newHarness(t, Config{Policy: quickPolicy()}, "HF_FAKE=sleep")
		h.waitPhase(state.Running)
		waitOutput(t, h, "fake app: up")
		h.sigs <- syscall.SIGTERM
		h.exitCode()
		wantCause(t, diskCause(t, h, 1), cause.Signal, "stopped by holdfast with SIGTERM")
	})
	t.Run("grace", func(t *testing.T) {
		h := newHarness(t, Config{Policy: quickPolicy(), Grace: 200 * time.Millisecond}, "HF_FAKE=sleep", "HF_IGNORE_TERM=1")
		h.waitPhase(state.Running)
		waitOutput(t, h, "fake app: up")
		h.sigs <- syscall.SIGTERM
		h.exitCode()
		wantCause(t, diskCause(t, h, 1), cause.Signal, "killed by SIGKILL from holdfast: the stop grace period ran out")
	})
	t.Run("outside", func(t *testing.T) {
		cfg := Config{Policy: quickPolicy()}
		cfg.Policy.MaxRestarts = 0
		h := newHarness(t, cfg, "HF_FAKE=sleep")
		snap := h.waitPhase(state.Running)
		waitOutput(t, h, "fake app: up")
		if err := syscall.Kill(snap.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		h.waitPhase(state.Held)
		c := diskCause(t, h, 1)
		wantCause(t, c, cause.Signal, "killed by SIGKILL from outside holdfast")
		if h.sup.why.Readable() && !strings.Contains(c.Summary, "(not the kernel OOM killer)") {
			t.Errorf("the cgroup is readable but the summary does not rule out the OOM killer: %q", c.Summary)
		}
	})
	t.Run("exec", func(t *testing.T) {
		h := newHarness(t, Config{Policy: quickPolicy(), Command: []string{"/nonexistent/app"}})
		h.exitCode()
		wantCause(t, diskCause(t, h, 1), cause.ExecFailed, "could not start the app")
	})
}

func wantCause(t *testing.T, c *cause.Cause, kind cause.Kind, summary string) {
	t.Helper()
	if c == nil || c.Kind != kind || !strings.Contains(c.Summary, summary) {
		t.Fatalf("cause %+v, want %s with %q", c, kind, summary)
	}
}

// hangApp starts the fake http app with a liveness URL, lets liveness
// answer once and then hangs it; argv0 names the command.
func hangApp(t *testing.T, cfg Config) (*harness, state.Snapshot) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	hang := filepath.Join(t.TempDir(), "hang")
	cfg.Policy, cfg.LiveURL = quickPolicy(), "http://"+addr+"/live"
	h := newHarness(t, cfg, "HF_FAKE=http", "HF_ADDR="+addr, "HF_HANG_FILE="+hang)
	waitOutput(t, h, "app liveness answered")
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return h, h.waitPhase(state.Held)
}

// A JVM held for a hang gets SIGQUIT and writes its thread dump: the
// banner follows the dump, never inside it. The fake app is the test
// binary named java; it answers SIGQUIT with a line on stderr (its
// "thread dump"), where the banner goes too.
func TestHangBannerFollowsThreadDump(t *testing.T) {
	java := filepath.Join(t.TempDir(), "java")
	if err := os.Symlink(os.Args[0], java); err != nil {
		t.Fatal(err)
	}
	h, _ := hangApp(t, Config{Command: []string{java, "-test.run=^$"}, QuitPause: time.Second})
	waitOutput(t, h, "APP HELD")
	e := h.consoleErr()
	dump, held := strings.Index(e, "fake app: got SIGQUIT"), strings.Index(e, "APP HELD")
	if dump < 0 || held < dump {
		t.Fatalf("the banner (at %d) does not follow the thread dump (at %d):\n%s", held, dump, e)
	}
	if !strings.Contains(e, "holdfast: why: the app hung: it stopped answering its liveness URL http://") {
		t.Errorf("banner lacks why:\n%s", e)
	}
}

// A run held for a hang keeps hang as its reason when a later restart
// stops it, and its cause says the app hung.
func TestHangReasonSurvivesRestart(t *testing.T) {
	h, snap := hangApp(t, Config{})
	if err := h.sup.Request(ReqRestart); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, ok := h.records.Get(snap.Run)
		if ok && rec.EndedAt != nil {
			if rec.Reason != runrec.Hang {
				t.Errorf("reason %q, want hang", rec.Reason)
			}
			wantCause(t, diskCause(t, h, snap.Run), cause.Signal, "from holdfast: the app hung")
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the hung run did not end after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
