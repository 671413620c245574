package probes

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

const goldenPath = "testdata/metrics.golden"

// contractMetrics are the names docs/contract.md "Metrics" promises, with their
// label names; additions are the ones this package adds. A metric missing
// from either list, or one that appears without being listed, fails.
var (
	contractMetrics = map[string][]string{
		"holdfast_app_up":                       nil,
		"holdfast_app_ready":                    nil,
		"holdfast_held":                         nil,
		"holdfast_phase":                        {"phase"},
		"holdfast_app_starts_total":             nil,
		"holdfast_app_restarts_total":           nil,
		"holdfast_app_exits_total":              {"reason"},
		"holdfast_app_last_exit_code":           nil,
		"holdfast_held_since_timestamp_seconds": nil,
		"holdfast_reaped_processes_total":       nil,
		"holdfast_signals_forwarded_total":      {"signal"},
		"holdfast_log_bytes_total":              {"stream"},
		"holdfast_ssh_sessions_active":          nil,
		"holdfast_ssh_sessions_total":           nil,
	}
	addedMetrics = map[string][]string{
		"holdfast_build_info":                     {"goversion", "version"},
		"holdfast_app_run":                        nil,
		"holdfast_hold_expires_timestamp_seconds": nil,
		"holdfast_in_hold_window":                 nil,
		"holdfast_app_last_cause":                 {"kind"},
	}
)

// goldenStore is a held app after three startup crashes, with every counter
// set, including label values that must be folded into "other".
func goldenStore() *state.Store {
	expires := t0.Add(time.Hour)
	store := state.NewStore(state.Snapshot{
		Phase:         state.Held,
		PID:           0,
		Run:           3,
		Restarts:      2,
		InHoldWindow:  true,
		HeldSince:     &t0,
		HoldReason:    ptr(state.ReasonStartupCrash),
		HoldExpiresAt: &expires,
		LastExit: &state.Exit{Code: 139, Signal: "SIGSEGV", CoreDumped: true, At: t0, RanForSeconds: 1.5, Run: 3,
			Cause: &cause.Cause{Kind: cause.JVMCrash, Summary: "the JVM crashed in native code: SIGSEGV in libfoo.so+0x1a2b (hs_err_pid9.log)"}},
		Version: "v1.2.3",
	})
	c := &store.Counters
	c.Starts.Store(3)
	c.Restarts.Store(2)
	c.Reaped.Store(17)
	c.LogBytesStdout.Store(4096)
	c.LogBytesStderr.Store(512)
	c.SSHActive.Store(1)
	c.SSHTotal.Store(5)
	c.AddExit("crash")
	c.AddExit("crash")
	c.AddExit("signal")
	c.AddExit("/tmp/free text") // not a token: folded into "other"
	c.AddExit("4242")           // a pid-like value: folded too
	c.AddSignal("SIGTERM")
	c.AddSignal("SIGQUIT")
	c.AddSignal("SIGQUIT")
	c.AddSignal("SIGRTMIN+3")
	return store
}

func TestMetricsGolden(t *testing.T) {
	c := newCollector(goldenStore(), "go1.26-test")
	if *update {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b := rec.Body.Bytes()
		if err := os.WriteFile(goldenPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	// No metric names given: every metric the collector emits is compared,
	// so an extra metric or label breaks the test as well as a missing one.
	if err := testutil.CollectAndCompare(c, bytes.NewReader(golden)); err != nil {
		t.Fatalf("metrics differ from %s (run with -update after checking the change):\n%v", goldenPath, err)
	}

	// Negative controls: the comparison notices a changed value, a removed
	// series and an added label value.
	mutations := map[string]func(string) string{
		"value":   func(s string) string { return strings.Replace(s, "holdfast_held 1", "holdfast_held 0", 1) },
		"removed": func(s string) string { return strings.Replace(s, "holdfast_ssh_sessions_total 5\n", "", 1) },
		"label": func(s string) string {
			return strings.Replace(s, `holdfast_log_bytes_total{stream="stderr"} 512`, `holdfast_log_bytes_total{stream="stderr"} 512`+"\n"+`holdfast_log_bytes_total{stream="other"} 1`, 1)
		},
	}
	for name, mutate := range mutations {
		changed := mutate(string(golden))
		if changed == string(golden) {
			t.Fatalf("mutation %s did not apply; update the test with the golden file", name)
		}
		if err := testutil.CollectAndCompare(c, strings.NewReader(changed)); err == nil {
			t.Errorf("mutation %s: comparison passed, want a difference", name)
		}
	}
}

// TestMetricNamesMatchContract gathers holdfast's metrics (before and after
// the first exit, since last_exit_code is absent until then) and compares the
// names and label names with the lists above.
func TestMetricNamesMatchContract(t *testing.T) {
	want := map[string][]string{}
	for n, l := range contractMetrics {
		want[n] = l
	}
	for n, l := range addedMetrics {
		want[n] = l
	}
	got := map[string][]string{}
	for _, store := range []*state.Store{goldenStore(), state.NewStore(state.Snapshot{Phase: state.Starting})} {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(NewCollector(store))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetHelp() == "" {
				t.Errorf("%s has no HELP", mf.GetName())
			}
			set := map[string]bool{}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					set[lp.GetName()] = true
				}
			}
			names := []string{}
			for n := range set {
				names = append(names, n)
			}
			sort.Strings(names)
			got[mf.GetName()] = names
		}
	}
	for name, labels := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("metric %s (docs/contract.md) is missing", name)
			continue
		}
		if !slices.Equal(g, labels) {
			t.Errorf("metric %s has labels %v, want %v", name, g, labels)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("metric %s is not in the contract or the additions list", name)
		}
	}

	// Before any exit there is no last exit code; with one, there is.
	if n := testutil.CollectAndCount(NewCollector(state.NewStore(state.Snapshot{})), "holdfast_app_last_exit_code"); n != 0 {
		t.Errorf("holdfast_app_last_exit_code has %d series before any exit, want 0", n)
	}
	if n := testutil.CollectAndCount(NewCollector(goldenStore()), "holdfast_app_last_exit_code"); n != 1 {
		t.Errorf("holdfast_app_last_exit_code has %d series after an exit, want 1", n)
	}
	// One phase series per phase.
	if n := testutil.CollectAndCount(NewCollector(goldenStore()), "holdfast_phase"); n != len(state.Phases) {
		t.Errorf("holdfast_phase has %d series, want %d", n, len(state.Phases))
	}
}

func TestBoundLabels(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"crash", true}, {"SIGTERM", true}, {"SIGRTMIN+3", true}, {"startup-crash", true},
		{"", false}, {"1234", false}, {"/var/lib/holdfast", false}, {"signal 40", false},
		{"a-very-long-label-value-over-32-chars", false}, {"naïve", false},
	} {
		if got := isToken(tc.in); got != tc.want {
			t.Errorf("isToken(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	got := boundLabels(map[string]uint64{"crash": 2, "/x": 1, "9": 4, "other": 1})
	want := map[string]uint64{"crash": 2, "other": 6}
	if len(got) != len(want) || got["crash"] != 2 || got["other"] != 6 {
		t.Errorf("boundLabels = %v, want %v", got, want)
	}
}

// requireTool returns the path of an installed tool (promtool, prometheus,
// wrk: scripts/deps.sh installs them). A missing tool fails the test under
// CI=true and skips it elsewhere.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (install the Debian prometheus package, scripts/deps.sh): %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

func promtoolCheck(promtool string, exposition []byte) (string, error) {
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPromtoolCheckMetrics lints a real scrape of the full registry.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := requireTool(t, "promtool")
	store := goldenStore()
	base, _ := startServer(t, NewServer(store, NewRegistry(store), Options{}))
	a := do(t, &http.Client{Timeout: 10 * time.Second}, "GET", base+"/metrics")
	if a.code != 200 {
		t.Fatalf("/metrics = %d: %s", a.code, a.body)
	}
	for _, want := range []string{"\nholdfast_held 1\n", "\ngo_goroutines ", "\nprocess_cpu_seconds_total ", "\nholdfast_app_last_exit_code 139\n", "\nholdfast_app_last_cause{kind=\"jvm-crash\"} 1\n"} {
		if !bytes.Contains(a.body, []byte(want)) {
			t.Errorf("scrape lacks %q", strings.TrimSpace(want))
		}
	}
	if out, err := promtoolCheck(promtool, a.body); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}

	// Negative control: promtool does flag a bad exposition, so the pass
	// above means something.
	bad := append(append([]byte{}, a.body...), "# HELP holdfast_bad_counter x\n# TYPE holdfast_bad_counter counter\nholdfast_bad_counter 1\n"...)
	if out, err := promtoolCheck(promtool, bad); err == nil {
		t.Errorf("promtool passed a counter without _total:\n%s", out)
	}
}

// TestLastCause: one series per kind, 1 only for the last exit's cause;
// all 0 without one (negative control), and a kind outside the closed set
// is counted as unknown, never as a new label value.
func TestLastCause(t *testing.T) {
	count := func(snap state.Snapshot) (ones []string, series int) {
		store := state.NewStore(snap)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(newCollector(store, "go"))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "holdfast_app_last_cause" {
				continue
			}
			for _, m := range mf.GetMetric() {
				series++
				if m.GetGauge().GetValue() == 1 {
					ones = append(ones, m.GetLabel()[0].GetValue())
				}
			}
		}
		return ones, series
	}
	for _, c := range []struct {
		name string
		exit *state.Exit
		want []string
	}{
		{"no exit yet", nil, nil},
		{"clean exit", &state.Exit{Run: 1}, nil},
		{"oom-killed", &state.Exit{Code: 137, Run: 1, Cause: &cause.Cause{Kind: cause.OOMKilled}}, []string{"oom-killed"}},
		{"a kind outside the set", &state.Exit{Code: 1, Run: 1, Cause: &cause.Cause{Kind: "free text /tmp/x"}}, []string{"unknown"}},
	} {
		ones, series := count(state.Snapshot{Phase: state.Held, Run: 1, LastExit: c.exit})
		if series != len(cause.Kinds) || !slices.Equal(ones, c.want) {
			t.Errorf("%s: %d series, 1 for %v; want %d series, 1 for %v", c.name, series, ones, len(cause.Kinds), c.want)
		}
	}
}
