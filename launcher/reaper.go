package launcher

import (
	"fmt"
	"os/exec"
	"sync"
	"syscall"
)

// Child is a registered child process. Done delivers its Status exactly once.
type Child struct {
	Pid  int
	Done <-chan Status

	done chan Status // its registration in the reaper (Done's channel)
}

// Reaper reaps every child of this process and routes each exit status to
// the Child that Start registered for it. Statuses of unregistered pids
// (orphans reparented to PID 1 or to a subreaper) are counted and dropped.
type Reaper struct {
	// OnOrphan, if set, is called (under the reaper's lock; keep it short)
	// for every reaped pid that nobody registered.
	OnOrphan func(Status)

	mu     sync.Mutex
	pids   map[int]chan Status
	reaped chan struct{} // closed and replaced whenever Reap reaps anything
}

// NewReaper returns an empty registry.
func NewReaper() *Reaper {
	return &Reaper{pids: map[int]chan Status{}, reaped: make(chan struct{})}
}

// Start starts cmd and registers its pid before the reaper can see it exit.
// start, when non-nil, is what actually starts cmd (for example
// pty.StartWithAttrs); it must call cmd.Start and nothing that waits.
//
// cmd's stdio must be *os.File or nil so that os/exec starts no copying
// goroutines: nobody may call cmd.Wait, because the reaper owns wait4.
func (r *Reaper) Start(cmd *exec.Cmd, start func() error) (*Child, error) {
	if start == nil {
		start = cmd.Start
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := start(); err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	if _, dup := r.pids[pid]; dup {
		// Impossible while the reaper holds the lock around wait4: a pid is
		// only reused after it was reaped, and reaping removes it.
		panic(fmt.Sprintf("internal error: pid %d registered twice", pid))
	}
	ch := make(chan Status, 1)
	r.pids[pid] = ch
	// The pidfd os/exec keeps is not needed: we signal by pid/pgid and reap
	// with wait4(-1).
	_ = cmd.Process.Release()
	return &Child{Pid: pid, Done: ch, done: ch}, nil
}

// signalGroupOf sends sig to the process group c leads, under the lock
// around wait4, and only while c is registered: once c's status is reaped,
// its pid may be reused, by an ssh shell as well. sent is false when c was
// already reaped.
func (r *Reaper) signalGroupOf(c *Child, sig syscall.Signal) (sent bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.pids[c.Pid]; !ok || ch != c.done {
		return false, nil
	}
	return true, SignalGroup(c.Pid, sig)
}

// Reap collects every child that has exited, without blocking. Call it on
// each SIGCHLD: signals coalesce, so one wake-up may stand for many exits
// (Yelp/dumb-init#44).
func (r *Reaper) Reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	any := false
	defer func() {
		if any {
			close(r.reaped)
			r.reaped = make(chan struct{})
		}
	}()
	for {
		st, ok := reapOne()
		if !ok {
			return
		}
		any = true
		if ch, registered := r.pids[st.Pid]; registered {
			delete(r.pids, st.Pid)
			ch <- st
			continue
		}
		if r.OnOrphan != nil {
			r.OnOrphan(st)
		}
	}
}

// ReapedAny returns a channel closed the next time Reap reaps a process, so
// that kill-all can wait for the namespace to empty without polling.
func (r *Reaper) ReapedAny() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reaped
}
