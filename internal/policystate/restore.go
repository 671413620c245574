package policystate

import (
	"fmt"
	"time"
)

// Policy is what Restore needs of the restart policy (crashhold.Policy).
type Policy struct {
	Hold        bool
	HoldWindow  time.Duration
	MaxRestarts int
	ReadyGated  bool // --app-ready-url: the window lasts until the first ready
}

// OpenRun is a run record with a start and no end: the holdfast that ran
// it died with it.
type OpenRun struct {
	Run       int
	StartedAt time.Time
	LastSign  time.Time // LastSign of its run dir
	Summary   string    // what is known of why (VanishedCause)
}

// Input is everything Restore needs, read by the caller.
type Input struct {
	File        File
	LoadErr     error // Store.Load's error; ErrNoFile when there is none
	Fingerprint string
	Policy      Policy
	Open        []OpenRun // oldest first
}

// Vanished is one open run with what Restore decided of it.
type Vanished struct {
	VanishedRun
	// Counted: it counts as a startup crash against the budget.
	Counted bool
	// Decision is run.json's decision for it: "hold" when holdfast now
	// starts held after it, else "restart".
	Decision string
}

// Plan is how holdfast starts over a surviving state dir.
type Plan struct {
	// Fresh: a fresh budget; Why says why (for the log).
	Fresh bool
	Why   string
	// Vanished are the open runs, to be marked in their run.json.
	Vanished []Vanished
	// Used is the supervisor's budget used to continue with.
	Used int
	// StartHeld: do not start the app; hold with HoldReason
	// ("startup-crash" when the budget is spent, or the hold that was in
	// force when holdfast died).
	StartHeld  bool
	HoldReason string
	// Next is the policy state to write before anything else happens.
	Next File
}

// Restarts is how many container restarts the budget has seen.
func (p Plan) Restarts() int { return max(p.Next.Starts-1, 0) }

// Restore decides how holdfast starts, from what the last one left.
func Restore(in Input) Plan {
	f := in.File
	p := Plan{}
	switch {
	case in.LoadErr == ErrNoFile:
		p.Fresh, p.Why = true, "no policy state yet (a new state dir, or one from before "+FileName+")"
	case in.LoadErr != nil:
		p.Fresh, p.Why = true, "the policy state cannot be read: "+in.LoadErr.Error()
	case f.Exited:
		p.Fresh, p.Why = true, "the last holdfast ended on its own"
	case f.Fingerprint != in.Fingerprint:
		p.Fresh, p.Why = true, "the command line, executable or jar changed"
	}
	crashes := 0
	if !p.Fresh {
		crashes = f.Used
	}
	for _, o := range in.Open {
		v := Vanished{VanishedRun: VanishedRun{Run: o.Run, StartedAt: o.StartedAt, EndedAt: o.LastSign, Summary: o.Summary}, Decision: "restart"}
		ready := !p.Fresh && o.Run == f.Run && f.Ready
		if in.Policy.ReadyGated {
			v.InWindow = !ready
		} else {
			v.InWindow = o.LastSign.Sub(o.StartedAt) < in.Policy.HoldWindow
		}
		// Only the run the policy state knows as its last one counts: an
		// older open run belongs to a budget that is over.
		if !p.Fresh && o.Run == f.Run && !f.Ended {
			if v.InWindow {
				v.Counted = true
				crashes++
			} else {
				p.Fresh, p.Why = true, fmt.Sprintf("run %d vanished after the crash-hold window (a late crash)", o.Run)
				crashes = 0
			}
		}
		p.Vanished = append(p.Vanished, v)
	}
	if !p.Fresh && crashes > in.Policy.MaxRestarts && !in.Policy.Hold {
		p.Fresh, p.Why = true, "the budget is spent and --hold=false"
		crashes = 0
	}
	p.Next = File{Fingerprint: in.Fingerprint, Run: f.Run, Attempt: f.Attempt, StartedAt: f.StartedAt, Ready: f.Ready, Ended: true, Starts: 1}
	if p.Fresh {
		return p
	}
	p.Why = "the budget continues"
	p.Next.Starts = f.Starts + 1
	p.Next.Vanished = append([]VanishedRun(nil), f.Vanished...)
	for _, v := range p.Vanished {
		if v.Counted {
			p.Next.Vanished = append(p.Next.Vanished, v.VanishedRun)
		}
	}
	p.Used = min(crashes, in.Policy.MaxRestarts)
	switch {
	case f.Held != "":
		p.StartHeld, p.HoldReason = true, f.Held
	case crashes > in.Policy.MaxRestarts:
		p.StartHeld, p.HoldReason = true, "startup-crash"
	}
	if p.StartHeld {
		p.Next.Held = p.HoldReason
		for i := range p.Vanished {
			if p.Vanished[i].Run == f.Run {
				p.Vanished[i].Decision = "hold"
			}
		}
	}
	p.Next.Used = p.Used
	return p
}
