package capture

import "context"

// followBuffer is how many pieces (of at most readSize bytes: sendAll) a
// follower may lag behind before it is dropped; one more slot always leaves
// room for the drop marker.
const followBuffer = 256

// followDropped ends the stream of a follower that read too slowly.
const followDropped = "\n[holdfast: follow stopped: reader too slow]\n"

type follower struct{ ch chan []byte }

// send queues p for f without blocking; a follower with a full queue gets
// the marker and is dropped, so that the relay never waits for a reader.
// Caller holds mu.
func (r *retained) send(f *follower, p []byte) {
	if len(f.ch) >= followBuffer {
		f.ch <- []byte(followDropped)
		r.unfollow(f)
		return
	}
	f.ch <- p
}

// unfollow closes f's channel once. Caller holds mu.
func (r *retained) unfollow(f *follower) {
	if _, ok := r.follow[f]; ok {
		delete(r.follow, f)
		close(f.ch)
	}
}

// followFrom returns the retained log so far and a channel of what comes
// next, closed at EOF or when ctx is done. When the log is no longer in
// memory it returns where it is and a closed channel.
func (r *retained) followFrom(ctx context.Context) ([]byte, <-chan []byte, keptState, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := &follower{ch: make(chan []byte, followBuffer+1)}
	if r.kept != keptMemory {
		close(f.ch)
		return nil, f.ch, r.kept, r.dropped
	}
	snap := concat(r.pieces())
	if r.ended || ctx.Err() != nil {
		close(f.ch)
		return snap, f.ch, keptMemory, 0
	}
	r.follow[f] = struct{}{}
	// AfterFunc costs no goroutine until ctx is done.
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.unfollow(f)
	})
	return snap, f.ch, keptMemory, 0
}

// end closes every follower: the run's pipes reached EOF.
func (r *retained) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	r.free = nil // nothing will be read into them
	for f := range r.follow {
		r.unfollow(f)
	}
}
