package e2e

// Bad surroundings and bad output: a state dir holdfast cannot write, a disk that
// fills up, a gigabyte without a newline, binary garbage, an app that closes its
// stdout. holdfast must keep supervising, pass every byte on and hold as usual.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// biStartPiped starts s with holdfast's stdout on a pipe that the test reads itself, at
// its own pace (launch copies stdout into a buffer as it comes). The caller waits on cmd.
func biStartPiped(t *testing.T, s spec) (*exec.Cmd, io.ReadCloser, *hfrun.Buffer) {
	t.Helper()
	argv := s.argv(s.stateDir)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = s.fullEnv()
	stderr := &hfrun.Buffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }) // --kill-child ends the namespace
	return cmd, stdout, stderr
}

// biWarnMsgs returns the msg of every WARN line holdfast logged.
func biWarnMsgs(stderr string) []string {
	var msgs []string
	re := regexp.MustCompile(`msg=("(?:[^"\\]|\\.)*"|\S+)`)
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "level=WARN") {
			continue
		}
		if m := re.FindStringSubmatch(line); m != nil {
			msgs = append(msgs, m[1])
		}
	}
	return msgs
}

// biWarnedOnce fails when holdfast logged the same warning twice, and returns them.
func biWarnedOnce(t testing.TB, stderr string) []string {
	t.Helper()
	msgs := biWarnMsgs(stderr)
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m] {
			t.Errorf("warning %s logged more than once:\n%s", m, stderr)
		}
		seen[m] = true
	}
	return msgs
}

func TestBadStateDirUnwritable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		make func(t *testing.T) (stateDir, pre string)
	}{
		{"under-a-regular-file", func(t *testing.T) (string, string) {
			file := filepath.Join(t.TempDir(), "not-a-dir")
			if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(file, "state"), ""
		}},
		{"read-only-mount", func(t *testing.T) (string, string) {
			dir := t.TempDir()
			// Read-only in holdfast's private mount namespace only.
			return dir, fmt.Sprintf("mount --bind %s %s\nmount -o remount,bind,ro %s", dir, dir, dir)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stateDir, pre := tc.make(t)
			csCleanFallback(t, stateDir)
			z := start(t, spec{
				pid1: true, probe: true,
				pre:      pre,
				stateDir: stateDir,
				args:     []string{"--hold=true", "--max-restarts=2", "--backoff=50ms"},
				app:      []string{"sh", "-c", "echo boom-out; echo boom-err >&2; exit 7"},
			})
			st := z.waitPhase(t, "held", 3)
			if st.StateDirWritable || st.Reason() != "startup-crash" || st.LastExit == nil ||
				st.LastExit.Code != 7 || st.LastExit.Run != 3 || st.BudgetUsed != 2 {
				t.Errorf("held with an unwritable state dir: %+v, want state_dir_writable false, startup-crash, last_exit code 7 of run 3", st)
			}
			z.assertPID1(t, st)
			hfrun.CheckTrail(t, z.watch, 3, "starting", "running", "backoff", "held")
			for _, p := range []string{"/livez", "/readyz"} {
				code, body, err := hfrun.Fetch(z.base + p)
				if want := map[string]int{"/livez": 200, "/readyz": 503}[p]; err != nil || code != want {
					t.Errorf("GET %s = %d %s (%v), want %d", p, code, body, err, want)
				}
			}
			if n := strings.Count(z.stdout.String(), "boom-out\n"); n != 3 {
				t.Errorf("the app's stdout reached holdfast's %d times, want 3:\n%s", n, z.stdout)
			}
			z.waitOutput(t, "APP HELD", hfrun.WaitLong)
			// Warned, and each warning once, however many runs there were.
			stderr := z.stderr.String()
			msgs := biWarnedOnce(t, stderr)
			// One warning says the state dir is unwritable, one that the control socket
			// is in the fallback directory; nothing else repeats it.
			var dirWarns, sockWarns []string
			for _, line := range strings.Split(stderr, "\n") {
				if !strings.Contains(line, "level=WARN") || !strings.Contains(line, stateDir) {
					continue
				}
				if strings.Contains(line, "socket") {
					sockWarns = append(sockWarns, line)
				} else {
					dirWarns = append(dirWarns, line)
				}
			}
			if len(dirWarns) != 1 || len(sockWarns) != 1 || !strings.Contains(stderr, "in memory only") {
				t.Errorf("want exactly one warning that the state dir %s is unwritable (got %d) and one that the control socket is in the fallback directory (got %d), and the banner saying the evidence is in memory only; warnings %q:\n%s",
					stateDir, len(dirWarns), len(sockWarns), msgs, stderr)
			}
			// The state dir cannot hold the control socket: it is in the fallback
			// directory, where the subcommands find it.
			out, errOut, code := runCLI(t, stateDir, "status")
			if code != 0 || !strings.Contains(out, "HELD") {
				t.Errorf("holdfast status with the socket in the fallback directory: exit %d, stdout %q, stderr %q; want exit 0 and HELD", code, out, errOut)
			}
			if out, errOut, code := runCLI(t, stateDir, "logs"); code != 0 || !strings.Contains(out, "boom-out") {
				t.Errorf("holdfast logs: exit %d, stdout %q, stderr %q; want the app's output", code, out, errOut)
			}
			// The platform's SIGTERM ends the hold with the app's code.
			z.signal(t, syscall.SIGTERM)
			if code := z.waitExit(t, hfrun.WaitLong); code != 7 {
				t.Errorf("holdfast exited %d on SIGTERM while held, want the app's 7", code)
			}
		})
	}
}

func TestBadFullDisk(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", stateDir).CombinedOutput(); err != nil {
		t.Fatalf("cannot mount a 2 MiB tmpfs on %s: %v\n%s", stateDir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", stateDir).CombinedOutput(); err != nil {
			t.Errorf("cannot unmount %s: %v\n%s", stateDir, err, out)
		}
	})
	data := make([]byte, 50_000_000)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	z := start(t, spec{
		pid1: true, probe: true,
		stateDir: stateDir,
		args:     []string{"--hold=true", "--max-restarts=0"},
		env:      []string{"BI_SRC=" + src},
		app:      []string{"sh", "-c", `cat "$BI_SRC"; exit 1`},
	})
	st := z.waitPhase(t, "held", 1)
	if st.Reason() != "startup-crash" || st.LastExit == nil || st.LastExit.Code != 1 {
		t.Errorf("held on a full disk: %+v, want startup-crash with code 1", st)
	}
	z.assertPID1(t, st)
	// Every byte reached holdfast's stdout, in order.
	hfrun.WaitFor(t, hfrun.WaitLong, "50 MB on holdfast's stdout", func() bool { return len(z.stdout.String()) >= len(data) })
	if got := z.stdout.String(); len(got) != len(data) || sha256.Sum256([]byte(got)) != sha256.Sum256(data) {
		t.Errorf("holdfast's stdout: %d bytes, want exactly the app's %d (sha256 equal)", len(got), len(data))
	}
	// output.log is there, truncated where the disk filled, a prefix of the output.
	log, err := os.ReadFile(filepath.Join(hfrun.RunDir(stateDir, 1), "output.log"))
	if err != nil {
		t.Fatalf("output.log on a full disk: %v", err)
	}
	if len(log) == 0 || len(log) >= len(data) || !bytes.Equal(log, data[:len(log)]) {
		t.Errorf("output.log: %d bytes, want a non-empty, truncated prefix of the %d bytes", len(log), len(data))
	}
	// The control socket still answers, and the run's record kept in memory is right
	// even where run.json on the full disk could not be rewritten.
	if cli := cliStatus(t, stateDir); cli.Phase != "held" {
		t.Errorf("holdfast status: phase %s, want held", cli.Phase)
	}
	out, errOut, code := runCLI(t, stateDir, "runs", "--json")
	var runs []hfrun.RunRec
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 1 ||
		runs[0].Code() != 1 || runs[0].Reason != "startup-crash" || runs[0].Decision != "hold" {
		t.Errorf("holdfast runs --json on a full disk (exit %d, %s): want run 1 with exit_code 1, startup-crash, hold:\n%s", code, errOut, out)
	}
	biWarnedOnce(t, z.stderr.String())
	if out, errOut, code := runCLI(t, stateDir, "release"); code != 0 {
		t.Fatalf("holdfast release exited %d: %s%s", code, out, errOut)
	}
	if code := z.waitExit(t, hfrun.WaitLong); code != 1 {
		t.Errorf("holdfast exited %d after release, want 1", code)
	}
}

// biOmitted is the marker holdfast puts between the head and the tail of a long log.
var biOmitted = regexp.MustCompile(`\n\[holdfast: (\d+) bytes omitted\]\n`)

func TestBadHugeOutputNoNewline(t *testing.T) {
	t.Parallel()
	const (
		head, tail = "HEAD-START", "TAIL-END"
		middle     = 1 << 30
		logMax     = 1 << 20
		total      = int64(len(head) + middle + len(tail))
	)
	stateDir := t.TempDir()
	s := spec{pid1: true, stateDir: stateDir, args: []string{"--log-max-bytes=1MiB", "--",
		"sh", "-c", fmt.Sprintf(`printf %s; head -c %d /dev/zero | tr '\0' x; printf %s`, head, middle, tail)}}
	cmd, stdout, stderr := biStartPiped(t, s)

	// Drain and check it as it comes: count, the first and last bytes, and x between.
	var n, xs int64
	var first, last []byte
	buf := make([]byte, 1<<20)
	for {
		k, err := stdout.Read(buf)
		chunk := buf[:k]
		if len(first) < len(head) {
			first = append(first, chunk[:min(len(chunk), len(head)-len(first))]...)
		}
		last = append(last, chunk...)
		if len(last) > len(tail) {
			last = last[len(last)-len(tail):]
		}
		xs += int64(bytes.Count(chunk, []byte{'x'}))
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("cannot read holdfast's stdout: %v", err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("holdfast: %v\n%s", err, stderr)
	}
	if n != total || xs != middle || string(first) != head || string(last) != tail {
		t.Errorf("holdfast's stdout: %d bytes (%d x, starts %q, ends %q), want %d: %q, %d x, %q",
			n, xs, first, last, total, head, middle, tail)
	}

	log, err := os.ReadFile(filepath.Join(hfrun.RunDir(stateDir, 1), "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	m := biOmitted.FindSubmatchIndex(log)
	if m == nil || len(log) > logMax+len(log[m[0]:m[1]]) {
		t.Fatalf("output.log: %d bytes, want at most --log-max-bytes (%d) plus one omitted-marker line; marker at %v", len(log), logMax, m)
	}
	omitted, _ := strconv.ParseInt(string(log[m[2]:m[3]]), 10, 64)
	lhead, ltail := log[:m[0]], log[m[1]:]
	if !bytes.HasPrefix(lhead, []byte(head)) || bytes.Count(lhead, []byte{'x'}) != len(lhead)-len(head) ||
		!bytes.HasSuffix(ltail, []byte(tail)) || bytes.Count(ltail, []byte{'x'}) != len(ltail)-len(tail) ||
		int64(len(lhead))+omitted+int64(len(ltail)) != total {
		t.Errorf("output.log is not head (%d bytes, starts %q) + marker (%d omitted) + tail (%d bytes, ends %q) of the %d-byte stream",
			len(lhead), lhead[:min(len(lhead), 16)], omitted, len(ltail), ltail[max(0, len(ltail)-16):], total)
	}
}

func TestBadBinaryGarbage(t *testing.T) {
	t.Parallel()
	data := make([]byte, 8<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	// Runs of NULs, lone CRs and bytes that are not UTF-8, on top of the random ones.
	for i := 0; i < len(data); i += 100_003 {
		copy(data[i:], "\x00\x00\x00\x00\r\xff\xfe\x00")
	}
	src := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := startPID1(t, []string{"BI_SRC=" + src}, "--", "sh", "-c", `cat "$BI_SRC"`)
	if code := h.waitExit(t, 3*hfrun.WaitLong); code != 0 {
		t.Fatalf("holdfast exited %d, want 0\n%s", code, h.stderr)
	}
	if got := h.stdout.String(); len(got) != len(data) || sha256.Sum256([]byte(got)) != sha256.Sum256(data) {
		t.Errorf("holdfast's stdout: %d bytes, want the app's %d exactly (sha256)", len(got), len(data))
	}
	log, err := os.ReadFile(filepath.Join(hfrun.RunDir(h.stateDir, 1), "output.log"))
	if err != nil || !bytes.Equal(log, data) {
		t.Errorf("output.log: %d bytes (%v), want the %d bytes exactly (under the cap)", len(log), err, len(data))
	}
}

func TestBadStdoutClosedEarly(t *testing.T) {
	t.Parallel()
	// The app closes its stdout, keeps writing to stderr for a while, then exits 3.
	script := `exec 1>&-
i=0
while [ $i -lt 50 ]; do echo "err line $i" >&2; i=$((i+1)); done
sleep 1
echo "last words" >&2
exit 3`
	h := startPID1(t, nil, "--", "sh", "-c", script)
	if code := h.waitExit(t, 3*hfrun.WaitLong); code != 3 {
		t.Errorf("holdfast exited %d, want the app's 3\n%s", code, h.stderr)
	}
	var want strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&want, "err line %d\n", i)
	}
	want.WriteString("last words\n")
	// holdfast's own log lines share stderr and may come between the app's lines
	// (never inside one); without them, stderr is exactly the app's.
	var app strings.Builder
	for _, line := range strings.SplitAfter(h.stderr.String(), "\n") {
		if !strings.HasPrefix(line, "time=") && !strings.HasPrefix(line, "holdfast: ") {
			app.WriteString(line)
		}
	}
	if app.String() != want.String() {
		t.Errorf("holdfast's stderr without its own log lines:\n%q\nwant the app's stderr lines, in order:\n%q", app.String(), want.String())
	}
	if h.stdout.String() != "" {
		t.Errorf("holdfast's stdout: %q, want nothing", h.stdout)
	}
	dir := hfrun.RunDir(h.stateDir, 1)
	if log := hfrun.ReadFile(t, filepath.Join(dir, "output.log")); log != want.String() {
		t.Errorf("output.log:\n%q\nwant:\n%q", log, want.String())
	}
	r := hfrun.ReadRun(t, h.stateDir, 1)
	if r.Code() != 3 || r.Reason == "" || r.Decision != "exit" {
		t.Errorf("run.json: %+v, want exit_code 3, decision exit", r)
	}
}

// TestBadSlowReaderAtExit: holdfast's stdout is not read until holdfast has decided to
// exit (its "holdfast exiting" line), long after the app's run ended and its Finish
// gave up on the console. The app's output waits in holdfast's relay meanwhile, and
// holdfast must pass all of it on before it exits. A holdfast that exited at once
// would leave the reader only what fits in the pipe (1 MiB of the 2 MiB: holdfast
// grows its stdout pipe to 1 MiB). The app's 1 MiB pipe and the relay's 1 MiB
// backlog take the rest, so the app can end its run while nobody reads.
func TestBadSlowReaderAtExit(t *testing.T) {
	t.Parallel()
	data := make([]byte, 2<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	s := spec{pid1: true, stateDir: stateDir, env: []string{"BI_SRC=" + src},
		args: []string{"--", "sh", "-c", `cat "$BI_SRC"`}}
	cmd, stdout, stderr := biStartPiped(t, s)

	hfrun.WaitFor(t, hfrun.WaitLong, "holdfast to decide to exit", func() bool {
		return strings.Contains(stderr.String(), "holdfast exiting")
	}, stderr.String)
	got, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatalf("cannot read holdfast's stdout: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holdfast: %v\n%s", err, stderr.String())
	}
	if !bytes.Equal(got, data) {
		t.Errorf("holdfast's stdout: %d bytes, want the app's %d exactly\n%s", len(got), len(data), stderr.String())
	}
	// The run ended while most of the output still sat in the app's pipe,
	// behind the stalled console: output.log must have it all the same.
	log, err := os.ReadFile(filepath.Join(hfrun.RunDir(stateDir, 1), "output.log"))
	if err != nil || !bytes.Equal(log, data) {
		t.Errorf("output.log: %d bytes (%v), want the app's %d exactly", len(log), err, len(data))
	}
}
