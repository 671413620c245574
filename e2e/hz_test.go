package e2e

// The hz* harness: holdfast started as PID 1 of its own pid namespace (hzStart), its
// status read over HTTP and the CLI, a watcher that records every phase it went
// through, and checks of run.json and the evidence files. Shared by crashhold_test.go,
// badinput_test.go, probes_test.go and kubeletloop_test.go.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// hzOpts is one holdfast start as PID 1.
type hzOpts struct {
	args     []string // holdfast flags (after the harness defaults; the last one wins)
	env      []string // "K=V" added to the environment
	cmd      []string // the app's argv
	pre      string   // shell run inside the new namespaces before holdfast is exec'd (mounts)
	stateDir string   // empty: a fresh temp dir
	dir      string   // working directory of holdfast and the app; empty: a fresh temp dir
	noProbe  bool     // no HTTP listener
}

// hzHF is a holdfast started by hzStart, with its probe address and a status watcher.
type hzHF struct {
	*hf
	base  string // "http://127.0.0.1:N", "" without a listener
	watch *hzWatch
}

// hzStart runs holdfast as PID 1 of a new pid and mount namespace with o.cmd as the
// app. With o.pre, a shell runs it first inside the namespaces and then execs
// holdfast, which so stays PID 1.
func hzStart(t testing.TB, o hzOpts) *hzHF {
	t.Helper()
	if o.stateDir == "" {
		o.stateDir = t.TempDir()
	}
	if o.dir == "" {
		o.dir = t.TempDir() // a JVM crash may leave a core file in its cwd
	}
	z := &hzHF{}
	args := append([]string(nil), o.args...)
	if !o.noProbe {
		addr := hfrun.Addr(t)
		z.base = "http://" + addr
		args = append(args, "--probe-addr="+addr)
	}
	args = append(append(args, "--"), o.cmd...)
	s := spec{pid1: true, args: args, env: o.env, dir: o.dir, stateDir: o.stateDir}
	if o.pre != "" {
		argv := append([]string{"sh", "-ec", o.pre + "\nexec \"$@\"", "sh", holdfastBin}, defaultArgs(o.stateDir)...)
		s.prog = append(argv, args...)
	}
	z.hf = start(t, s)
	if z.base != "" {
		z.watch = hzWatchStatus(t, z.base)
	}
	return z
}

// hzStatus is the status JSON (docs/contract.md "Status JSON").
type hzStatus struct {
	Phase            string     `json:"phase"`
	Ready            bool       `json:"ready"`
	PID              *int       `json:"pid"`
	Run              int        `json:"run"`
	Restarts         int        `json:"restarts"`
	BudgetUsed       int        `json:"budget_used"`
	MaxRestarts      int        `json:"max_restarts"`
	StartedAt        *time.Time `json:"started_at"`
	InHoldWindow     bool       `json:"in_hold_window"`
	HeldSince        *time.Time `json:"held_since"`
	HoldReason       *string    `json:"hold_reason"`
	HoldExpiresAt    *time.Time `json:"hold_expires_at"`
	LastExit         *hzExit    `json:"last_exit"`
	EvidenceDir      *string    `json:"evidence_dir"`
	StateDirWritable bool       `json:"state_dir_writable"`
	NotReadyReason   string     `json:"not_ready_reason"`
	HoldfastPID      int        `json:"holdfast_pid"`
	Version          string     `json:"version"`
}

type hzExit struct {
	Code          int       `json:"code"`
	Signal        string    `json:"signal"`
	CoreDumped    bool      `json:"core_dumped"`
	At            time.Time `json:"at"`
	RanForSeconds float64   `json:"ran_for_seconds"`
	Run           int       `json:"run"`
}

// hzStatusKeys are the keys docs/contract.md promises in the status JSON (null when absent).
var hzStatusKeys = []string{"phase", "ready", "pid", "run", "restarts", "started_at", "in_hold_window",
	"held_since", "hold_reason", "hold_expires_at", "last_exit", "evidence_dir", "version",
	"budget_used", "max_restarts", "state_dir_writable"}

func (s hzStatus) reason() string {
	if s.HoldReason == nil {
		return "<null>"
	}
	return *s.HoldReason
}

// hzDecodeStatus parses a status JSON and checks that every contract key is there.
func hzDecodeStatus(b []byte) (hzStatus, error) {
	var st hzStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("cannot parse status %q: %w", b, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return st, fmt.Errorf("cannot parse status %q: %w", b, err)
	}
	for _, k := range hzStatusKeys {
		if _, ok := keys[k]; !ok {
			return st, fmt.Errorf("status has no %q key: %s", k, b)
		}
	}
	return st, nil
}

// hzGet does one GET (no keep-alive, no redirects followed) bounded by timeout.
func hzGet(url string, timeout time.Duration) (int, string, error) {
	c := &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// hzFetch is one GET whose answer a test asserts on. Only a transport error (the
// listener not yet accepting, a JVM too busy to answer within the per-try timeout on a
// loaded box) is retried, within hfrun.WaitLong; any HTTP answer is returned as it is.
func hzFetch(url string) (int, string, error) {
	deadline := time.Now().Add(hfrun.WaitLong)
	for {
		code, body, err := hzGet(url, 10*time.Second)
		if err == nil || time.Now().After(deadline) {
			return code, body, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hzStatusClient keeps its connections: the watchers poll every 20 ms, and a fresh
// connection each time would only add load to a busy box.
var hzStatusClient = &http.Client{Timeout: 5 * time.Second}

// hzHTTPStatus reads /status.
func hzHTTPStatus(base string) (hzStatus, error) {
	resp, err := hzStatusClient.Get(base + "/status")
	if err != nil {
		return hzStatus{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return hzStatus{}, fmt.Errorf("cannot read /status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return hzStatus{}, fmt.Errorf("GET /status: %d %s", resp.StatusCode, body)
	}
	return hzDecodeStatus(body)
}

// hzCLI runs a holdfast subcommand against stateDir and returns its stdout, stderr
// and exit code.
func hzCLI(t testing.TB, stateDir string, sub string, args ...string) (string, string, int) {
	t.Helper()
	argv := append([]string{sub, "--state-dir=" + stateDir}, args...)
	cmd := exec.Command(holdfastBin, argv...)
	cmd.Env = baseEnv()
	var out, errb hfrun.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start holdfast %v: %v", argv, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(hfrun.WaitLong):
		where := procWhere(cmd.Process.Pid)
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("holdfast %v did not return within %v (%s)\nstdout:\n%s\nstderr:\n%s", argv, hfrun.WaitLong, where, &out, &errb)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// hzCLIStatus is `holdfast status --json`.
func hzCLIStatus(t testing.TB, stateDir string) hzStatus {
	t.Helper()
	out, errOut, code := hzCLI(t, stateDir, "status", "--json")
	if code != 0 {
		t.Fatalf("holdfast status --json exited %d: %s%s", code, out, errOut)
	}
	st, err := hzDecodeStatus([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// hzSeen is one (phase, run) the watcher saw.
type hzSeen struct {
	Phase string
	Run   int
}

// hzWatch polls /status every 20 ms and keeps every change of (phase, run), so a test
// can assert the path holdfast took, not only where it ended.
type hzWatch struct {
	base string
	mu   sync.Mutex
	seen []hzSeen
	last hzStatus
	ok   bool // last is a real answer
	err  error
}

func hzWatchStatus(t testing.TB, base string) *hzWatch {
	w := &hzWatch{base: base}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			st, err := hzHTTPStatus(base)
			w.mu.Lock()
			w.err = err
			if err == nil {
				w.last, w.ok = st, true
				s := hzSeen{st.Phase, st.Run}
				if n := len(w.seen); n == 0 || w.seen[n-1] != s {
					w.seen = append(w.seen, s)
				}
			}
			w.mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return w
}

// trail is what the watcher saw so far.
func (w *hzWatch) trail() []hzSeen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

func (w *hzWatch) latest() (hzStatus, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.ok
}

func (w *hzWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprintf("phases seen: %v; last status: %+v (err %v)", w.seen, w.last, w.err)
}

// until waits for a status that satisfies cond; it fails at once if holdfast exits.
func (z *hzHF) until(t testing.TB, what string, cond func(hzStatus) bool) hzStatus {
	t.Helper()
	var st hzStatus
	met := func() bool {
		var ok bool
		st, ok = z.watch.latest()
		return ok && cond(st)
	}
	hfrun.WaitFor(t, 3*hfrun.WaitLong, what, func() bool { return met() || z.exited() },
		func() string { return z.watch.String() + "\n" + z.output() })
	if !met() {
		code, _ := z.code()
		t.Fatalf("holdfast exited (code %d) while waiting for %s\n%s\n%s", code, what, z.watch, z.output())
	}
	return st
}

// waitPhase waits for phase (and, when run > 0, that run).
func (z *hzHF) waitPhase(t testing.TB, phase string, run int) hzStatus {
	t.Helper()
	return z.until(t, fmt.Sprintf("phase %s (run %d)", phase, run), func(s hzStatus) bool {
		return s.Phase == phase && (run == 0 || s.Run == run)
	})
}

// hzRunRec is runs/<N>/run.json.
type hzRunRec struct {
	Run           int          `json:"run"`
	Attempt       int          `json:"attempt"`
	Command       []string     `json:"command"`
	PID           int          `json:"pid"`
	StartedAt     time.Time    `json:"started_at"`
	EndedAt       *time.Time   `json:"ended_at"`
	RanForSeconds float64      `json:"ran_for_seconds"`
	ExitCode      *int         `json:"exit_code"`
	Signal        string       `json:"signal"`
	CoreDumped    bool         `json:"core_dumped"`
	Reason        string       `json:"reason"`
	Decision      string       `json:"decision"`
	Dir           string       `json:"dir"`
	Artifacts     []hzArtifact `json:"artifacts"`
}

type hzArtifact struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Size int64  `json:"size"`
}

func (r hzRunRec) code() int {
	if r.ExitCode == nil {
		return -1
	}
	return *r.ExitCode
}

// of returns the artifacts of kind.
func (r hzRunRec) of(kind string) []hzArtifact {
	var out []hzArtifact
	for _, a := range r.Artifacts {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func hzRunDir(stateDir string, n int) string {
	return filepath.Join(stateDir, "runs", strconv.Itoa(n))
}

// hzReadRun reads runs/<n>/run.json.
func hzReadRun(t testing.TB, stateDir string, n int) hzRunRec {
	t.Helper()
	path := filepath.Join(hzRunDir(stateDir, n), "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read run %d's record: %v", n, err)
	}
	var r hzRunRec
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("cannot parse %s: %v\n%s", path, err, b)
	}
	return r
}

// hzWaitRun waits until run n's run.json records an end.
func hzWaitRun(t testing.TB, stateDir string, n int) hzRunRec {
	t.Helper()
	path := filepath.Join(hzRunDir(stateDir, n), "run.json")
	var r hzRunRec
	hfrun.WaitFor(t, 3*hfrun.WaitLong, fmt.Sprintf("run %d to end in %s", n, path), func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &r) == nil && r.ExitCode != nil
	})
	return r
}

// hzCheckRun checks the exit fields of a run record and that its evidence dir is
// its own directory.
func hzCheckRun(t testing.TB, stateDir string, r hzRunRec, n, attempt, code int, reason, decision string) {
	t.Helper()
	if r.Run != n || r.Attempt != attempt || r.code() != code || r.Reason != reason || r.Decision != decision {
		t.Errorf("run %d: got run=%d attempt=%d exit_code=%d reason=%q decision=%q, want run=%d attempt=%d exit_code=%d reason=%q decision=%q",
			n, r.Run, r.Attempt, r.code(), r.Reason, r.Decision, n, attempt, code, reason, decision)
	}
	if r.Dir != hzRunDir(stateDir, n) {
		t.Errorf("run %d: dir %q, want %q", n, r.Dir, hzRunDir(stateDir, n))
	}
	if r.EndedAt == nil || r.PID <= 0 || r.StartedAt.IsZero() || len(r.Command) == 0 {
		t.Errorf("run %d: incomplete record: %+v", n, r)
	}
	// Every artifact is a real file of the size listed.
	for _, a := range r.Artifacts {
		fi, err := os.Stat(filepath.Join(r.Dir, a.Name))
		if err != nil || fi.Size() != a.Size {
			t.Errorf("run %d: artifact %+v: file %v (size %d)", n, a, err, hzSize(fi))
		}
	}
	if out := r.of("output"); len(out) != 1 || out[0].Name != "output.log" {
		t.Errorf("run %d: want one output artifact output.log, got %+v", n, r.Artifacts)
	}
}

func hzSize(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}

func hzReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	return string(b)
}

// hzWaitFileHas waits until the file contains every one of subs.
func hzWaitFileHas(t testing.TB, path string, subs ...string) string {
	t.Helper()
	var s string
	hfrun.WaitFor(t, hfrun.WaitLong, fmt.Sprintf("%s to contain %q", path, subs), func() bool {
		b, _ := os.ReadFile(path)
		s = string(b)
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	}, func() string { return "content:\n" + s })
	return s
}

// hzAssertPID1 checks that holdfast is PID 1 of its namespace and alive: its own
// status says so, the kernel's NSpid says so, and /proc/1 inside the namespace is the
// holdfast binary.
func hzAssertPID1(t testing.TB, z *hzHF, st hzStatus) {
	t.Helper()
	if !z.alive(t) {
		t.Fatalf("holdfast is not alive\n%s", z.output())
	}
	if st.HoldfastPID != 1 {
		t.Errorf("status holdfast_pid = %d, want 1", st.HoldfastPID)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", z.pid(t)))
	if err != nil {
		t.Fatalf("cannot read holdfast's /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "NSpid:"); ok {
			ids := strings.Fields(f)
			if len(ids) < 2 || ids[len(ids)-1] != "1" {
				t.Errorf("holdfast's NSpid is %q, want its last (innermost) pid to be 1", ids)
			}
		}
	}
	out, err := execInNS(t, z.hf, "cat", "/proc/1/cmdline")
	if err != nil {
		t.Fatalf("cannot read /proc/1/cmdline in the namespace: %v\n%s", err, out)
	}
	if argv0, _, _ := strings.Cut(out, "\x00"); argv0 != holdfastBin {
		t.Errorf("PID 1 of the namespace runs %q, want holdfast (%s)", strings.ReplaceAll(out, "\x00", " "), holdfastBin)
	}
}

// hzCheckHeldHTTP checks the probe answers of a held holdfast.
func hzCheckHeldHTTP(t testing.TB, z *hzHF, reason string) {
	t.Helper()
	code, body, err := hzFetch(z.base + "/livez")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"phase":"held"`) {
		t.Errorf("held: GET /livez = %d %s (%v), want 200 with phase held", code, body, err)
	}
	code, body, err = hzFetch(z.base + "/readyz")
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, reason) {
		t.Errorf("held: GET /readyz = %d %s (%v), want 503 naming %q", code, body, err, reason)
	}
	if _, e, c := hzCLI(t, z.stateDir, "probe", "live"); c != 0 {
		t.Errorf("held: holdfast probe live exited %d, want 0: %s", c, e)
	}
	if _, e, c := hzCLI(t, z.stateDir, "probe", "ready"); c != 1 {
		t.Errorf("held: holdfast probe ready exited %d, want 1: %s", c, e)
	}
}

// hzCheckTrail checks that every (phase, run) the watcher saw is among allowed and
// that held was only seen in heldRun (0: never).
func hzCheckTrail(t testing.TB, w *hzWatch, heldRun int, allowed ...string) {
	t.Helper()
	for _, s := range w.trail() {
		if !slices.Contains(allowed, s.Phase) {
			t.Errorf("phase %q seen (run %d); allowed %v; %s", s.Phase, s.Run, allowed, w)
		}
		if s.Phase == "held" && s.Run != heldRun {
			t.Errorf("held in run %d, want held only in run %d; %s", s.Run, heldRun, w)
		}
	}
}

// hzRunsSeen lists the runs the watcher saw in phase.
func hzRunsSeen(w *hzWatch, phase string) []int {
	var runs []int
	for _, s := range w.trail() {
		if s.Phase == phase && !slices.Contains(runs, s.Run) {
			runs = append(runs, s.Run)
		}
	}
	return runs
}

// hzWaitLine waits until the app printed line (a whole line) on holdfast's stdout.
func hzWaitLine(t testing.TB, z *hzHF, line string) {
	t.Helper()
	has := func() bool {
		out := "\n" + z.stdout.String()
		return strings.Contains(out, "\n"+line+"\n")
	}
	hfrun.WaitFor(t, 3*hfrun.WaitLong, fmt.Sprintf("the app to print %q", line), func() bool { return has() || z.exited() },
		func() string { return z.output() })
	if !has() {
		t.Fatalf("holdfast exited before the app printed %q\n%s", line, z.output())
	}
}

// hzJava is the argv of a JVM with jvmArgs.
func hzJava(t testing.TB, jvmArgs ...string) []string {
	t.Helper()
	return append([]string{javaBin(t)}, jvmArgs...)
}

// hzMetric returns the value of an unlabelled metric in a Prometheus text exposition,
// or -1 when it is absent.
func hzMetric(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
