package state

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
)

// Phase is the supervisor's public phase (docs/contract.md "Phases").
type Phase string

const (
	Starting Phase = "starting"
	Running  Phase = "running"
	Backoff  Phase = "backoff"
	Held     Phase = "held"
	Stopping Phase = "stopping"
	Exited   Phase = "exited"
)

// Phases lists every phase, in diagram order; metrics export one series each.
var Phases = []Phase{Starting, Running, Backoff, Held, Stopping, Exited}

// HoldReason is why holdfast holds the app: the status's hold_reason.
// The set is closed: HoldReasons lists every value. (Why a run ended is
// another vocabulary, runrec.EndReason.)
type HoldReason string

const (
	ReasonStartupCrash HoldReason = "startup-crash"
	ReasonHang         HoldReason = "hang"
	ReasonManual       HoldReason = "manual"
	ReasonNeverReady   HoldReason = "never-ready"
)

// HoldReasonInfo describes one HoldReason for docs and tests.
type HoldReasonInfo struct {
	Reason  HoldReason
	Meaning string
	// Alive: the held run's process is kept alive (and was sent SIGQUIT
	// for its thread dump if a JVM); the other holds follow a run's end.
	Alive bool
}

// HoldReasons is the one table of why holdfast holds. doc.go shows it; a
// test checks that they agree.
var HoldReasons = []HoldReasonInfo{
	{ReasonStartupCrash, "the app crashed during startup with its restart budget spent (--max-restarts)", false},
	{ReasonHang, "the app stopped answering its liveness URL; its process is kept alive for thread dumps", true},
	{ReasonManual, "held on request (holdfast hold)", false},
	{ReasonNeverReady, "the app did not become ready within --startup-timeout; its process is kept alive for thread dumps", true},
}

// Alive reports whether a hold for r keeps the run's process alive.
func (r HoldReason) Alive() bool {
	for _, i := range HoldReasons {
		if i.Reason == r {
			return i.Alive
		}
	}
	return false
}

// Exit describes how one run of the app ended.
type Exit struct {
	Code          int       `json:"code"`            // holdfast-style code: exit code, or 128+signal
	Signal        string    `json:"signal"`          // "SIGSEGV" when killed by a signal, else ""
	CoreDumped    bool      `json:"core_dumped"`     // WCOREDUMP
	At            time.Time `json:"at"`              // when the exit was reaped
	RanForSeconds float64   `json:"ran_for_seconds"` // wall time from start to exit
	Run           int       `json:"run"`             // run number
	// Cause is why the run ended (package cause; the run's run.json has the
	// same object); nil for a clean exit and until the supervisor knows it.
	Cause *cause.Cause `json:"cause,omitempty"`
}

// Why is the one-line cause of the app's absence: the Summary of the
// current run's cause when that run has ended (held, backing off, exited),
// else "". A hung app held alive, or a run started after the one that
// failed, has no why: the last exit's cause is not why it is not ready now.
func (s Snapshot) Why() string {
	e := s.LastExit
	if s.PID > 0 || e == nil || e.Cause == nil || e.Run != s.Run {
		return ""
	}
	return e.Cause.Summary
}

// WithWhy is reason followed by Why when there is one: the one line that
// /readyz and `holdfast probe ready` give ("the app is held
// (startup-crash): <cause>"), which kubelet records for an exec probe.
func (s Snapshot) WithWhy(reason string) string {
	if why := s.Why(); why != "" {
		return reason + ": " + why
	}
	return reason
}

// ReadinessCheck is the result of one readiness check.
type ReadinessCheck struct {
	At     time.Time `json:"at"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail"` // "HTTP 503", "connection refused", "timeout after 1s", "listening on 0.0.0.0:8080"
}

// Snapshot is a copy of the whole public state. JSON field names are the
// contract's; pointer fields are null when absent.
type Snapshot struct {
	Phase         Phase       `json:"phase"`
	Ready         bool        `json:"ready"`
	PID           int         `json:"pid"` // 0 when no app process exists; JSON null then (see MarshalJSON)
	Run           int         `json:"run"`
	Restarts      int         `json:"restarts"` // restarts since holdfast started
	StartedAt     *time.Time  `json:"started_at"`
	InHoldWindow  bool        `json:"in_hold_window"`
	HeldSince     *time.Time  `json:"held_since"`
	HoldReason    *HoldReason `json:"hold_reason"`
	HoldExpiresAt *time.Time  `json:"hold_expires_at"`
	LastExit      *Exit       `json:"last_exit"`
	EvidenceDir   *string     `json:"evidence_dir"`
	Version       string      `json:"version"`

	// Added fields (docs/contract.md "The rule: add, don't rename").
	Command     []string  `json:"command"`
	StateDir    string    `json:"state_dir"`
	HoldfastPID int       `json:"holdfast_pid"`
	UpSince     time.Time `json:"up_since"`
	// StateDirWritable is false when run records are kept in memory only.
	StateDirWritable bool `json:"state_dir_writable"`
	// StateDirDegraded says what a full state dir cost (the space reserve
	// used, older runs' output.log deleted, an output.log cut short); ""
	// when nothing.
	StateDirDegraded string `json:"state_dir_degraded,omitempty"`
	// BudgetUsed is how many startup crashes were restarted under the
	// current budget; at MaxRestarts the next startup crash holds.
	BudgetUsed  int `json:"budget_used"`
	MaxRestarts int `json:"max_restarts"`
	// NotReadyReason says why Ready is false ("" when ready).
	NotReadyReason string `json:"not_ready_reason,omitempty"`
	// ReadyRule is what "ready" means (--app-ready): "listen", "process"
	// or "url".
	ReadyRule string `json:"ready_rule,omitempty"`
	// LastReadiness is the last readiness check of the current run (the
	// readiness URL's answer, or whether the app listens); null before the
	// first one and with --app-ready=process.
	LastReadiness *ReadinessCheck `json:"last_readiness"`
	// StartupDeadline is when a run that has not become ready is held as
	// never-ready (--startup-timeout); null when no such deadline runs.
	StartupDeadline *time.Time `json:"startup_deadline,omitempty"`

	// Cumulative counters for metrics. Not part of the status JSON.
	Counters CounterValues `json:"-"`
}

// CounterValues is a plain copy of Counters.
type CounterValues struct {
	Starts           uint64
	Restarts         uint64            // every restart since holdfast started
	ExitsByReason    map[string]uint64 // by runrec.EndReason
	Reaped           uint64            // orphans reaped (not the app, not shells)
	SignalsForwarded map[string]uint64
	LogBytesStdout   uint64
	LogBytesStderr   uint64
	SSHActive        int64
	SSHTotal         uint64
}

// Counters are the event counters. Their zero value is ready to use and
// safe for concurrent use.
type Counters struct {
	Starts         atomic.Uint64
	Restarts       atomic.Uint64
	Reaped         atomic.Uint64
	LogBytesStdout atomic.Uint64
	LogBytesStderr atomic.Uint64
	SSHActive      atomic.Int64
	SSHTotal       atomic.Uint64

	mu               sync.Mutex
	exitsByReason    map[string]uint64
	signalsForwarded map[string]uint64
}

// AddExit counts an app exit under its reason, the label of
// holdfast_app_exits_total: a runrec.EndReason ("clean-exit",
// "startup-crash", ...; the table runrec.EndReasons). It is a string here
// because this package imports no other holdfast package.
func (c *Counters) AddExit(reason string) {
	c.mu.Lock()
	if c.exitsByReason == nil {
		c.exitsByReason = map[string]uint64{}
	}
	c.exitsByReason[reason]++
	c.mu.Unlock()
}

// AddSignal counts one forwarded signal by its name ("SIGTERM").
func (c *Counters) AddSignal(name string) {
	c.mu.Lock()
	if c.signalsForwarded == nil {
		c.signalsForwarded = map[string]uint64{}
	}
	c.signalsForwarded[name]++
	c.mu.Unlock()
}

func (c *Counters) values() CounterValues {
	v := CounterValues{
		Starts:         c.Starts.Load(),
		Restarts:       c.Restarts.Load(),
		Reaped:         c.Reaped.Load(),
		LogBytesStdout: c.LogBytesStdout.Load(),
		LogBytesStderr: c.LogBytesStderr.Load(),
		SSHActive:      c.SSHActive.Load(),
		SSHTotal:       c.SSHTotal.Load(),
	}
	c.mu.Lock()
	v.ExitsByReason = make(map[string]uint64, len(c.exitsByReason))
	for k, n := range c.exitsByReason {
		v.ExitsByReason[k] = n
	}
	v.SignalsForwarded = make(map[string]uint64, len(c.signalsForwarded))
	for k, n := range c.signalsForwarded {
		v.SignalsForwarded[k] = n
	}
	c.mu.Unlock()
	return v
}

// Store publishes snapshots. One writer (the supervisor) calls Publish; any
// number of readers call Load.
type Store struct {
	Counters Counters

	mu      sync.Mutex
	snap    Snapshot
	changed chan struct{} // closed and replaced on every Publish
}

// NewStore returns a store holding initial.
func NewStore(initial Snapshot) *Store {
	return &Store{snap: initial, changed: make(chan struct{})}
}

// Publish replaces the snapshot and wakes every Changed waiter.
func (s *Store) Publish(snap Snapshot) {
	s.mu.Lock()
	s.snap = snap
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Load returns a copy of the current snapshot with the counters filled in.
func (s *Store) Load() Snapshot {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	snap.Counters = s.Counters.values()
	return snap
}

// Changed returns a channel that is closed at the next Publish. Waiters use
// it instead of polling.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}
