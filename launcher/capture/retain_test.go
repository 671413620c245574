package capture

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// feed hands p to r the way a relay does: read into space, then commit.
func feed(r *retained, rb *readBuf, p []byte) {
	for len(p) > 0 {
		n := copy(r.space(rb), p)
		b := rb.b
		r.commit(rb, b.buf[rb.used:rb.used+n])
		r.giveBack(b) // as the console writer does
		p = p[n:]
	}
}

// The retained log equals head + marker + tail of what two relays fed, for
// chunk sizes on both sides of smallChunk and caps around block sizes.
func TestRetainedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, maxBytes := range []int64{2, 1000, 64 << 10, 1 << 20, 3<<20 + 7} {
		r := newRetained(maxBytes)
		var rbs [2]readBuf
		var all []byte
		rounds := 1500
		if raceEnabled {
			rounds = 300
		}
		for i := range rounds {
			n := rng.IntN(smallChunk * 2)
			if i%11 == 0 {
				n = rng.IntN(192 << 10)
			}
			p := make([]byte, n)
			fillRandom(p, uint64(i))
			feed(r, &rbs[rng.IntN(2)], p)
			all = append(all, p...)
			if i%(rounds/5) == 0 || i == rounds-1 {
				want := all
				if h, tl := maxBytes/2, maxBytes-maxBytes/2; int64(len(all)) > maxBytes {
					want = append(append(append([]byte(nil), all[:h]...), omittedMarker(int64(len(all))-maxBytes)...), all[int64(len(all))-tl:]...)
				}
				if got := r.bytes(); !bytes.Equal(got, want) {
					t.Fatalf("cap %d after %d bytes: got %d bytes, want %d, differs at %d", maxBytes, len(all), len(got), len(want), firstDiff(got, want))
				}
				r.mu.Lock()
				head, ok := r.rawRange(0, r.headCap)
				r.mu.Unlock()
				if got := concat(head); !ok || !bytes.Equal(got, all[:min(int64(len(all)), r.headCap)]) {
					t.Fatalf("cap %d: rawRange of the head wrong", maxBytes)
				}
			}
		}
		// Memory stays near the cap: a relay leaves a block when less than a
		// quarter is free, and a few blocks are partly used (current ones,
		// the small-chunk block, those at the head's end and the tail's
		// start).
		r.mu.Lock()
		blocks := map[*block]bool{}
		for _, e := range append(append([]entry(nil), r.head...), r.tail...) {
			blocks[e.b] = true
		}
		r.mu.Unlock()
		if limit := maxBytes*4/3/int64(r.blockSize) + 8; int64(len(blocks)) > limit {
			t.Errorf("cap %d: %d blocks of %d referenced, want <= %d", maxBytes, len(blocks), r.blockSize, limit)
		}
	}
}

// Pinned pieces survive later appends; unpinned ones may be recycled (the
// negative control shows the pin is what protects them).
func TestRetainedPins(t *testing.T) {
	for _, pin := range []bool{true, false} {
		r := newRetained(256 << 10) // 64 KiB blocks
		var rb readBuf
		fill := func(c byte) { feed(r, &rb, bytes.Repeat([]byte{c}, 1<<20)) }
		fill('a')
		var pieces [][]byte
		unpin := func() {}
		if pin {
			pieces, unpin = r.pinned(r.pieces)
		} else {
			r.mu.Lock()
			pieces = r.pieces()
			r.mu.Unlock()
		}
		before := concat(pieces)
		fill('b')
		fill('c')
		changed := !bytes.Equal(concat(pieces), before)
		unpin()
		if pin && changed {
			t.Error("pinned pieces changed under later appends")
		}
		if !pin && !changed {
			t.Error("negative control: unpinned blocks were never reused, so the pin test proves nothing")
		}
	}
}

func TestTailLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"a\nb\nc\n", -1, "a\nb\nc\n"},
		{"", 3, ""},
		{"\n\n", 1, "\n"},
		{"no newline at all", 1, "no newline at all"},
		{"x\n[holdfast: 5 bytes omitted]\ny\n", 2, "[holdfast: 5 bytes omitted]\ny\n"},
	} {
		if got := string(TailLines([]byte(c.in), c.n)); got != c.want {
			t.Errorf("TailLines(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
