// Package inflight counts work in progress and tells when none is left,
// for waits that must also end on a context or a timer (sync.WaitGroup
// cannot be selected on).
package inflight

import "sync"

// Counter counts work in progress. The zero value is ready to use.
type Counter struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0
}

// Add notes one more piece of work.
func (c *Counter) Add() {
	c.mu.Lock()
	if c.n == 0 {
		c.zero = make(chan struct{})
	}
	c.n++
	c.mu.Unlock()
}

// Done notes that a piece of work added earlier has ended.
func (c *Counter) Done() {
	c.mu.Lock()
	if c.n--; c.n == 0 {
		close(c.zero)
	}
	c.mu.Unlock()
}

// Idle returns how much work is in progress now and a channel that is
// closed once none is (closed already when n is 0).
func (c *Counter) Idle() (n int, idle <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		z := make(chan struct{})
		close(z)
		return 0, z
	}
	return c.n, c.zero
}
