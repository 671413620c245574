package crashhold

import (
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
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

// StopPurpose says why holdfast stopped a run, and so what follows its end.
type StopPurpose uint8

const (
	NotStopped    StopPurpose = iota // holdfast did not stop the run
	StopToExit                       // a stop, release, TERM to holdfast or the hold timeout: holdfast exits with the run's code
	StopToRestart                    // `holdfast restart`: a fresh run at once, with a fresh budget
	StopToDecide                     // a hang: the policy decides as for a crash after the window
)

// RunEnd is everything the policy needs to know about an ended run.
type RunEnd struct {
	Crashed bool        // non-zero exit or death by signal
	Stop    StopPurpose // why holdfast stopped the run, NotStopped if it did not
	// Hang: the run stopped answering its liveness URL; holdfast held it
	// alive (HeldAlive) or stopped it (StopToDecide, or it died during the
	// thread dump pause before the stop).
	Hang bool
	// HeldAlive: the run ended while holdfast held its process alive (a
	// hang hold).
	HeldAlive bool
	// HoldRequested: `holdfast hold` asked to hold at this exit instead of
	// restarting.
	HoldRequested bool
	StartedAt     time.Time
	EndedAt       time.Time
	EverReady     bool // the app reported ready during the run
}

// Decision is the policy's answer.
type Decision struct {
	Action Action
	Delay  time.Duration    // before the restart
	Reason runrec.EndReason // why the run ended, for run.json and metrics
	// ResetBudget: the run was healthy (a late crash) or the restart was
	// requested, so the next startup crash starts a fresh budget.
	ResetBudget bool
	// Now: restart at once, without the backoff phase (a requested
	// restart).
	Now bool
	// HoldReason is why holdfast holds, with Action Hold. A run that ends
	// while already held (HeldAlive) keeps the hold it had.
	HoldReason state.HoldReason
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
// crashes were already restarted under the current budget. It is the whole
// policy: a requested stop, a requested restart, the end of a process held
// for a hang and a requested hold are decided here too.
func Decide(p Policy, used int, end RunEnd) Decision {
	stopped := runrec.Stopped
	if end.HeldAlive && end.Hang {
		// A process held for a hang keeps hang as its reason when a
		// restart or release then stops it.
		stopped = runrec.Hang
	}
	switch {
	case end.Stop == StopToExit:
		return Decision{Action: Exit, Reason: stopped}
	case end.Stop == StopToRestart:
		return Decision{Action: Restart, Reason: stopped, ResetBudget: true, Now: true}
	case end.HeldAlive && end.Hang:
		// A hang-held process died on its own: stay held.
		return Decision{Action: Hold, Reason: runrec.Hang, HoldReason: state.ReasonHang}
	case end.HeldAlive:
		// A process held because it never became ready died on its own:
		// a startup crash, still held.
		return Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonNeverReady}
	}
	d := decideCrash(p, used, end)
	if end.HoldRequested && d.Action != Exit {
		// `holdfast hold`: hold instead of restarting.
		return Decision{Action: Hold, Reason: d.Reason, HoldReason: state.ReasonManual}
	}
	return d
}

// decideCrash decides for a run holdfast did not stop, or stopped for a
// hang: a clean exit, a startup crash or a late one.
func decideCrash(p Policy, used int, end RunEnd) Decision {
	if !end.Crashed && !end.Hang {
		// Exit code 0 is not a crash (docs/contract.md "Phases").
		return Decision{Action: Exit, Reason: runrec.CleanExit}
	}
	reason := runrec.LateCrash
	if end.Hang {
		reason = runrec.Hang
	}
	if !end.Hang && InWindow(p, end.StartedAt, end.EndedAt, end.EverReady) {
		switch {
		case used < p.MaxRestarts:
			return Decision{Action: Restart, Delay: BackoffDelay(p, used), Reason: runrec.StartupCrash}
		case p.Hold:
			return Decision{Action: Hold, Reason: runrec.StartupCrash, HoldReason: state.ReasonStartupCrash}
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
// handles the end as a crash after the window (RunEnd.Hang).
func HoldOnHang(p Policy, inWindow, holdOnHang bool) bool {
	return p.Hold && (inWindow || holdOnHang)
}
