package capture

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// feed hands p to r the way a relay and its console writer do.
func feed(r *retained, p []byte) {
	for len(p) > 0 {
		n := min(len(p), readSize)
		l := r.commit(p[:n])
		if !bytes.Equal(l.p, p[:n]) {
			panic("the loan differs from the chunk")
		}
		r.giveBack(l)
		p = p[n:]
	}
}

// The retained log equals head + marker + tail of what the relays fed, for
// small and large chunks and caps around block sizes.
func TestRetainedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, maxBytes := range []int64{2, 1000, 64 << 10, 1 << 20, 3<<20 + 7} {
		r := newRetained(maxBytes)
		var all []byte
		rounds := 1500
		if raceEnabled {
			rounds = 300
		}
		for i := range rounds {
			n := rng.IntN(1024)
			if i%11 == 0 {
				n = rng.IntN(192 << 10)
			}
			p := make([]byte, n)
			fillRandom(p, uint64(i))
			feed(r, p)
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
		// Memory stays near the cap: a block is left with less than
		// readSize free, and a few are partly used (the current one, those
		// at the head's end and the tail's start).
		r.mu.Lock()
		blocks := map[*block]bool{}
		for _, e := range append(append([]entry(nil), r.head...), r.tail...) {
			blocks[e.b] = true
		}
		r.mu.Unlock()
		if limit := maxBytes/int64(r.blockSize-readSize) + 4; int64(len(blocks)) > limit {
			t.Errorf("cap %d: %d blocks of %d referenced, want <= %d", maxBytes, len(blocks), r.blockSize, limit)
		}
	}
}

// Pinned pieces survive later appends; unpinned ones may be recycled (the
// negative control shows the pin is what protects them).
func TestRetainedPins(t *testing.T) {
	for _, pin := range []bool{true, false} {
		r := newRetained(256 << 10) // 64 KiB blocks
		fill := func(c byte) { feed(r, bytes.Repeat([]byte{c}, 1<<20)) }
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
