package launcher

import (
	"maps"
	"sync/atomic"
	"syscall"
)

// Forwarder sends the signals that ask for no decision straight to the
// app's process group, from the goroutine that receives them, and tells its
// owner afterwards, for counters and logs only. A signal handed to the
// supervisor's goroutine first would wake one more thread on its way (Go's
// signal delivery already wakes several; docs/benchmarks.md "Signal
// forwarding latency, two methods").
//
// Which run gets them is the target, which the supervisor sets when it
// starts a run and clears when the run ends. A target is signalled only
// while the reaper still has it registered: once its exit status is
// reaped, its pid, and with it its process group id, may be another
// process's.
type Forwarder struct {
	r      *Reaper
	remap  map[syscall.Signal]syscall.Signal
	after  func(Forwarded)
	target atomic.Pointer[Child]

	leader leaderWait // the thread-group leader's wait (forward_linux.go)
}

// Forwarded is what became of one directly forwarded signal.
type Forwarded struct {
	Received syscall.Signal
	Sent     syscall.Signal // Received after --signal-map
	// Pid is the process group the signal was sent to; 0 when no app
	// process was running, and nothing was sent.
	Pid int
	Err error // kill(2) failed
}

// NewForwarder returns a forwarder without a target. remap is
// --signal-map; after, when set, is called once for every signal handled,
// after the kill, on the goroutine that handled it (keep it short).
func NewForwarder(r *Reaper, remap map[syscall.Signal]syscall.Signal, after func(Forwarded)) *Forwarder {
	return &Forwarder{r: r, remap: maps.Clone(remap), after: after}
}

// Direct reports whether sig is forwarded by the Forwarder rather than
// handed to the supervisor: every forwardable signal but SIGTERM and
// SIGINT, which start holdfast's stop sequence.
func Direct(sig syscall.Signal) bool {
	return sig != syscall.SIGTERM && sig != syscall.SIGINT && isForwardable(sig)
}

// SetTarget makes c's process group the one forwarded signals go to; nil
// means no app process runs. A nil Forwarder ignores it.
func (f *Forwarder) SetTarget(c *Child) {
	if f != nil {
		f.target.Store(c)
	}
}

// Forward sends sig, after --signal-map, to the target's process group.
func (f *Forwarder) Forward(sig syscall.Signal) {
	fw := Forwarded{Received: sig, Sent: sig}
	if to, ok := f.remap[sig]; ok {
		fw.Sent = to
	}
	if c := f.target.Load(); c != nil {
		var sent bool
		sent, fw.Err = f.r.signalGroupOf(c, fw.Sent)
		if sent {
			fw.Pid = c.Pid
		}
	}
	if f.after != nil {
		f.after(fw)
	}
}
