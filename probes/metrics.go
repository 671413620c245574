package probes

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// NewRegistry returns holdfast's own registry with the snapshot Collector plus
// collectors.NewGoCollector() and the process_* metrics. It is not
// prometheus.DefaultRegisterer, so no library can slip metrics into it.
//
// The process metrics come from a lean collector with the same names as
// collectors.NewProcessCollector (see process.go): the library's costs about
// half the 0.5 ms CPU budget of a scrape.
func NewRegistry(store *state.Store) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(store),
		collectors.NewGoCollector(),
		newProcessCollector(),
	)
	return reg
}

// NewCollector is the Collector over one store.Load() per scrape, so every
// series in one scrape describes the same instant.
func NewCollector(store *state.Store) prometheus.Collector {
	return newCollector(store, runtime.Version())
}

func newCollector(store *state.Store, goVersion string) *collector {
	return &collector{store: store, goVersion: goVersion}
}

type collector struct {
	store     *state.Store
	goVersion string // a field so the golden file does not depend on the toolchain
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The metric names are the contract (docs/contract.md "Metrics"); holdfast_build_info,
// holdfast_app_run, holdfast_hold_expires_timestamp_seconds and
// holdfast_in_hold_window are additions.
var (
	descBuildInfo   = desc("holdfast_build_info", "Always 1; labels say which holdfast and Go built this binary.", "version", "goversion")
	descAppUp       = desc("holdfast_app_up", "1 when a process exists for the app (including a hung, held one), else 0.")
	descAppReady    = desc("holdfast_app_ready", "1 when the app is ready (what /readyz answers), else 0.")
	descHeld        = desc("holdfast_held", "1 when holdfast is holding the app after a crash or hang, else 0.")
	descPhase       = desc("holdfast_phase", "1 for the supervisor's current phase, 0 for the others.", "phase")
	descRun         = desc("holdfast_app_run", "Number of the current (or last) run of the app; continues across container restarts.")
	descStarts      = desc("holdfast_app_starts_total", "App processes started by this holdfast.")
	descRestarts    = desc("holdfast_app_restarts_total", "App restarts after an exit, by this holdfast.")
	descExits       = desc("holdfast_app_exits_total", "App exits by reason.", "reason")
	descLastExit    = desc("holdfast_app_last_exit_code", "Exit code of the app's last run (128+N for death by signal N); absent before the first exit.")
	descHeldSince   = desc("holdfast_held_since_timestamp_seconds", "Unix time the current hold began; 0 when not held.")
	descHoldExpires = desc("holdfast_hold_expires_timestamp_seconds", "Unix time the current hold ends by --hold-timeout; 0 when not held or held until released.")
	descInWindow    = desc("holdfast_in_hold_window", "1 while the current run is inside the crash-hold window, else 0.")
	descReaped      = desc("holdfast_reaped_processes_total", "Orphaned processes reaped by holdfast as PID 1 (not the app, not ssh shells).")
	descSignals     = desc("holdfast_signals_forwarded_total", "Signals forwarded to the app, by signal name.", "signal")
	descLogBytes    = desc("holdfast_log_bytes_total", "Bytes of app output captured, by stream.", "stream")
	descSSHActive   = desc("holdfast_ssh_sessions_active", "Open ssh sessions.")
	descSSHTotal    = desc("holdfast_ssh_sessions_total", "ssh sessions opened.")
	descLastCause   = desc("holdfast_app_last_cause", "1 for the kind of the last exit's cause, 0 for the other kinds; all 0 before the first exit and after a clean one.", "kind")
)

var allDescs = []*prometheus.Desc{
	descBuildInfo, descAppUp, descAppReady, descHeld, descPhase, descRun,
	descStarts, descRestarts, descExits, descLastExit, descHeldSince,
	descHoldExpires, descInWindow, descReaped, descSignals, descLogBytes,
	descSSHActive, descSSHTotal, descLastCause,
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.store.Load()
	cv := snap.Counters
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}

	version := snap.Version
	if version == "" {
		version = "unknown"
	}
	gauge(descBuildInfo, 1, version, c.goVersion)
	held := snap.Phase == state.Held
	gauge(descAppUp, boolf(snap.PID > 0))
	gauge(descAppReady, boolf(snap.Ready))
	gauge(descHeld, boolf(held))
	for _, p := range state.Phases {
		gauge(descPhase, boolf(snap.Phase == p), string(p))
	}
	gauge(descRun, float64(snap.Run))
	counter(descStarts, float64(cv.Starts))
	counter(descRestarts, float64(cv.Restarts))
	for reason, n := range boundLabels(cv.ExitsByReason) {
		counter(descExits, float64(n), reason)
	}
	if snap.LastExit != nil {
		gauge(descLastExit, float64(snap.LastExit.Code))
	}
	last := lastCauseKind(snap)
	for _, k := range cause.Kinds {
		gauge(descLastCause, boolf(last == k.Kind), string(k.Kind))
	}
	var heldSince, expires float64
	if held {
		heldSince = unixSeconds(snap.HeldSince)
		expires = unixSeconds(snap.HoldExpiresAt)
	}
	gauge(descHeldSince, heldSince)
	gauge(descHoldExpires, expires)
	gauge(descInWindow, boolf(snap.InHoldWindow))
	counter(descReaped, float64(cv.Reaped))
	for sig, n := range boundLabels(cv.SignalsForwarded) {
		counter(descSignals, float64(n), sig)
	}
	counter(descLogBytes, float64(cv.LogBytesStdout), "stdout")
	counter(descLogBytes, float64(cv.LogBytesStderr), "stderr")
	gauge(descSSHActive, float64(cv.SSHActive))
	counter(descSSHTotal, float64(cv.SSHTotal))
}

// lastCauseKind is the kind of the last exit's cause, "" when there is
// none. The label takes only the closed set cause.Kinds: a kind outside it
// (a newer record) counts as unknown.
func lastCauseKind(snap state.Snapshot) cause.Kind {
	if snap.LastExit == nil || snap.LastExit.Cause == nil {
		return ""
	}
	k := snap.LastExit.Cause.Kind
	for _, info := range cause.Kinds {
		if info.Kind == k {
			return k
		}
	}
	return cause.Unknown
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t *time.Time) float64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// otherLabel replaces a label value that is not a short token.
const otherLabel = "other"

// boundLabels folds label values that could carry unbounded data into
// "other", summing their counts. Reasons and signal names are short tokens
// that start with a letter ("crash", "SIGTERM", "SIGRTMIN+3"); a pid, a path
// or free text is not, and would make a new series per value.
func boundLabels(m map[string]uint64) map[string]uint64 {
	ok := true
	for k := range m {
		if !isToken(k) {
			ok = false
			break
		}
	}
	if ok {
		return m
	}
	out := make(map[string]uint64, len(m))
	for k, n := range m {
		if !isToken(k) {
			k = otherLabel
		}
		out[k] += n
	}
	return out
}

func isToken(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '+' && c != '.' {
			return false
		}
	}
	return true
}
