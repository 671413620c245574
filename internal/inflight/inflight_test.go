package inflight

import "testing"

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestCounter(t *testing.T) {
	var c Counter
	if n, idle := c.Idle(); n != 0 || !closed(idle) {
		t.Fatalf("zero Counter: n=%d, idle closed=%v; want 0, true", n, closed(idle))
	}
	c.Add()
	c.Add()
	n, idle := c.Idle()
	if n != 2 || closed(idle) {
		t.Fatalf("after two Adds: n=%d, idle closed=%v; want 2, false", n, closed(idle))
	}
	c.Done()
	if closed(idle) {
		t.Fatal("idle closed with one piece of work left")
	}
	c.Done()
	if !closed(idle) {
		t.Fatal("idle not closed after the last Done")
	}
	// A new round gets a new channel.
	c.Add()
	if _, again := c.Idle(); closed(again) {
		t.Fatal("idle closed again right after a new Add")
	}
	c.Done()
}
