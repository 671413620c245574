package crashhold

import (
	"time"

	"github.com/holdfast-dev/holdfast/runrec"
)

// Policy is the restart/hold configuration (docs/contract.md "Flags and
// environment variables").
type Policy struct {
	Hold        bool          // --hold
	HoldWindow  time.Duration // --hold-window
	MaxRestarts int           // --max-restarts: startup crashes restarted before holding
	Backoff     time.Duration // --backoff: first restart delay
	BackoffMax  time.Duration // --backoff-max
	LateRestart bool          // --on-late-crash=restart
	// ReadyGated is true when --app-ready-url is set: then the window lasts
	// until the app first reports ready, however long that takes.
	ReadyGated bool
}

// Action is what to do with an ended run.
type Action int

const (
	Exit    Action = iota // holdfast exits with the run's code
	Restart               // start the app again after Decision.Delay
	Hold                  // keep the container, stop restarting
)

func (a Action) String() string {
	switch a {
	case Exit:
		return "exit"
	case Restart:
		return "restart"
	case Hold:
		return "hold"
	}
	return "unknown"
}

// RunEnd is everything the policy needs to know about an ended run.
type RunEnd struct {
	Crashed   bool // non-zero exit or death by signal
	Stopped   bool // holdfast asked it to stop (signal, stop, release, restart)
	HangKill  bool // holdfast stopped it because it stopped answering its liveness URL
	StartedAt time.Time
	EndedAt   time.Time
	EverReady bool // the app reported ready during the run
}

// Decision is the policy's answer.
type Decision struct {
	Action Action
	Delay  time.Duration    // before the restart
	Reason runrec.EndReason // why the run ended, for run.json and metrics
	// ResetBudget: the run was healthy (a late crash), so the next startup
	// crash starts a fresh budget.
	ResetBudget bool
}

// InWindow reports whether a run started at started is still inside the
// crash-hold window at now.
func InWindow(p Policy, started, now time.Time, everReady bool) bool {
	if p.ReadyGated {
		return !everReady
	}
	return now.Sub(started) < p.HoldWindow
}

// Decide says what to do with a run that ended. used is how many startup
// crashes were already restarted under the current budget.
func Decide(p Policy, used int, end RunEnd) Decision {
	switch {
	case end.Stopped && !end.HangKill:
		return Decision{Action: Exit, Reason: runrec.Stopped}
	case !end.Crashed && !end.HangKill:
		// Exit code 0 is not a crash (docs/contract.md "Phases").
		return Decision{Action: Exit, Reason: runrec.CleanExit}
	}
	reason := runrec.LateCrash
	if end.HangKill {
		reason = runrec.Hang
	}
	if !end.HangKill && InWindow(p, end.StartedAt, end.EndedAt, end.EverReady) {
		switch {
		case used < p.MaxRestarts:
			return Decision{Action: Restart, Delay: BackoffDelay(p, used), Reason: runrec.StartupCrash}
		case p.Hold:
			return Decision{Action: Hold, Reason: runrec.StartupCrash}
		default:
			return Decision{Action: Exit, Reason: runrec.StartupCrash}
		}
	}
	if p.LateRestart {
		return Decision{Action: Restart, Delay: BackoffDelay(p, 0), Reason: reason, ResetBudget: true}
	}
	return Decision{Action: Exit, Reason: reason}
}

// BackoffDelay is the delay before restart number n+1 under one budget:
// Backoff doubled n times, capped at BackoffMax.
func BackoffDelay(p Policy, n int) time.Duration {
	d := p.Backoff
	for i := 0; i < n && d < p.BackoffMax; i++ {
		d *= 2
	}
	if d > p.BackoffMax {
		d = p.BackoffMax
	}
	return d
}

// HoldOnHang reports whether a liveness failure holds the app with its
// process kept alive (inside the window, or always with --hold-on-hang).
// Otherwise the supervisor takes a thread dump, stops the app, and Decide
// handles the end as a crash after the window (RunEnd.HangKill).
func HoldOnHang(p Policy, inWindow, holdOnHang bool) bool {
	return p.Hold && (inWindow || holdOnHang)
}
