package launcher

import (
	"maps"
	"sync"
	"syscall"
)

// Forwarder sends the signals that ask for no decision straight to the
// app's process group, from the goroutine that receives them, and tells its
// owner afterwards, for counters and logs only. A signal handed to the
// supervisor's goroutine first would wake one more thread on its way (Go's
// signal delivery already wakes several; docs/benchmarks.md "Signal
// forwarding latency, two methods").
//
// Which run gets them is the target, which the supervisor sets as it
// starts a run (Spawn) and clears when the run ends. A signal arriving
// while a run is being started waits for it: the app may already run, and
// tell the world it is ready, before its start returns. A target is signalled only
// while the reaper still has it registered: once its exit status is
// reaped, its pid, and with it its process group id, may be another
// process's.
type Forwarder struct {
	r     *Reaper
	remap map[syscall.Signal]syscall.Signal
	after func(Forwarded)

	mu     sync.Mutex // held across a start, and across each signal sent
	target *Child

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
		f.mu.Lock()
		f.target = c
		f.mu.Unlock()
	}
}

// Spawn runs spawn, the start of a new run, and makes the child it
// returns the target. Signals to forward that arrive meanwhile wait and
// then go to that child rather than nowhere. A nil Forwarder just calls
// spawn.
func (f *Forwarder) Spawn(spawn func() (*Child, error)) (*Child, error) {
	if f == nil {
		return spawn()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := spawn()
	if err == nil {
		f.target = c
	}
	return c, err
}

// Forward sends sig, after --signal-map, to the target's process group.
func (f *Forwarder) Forward(sig syscall.Signal) {
	fw := Forwarded{Received: sig, Sent: sig}
	if to, ok := f.remap[sig]; ok {
		fw.Sent = to
	}
	f.mu.Lock()
	if c := f.target; c != nil {
		var sent bool
		sent, fw.Err = f.r.signalGroupOf(c, fw.Sent)
		if sent {
			fw.Pid = c.Pid
		}
	}
	f.mu.Unlock()
	if f.after != nil {
		f.after(fw)
	}
}
