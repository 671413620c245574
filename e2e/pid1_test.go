package e2e

// holdfast as a correct PID 1: spawn, kill-all and exit codes, each driven from
// outside against the built binary (signals are in pid1_signals_test.go, reaping in
// pid1_reap_test.go). Unless a test says otherwise holdfast is PID 1 of its own pid
// namespace and runs as plain init (--hold=false --max-restarts=0, see defaultArgs).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// startFamily runs the "family" app: grandchildren per spec, then the app exits 0.
func startFamily(t *testing.T, grace string, members ...string) (*hf, string) {
	t.Helper()
	dir := t.TempDir()
	h := startPID1(t, []string{fakeEnv + "=family", fakeDir + "=" + dir},
		append([]string{"--grace=" + grace, "--", selfExe}, members...)...)
	return h, dir
}

func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}

// appExitTime is when the family app exited, as it recorded.
func appExitTime(t *testing.T, dir string) time.Time {
	t.Helper()
	l := readLines(filepath.Join(dir, "app.exit"))
	var ns int64
	if len(l) != 1 {
		t.Fatalf("the app recorded no exit time: %v", l)
	}
	if _, err := fmt.Sscan(l[0], &ns); err != nil {
		t.Fatalf("bad app exit time %q: %v", l[0], err)
	}
	return time.Unix(0, ns)
}

func TestKillAllAfterAppExit(t *testing.T) {
	t.Parallel()
	t.Run("strays get TERM and are waited for", func(t *testing.T) {
		t.Parallel()
		const grace = 6 * time.Second
		h, dir := startFamily(t, "6s", "setsid:setsid", "plain")
		code := h.waitExit(t, grace+hfrun.WaitLong)
		if code != 0 {
			t.Errorf("the app exited 0 with strays left: holdfast exited %d, want 0", code)
		}
		for _, name := range []string{"setsid", "plain"} {
			// "bye" comes 300 ms after TERM: had holdfast not waited, the kernel's
			// SIGKILL at PID 1's exit would have cut it off.
			if got := strings.Join(readLines(filepath.Join(dir, name+".sig")), " "); got != "ready TERM bye" {
				t.Errorf("grandchild %q recorded %q, want \"ready TERM bye\" (TERM from kill-all, holdfast waits until it is gone)", name, got)
			}
		}
		if took := h.exitedAt.Sub(appExitTime(t, dir)); took >= grace {
			t.Errorf("holdfast exited %v after the app although the strays were gone in ~300 ms; want before --grace=%v", took, grace)
		}
	})
	t.Run("a stray ignoring TERM is killed after the grace period", func(t *testing.T) {
		t.Parallel()
		const grace = 2 * time.Second
		h, dir := startFamily(t, "2s", "stubborn:setsid:ignore")
		code := h.waitExit(t, grace+hfrun.WaitLong)
		if code != 0 {
			t.Errorf("the app exited 0 with a stray left: holdfast exited %d, want 0", code)
		}
		if got := strings.Join(readLines(filepath.Join(dir, "stubborn.sig")), " "); got != "ready TERM" {
			t.Errorf("the stray ignoring TERM recorded %q, want \"ready TERM\"", got)
		}
		took := h.exitedAt.Sub(appExitTime(t, dir))
		if took < grace {
			t.Errorf("holdfast exited %v after the app, with a stray ignoring TERM; want no earlier than --grace=%v", took, grace)
		}
		if took > grace+20*time.Second {
			t.Errorf("holdfast exited %v after the app, want about --grace=%v", took, grace)
		}
	})
}

func TestExitCodesPassThrough(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	type result struct {
		want, got int
		err       error
		out       string
	}
	codes := make(chan int)
	results := make(chan result)
	for w := 0; w < 16; w++ {
		go func() {
			for c := range codes {
				r := result{want: c}
				h, err := launch(spec{pid1: true, env: []string{fakeEnv + "=exit"},
					args: []string{"--", selfExe, fmt.Sprint(c)}}, tmp)
				if err != nil {
					r.err = err
				} else {
					select {
					case <-h.done:
						r.got, r.err = h.code()
					case <-time.After(hfrun.WaitLong):
						r.err = fmt.Errorf("still running after %v", hfrun.WaitLong)
						h.kill()
					}
					r.out = h.output()
				}
				results <- r
			}
		}()
	}
	go func() {
		for c := 0; c <= 255; c++ {
			codes <- c
		}
		close(codes)
	}()
	for i := 0; i <= 255; i++ {
		r := <-results
		if r.err != nil || r.got != r.want {
			t.Errorf("app exit %d: holdfast exited %d (%v), want %d\n%s", r.want, r.got, r.err, r.want, r.out)
		}
	}
}

// TestSignalDeathCodes: an app killed by a signal is a crash, and holdfast exits with
// 128+N once it stops restarting it. One restart is allowed, so a crash runs the app
// twice; a death by signal taken for a clean exit would run it once (and exit with the
// same code, which alone cannot tell the two apart). The clean exit is the control.
func TestSignalDeathCodes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, script string
		want, runs   int
	}{
		{"TERM", "kill -s TERM $$", 143, 2},
		{"KILL", "kill -s KILL $$", 137, 2},
		{"SEGV", "kill -s SEGV $$", 139, 2},
		{"clean exit", "exit 0", 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runs := filepath.Join(t.TempDir(), "runs")
			h := startPID1(t, nil, "--max-restarts=1", "--backoff=0", "--backoff-max=0",
				"--", "/bin/sh", "-c", "echo run >> "+runs+"; "+c.script)
			if code := h.waitExit(t, hfrun.WaitLong); code != c.want {
				t.Errorf("app: %s; holdfast exited %d, want %d", c.script, code, c.want)
			}
			b, _ := os.ReadFile(runs)
			if n := strings.Count(string(b), "run"); n != c.runs {
				t.Errorf("app: %s, with one restart allowed; it ran %d time(s), want %d", c.script, n, c.runs)
			}
		})
	}
}

// linesWith returns the lines of s that contain sub.
func linesWith(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

func TestExecFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, cmd string
		want      int
	}{
		{"missing path", filepath.Join(dir, "no-such-program"), 127},
		{"missing in PATH", "holdfast-e2e-no-such-command", 127},
		{"not executable", notExec, 126},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := startPID1(t, nil, "--", c.cmd, "arg")
			if code := h.waitExit(t, hfrun.WaitLong); code != c.want {
				t.Errorf("COMMAND %s: holdfast exited %d, want %d", c.cmd, code, c.want)
			}
			if l := linesWith(h.stderr.String(), c.cmd); len(l) != 1 {
				t.Errorf("COMMAND %s: want one clear line on stderr naming it, got %d:\n%s", c.cmd, len(l), h.stderr)
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		flag  string // given on the command line, or an env twin "HOLDFAST_X=v"
		names []string
	}{
		{"--hold-window=ten", []string{"hold-window", "ten"}},
		{"--max-restarts=-1", []string{"max-restarts", "-1"}},
		{"--stop-signal=NOPE", []string{"stop-signal", "NOPE"}},
		{"--signal-map=TERM", []string{"signal-map", "TERM"}},
		{"--grace=soon", []string{"grace", "soon"}},
		{"HOLDFAST_GRACE=later", []string{"HOLDFAST_GRACE", "later"}},
		{"control", nil}, // valid flags: the app starts and creates its marker
	} {
		t.Run(strings.TrimLeft(c.flag, "-"), func(t *testing.T) {
			t.Parallel()
			marker := filepath.Join(t.TempDir(), "started")
			env := []string{fakeEnv + "=marker", fakeMarker + "=" + marker}
			var args []string
			switch {
			case strings.HasPrefix(c.flag, "HOLDFAST_"):
				env = append(env, c.flag)
			case c.flag != "control":
				args = append(args, c.flag)
			}
			h := startPID1(t, env, append(args, "--", selfExe)...)
			code := h.waitExit(t, hfrun.WaitLong)
			_, statErr := os.Stat(marker)
			if c.flag == "control" {
				if code != 0 || statErr != nil {
					t.Fatalf("control with valid flags: exit %d, marker: %v; want 0 and a marker", code, statErr)
				}
				return
			}
			if code != 2 {
				t.Errorf("%s: holdfast exited %d, want 2", c.flag, code)
			}
			if statErr == nil {
				t.Errorf("%s: the app started (marker %s exists); bad flags must stop holdfast before anything starts", c.flag, marker)
			}
			for _, n := range c.names {
				if !strings.Contains(h.stderr.String(), n) {
					t.Errorf("%s: stderr does not name %q:\n%s", c.flag, n, h.stderr)
				}
			}
		})
	}
}

func TestArgvEnvCwdArriveExactly(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "dump.json")
	cwd := filepath.Join(t.TempDir(), "a dir with spaces, 'quotes' and ünïcödé")
	if err := os.Mkdir(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	argv := []string{
		"", " ", "two words", `"double"`, "'single'", "new\nline", "tab\there", "--", "-x", "--flag=value",
		"--help", "-h", "--hold=false", "ünïcödé ✓", "\xff\xfe", "a\x01b", "$HOME", "*", `back\slash`, "",
	}
	env := []string{
		fakeEnv + "=dump", fakeOut + "=" + out,
		"HF_E2E_NEWLINE=line1\nline2", "HF_E2E_EQUALS=a=b==c", "HF_E2E_EMPTY=", "HF_E2E_UTF8=ünï ✓",
		"HF_E2E_BYTES=\xff\xfe", "HF_E2E_SPACES=  lead and trail  ",
	}
	s := spec{pid1: true, env: env, dir: cwd, args: append([]string{"--", selfExe}, argv...)}
	h := start(t, s)
	if code := h.waitExit(t, hfrun.WaitLong); code != 0 {
		t.Fatalf("dump app: holdfast exited %d, want 0", code)
	}
	rec := readDump(t, out)
	wantArgs := append([]string{selfExe}, argv...)
	if got := strs(rec.Args); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", wantArgs) {
		t.Errorf("argv changed on the way:\n got %q\nwant %q", got, wantArgs)
	}
	if got, want := strs(rec.Env), s.fullEnv(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("environment changed on the way:\n got %q\nwant %q\nonly in app: %q\nmissing: %q",
			got, want, minus(got, want), minus(want, got))
	}
	if string(rec.Cwd) != cwd {
		t.Errorf("working directory changed: got %q, want %q", rec.Cwd, cwd)
	}
	if rec.Pgid != rec.Pid {
		t.Errorf("the app (pid %d) is in process group %d, want its own group", rec.Pid, rec.Pgid)
	}
	if rec.Ppid != 1 {
		t.Errorf("the app's parent is pid %d, want holdfast as pid 1", rec.Ppid)
	}
}

func readDump(t *testing.T, path string) dumpRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the app wrote no dump: %v", err)
	}
	var rec dumpRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("cannot decode the dump: %v", err)
	}
	return rec
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// minus is a without the elements of b.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

func TestStdioPassThrough(t *testing.T) {
	t.Parallel()
	h := start(t, spec{pid1: true, env: []string{fakeEnv + "=echo"}, stdin: strings.NewReader("hello stdin\n"),
		args: []string{"--", selfExe}})
	if code := h.waitExit(t, hfrun.WaitLong); code != 0 {
		t.Fatalf("echo app: holdfast exited %d, want 0", code)
	}
	if !strings.Contains(h.stdout.String(), "out:hello stdin\n") {
		t.Errorf("the app's stdout (from its stdin) did not reach holdfast's stdout:\n%s", h.stdout)
	}
	if !strings.Contains(h.stderr.String(), "err:hello stdin\n") {
		t.Errorf("the app's stderr (from its stdin) did not reach holdfast's stderr:\n%s", h.stderr)
	}
}

// sigmaskStatus runs prog under the sigmask launcher (USR1, WINCH, ALRM blocked;
// HUP, USR2, INT, QUIT ignored) and returns the SigBlk and SigIgn that grep reports
// for itself at the end of the chain.
func sigmaskStatus(t *testing.T, pid1 bool, prog ...string) (blk, ign string) {
	t.Helper()
	env := []string{fakeEnv + "=sigmask-launcher", fakeBlocked + "=USR1,WINCH,ALRM", fakeIgnored + "=HUP,USR2,INT,QUIT"}
	launcher := append([]string{selfExe}, prog...)
	if pid1 {
		launcher = append([]string{selfExe, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}, prog...)
	}
	h := start(t, spec{env: env, prog: launcher})
	if code := h.waitExit(t, hfrun.WaitLong); code != 0 {
		t.Fatalf("%q: exit %d, want 0", launcher, code)
	}
	for _, l := range strings.Split(h.stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			blk = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			ign = strings.TrimSpace(v)
		}
	}
	if blk == "" || ign == "" {
		t.Fatalf("%q printed no SigBlk/SigIgn:\n%s", launcher, h.output())
	}
	return blk, ign
}

func TestSigmaskAndIgnoredReset(t *testing.T) {
	t.Parallel()
	const zero = "0000000000000000"
	grep := []string{"/usr/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}
	hfArgs := func(stateDir string) []string {
		return append(append([]string{holdfastBin}, defaultArgs(stateDir)...), append([]string{"--"}, grep...)...)
	}
	// Negative controls: the launcher's mask and ignored set do reach a program it
	// execs directly, and through unshare, so a zero below is holdfast's doing.
	t.Run("control without holdfast", func(t *testing.T) {
		t.Parallel()
		if blk, ign := sigmaskStatus(t, false, grep...); blk == zero || ign == zero {
			t.Errorf("launcher -> grep: SigBlk %s SigIgn %s; the launcher should leave both non-zero", blk, ign)
		}
	})
	t.Run("control through unshare", func(t *testing.T) {
		t.Parallel()
		if blk, ign := sigmaskStatus(t, true, grep...); blk == zero || ign == zero {
			t.Errorf("launcher -> unshare -> grep: SigBlk %s SigIgn %s; want both non-zero", blk, ign)
		}
	})
	for _, pid1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "pid1", false: "subreaper"}[pid1], func(t *testing.T) {
			t.Parallel()
			blk, ign := sigmaskStatus(t, pid1, hfArgs(t.TempDir())...)
			if blk != zero || ign != zero {
				t.Errorf("app started by holdfast under a launcher that blocked USR1,WINCH,ALRM and ignored HUP,USR2,INT,QUIT: SigBlk %s SigIgn %s, want both %s", blk, ign, zero)
			}
		})
	}
}
