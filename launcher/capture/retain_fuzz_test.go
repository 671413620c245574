package capture

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// refRetention is the reference for what a run's log keeps, written as
// plainly as possible: the first head bytes, the last tail bytes, and
// between them a marker that counts the bytes in neither.
type refRetention struct {
	head, tail int
	first      []byte
	last       []byte // the last tail bytes
	total      int
}

func (r *refRetention) write(p []byte) {
	r.total += len(p)
	for _, c := range p {
		if len(r.first) < r.head {
			r.first = append(r.first, c)
			continue
		}
		r.last = append(r.last, c)
		if len(r.last) > r.tail {
			r.last = r.last[1:]
		}
	}
}

func (r *refRetention) bytes() []byte {
	out := append([]byte(nil), r.first...)
	if omitted := r.total - len(r.first) - len(r.last); omitted > 0 {
		out = append(out, "\n[holdfast: "+strconv.Itoa(omitted)+" bytes omitted]\n"...)
	}
	return append(out, r.last...)
}

// FuzzRetained feeds random bytes in random chunk sizes into a log with a
// random head and tail size and checks, at random points and at the end,
// that what it keeps (head, cut marker, tail) equals the reference byte
// for byte, and that the head it reports to output.log's writer is the
// stream's start. `go test` runs the seeds; README "Development" has the
// command for a longer run.
func FuzzRetained(f *testing.F) {
	f.Add(uint64(1), uint32(0), uint32(0), uint32(10), uint16(1))
	f.Add(uint64(2), uint32(1), uint32(1), uint32(3), uint16(2))
	f.Add(uint64(3), uint32(100), uint32(0), uint32(1000), uint16(700))
	f.Add(uint64(4), uint32(0), uint32(100), uint32(1000), uint16(700))
	f.Add(uint64(5), uint32(4096), uint32(4096), uint32(8192), uint16(4096))
	f.Add(uint64(6), uint32(64<<10), uint32(200<<10), uint32(3<<20), uint16(65535))
	f.Add(uint64(7), uint32(1<<20), uint32(1<<20), uint32(1<<20+1), uint16(0))
	f.Add(uint64(8), uint32(300<<10), uint32(5), uint32(2<<20), uint16(9999))
	f.Fuzz(func(t *testing.T, seed uint64, head, tail, total uint32, chunkMax uint16) {
		h, tl := int(head%(2<<20)), int(tail%(2<<20))
		n := int(total % (6 << 20))
		maxChunk := 1 + int(chunkMax)%readSize
		if chunkMax == 0 {
			maxChunk = readSize
		}
		r := newRetained(int64(h + tl))
		r.headCap, r.tailCap = int64(h), int64(tl)
		r.blockSize = blockSizeFor(int64(tl))
		ref := &refRetention{head: h, tail: tl}

		data := make([]byte, n)
		fillRandom(data, seed)
		rng := rand.New(rand.NewPCG(seed, uint64(maxChunk)))
		checks := map[int]bool{n: true}
		for range 4 {
			checks[rng.IntN(n+1)] = true
		}
		check := func(at int) {
			want := ref.bytes()
			if got := r.bytes(); !bytes.Equal(got, want) {
				t.Fatalf("head %d, tail %d, after %d bytes: kept %d bytes, reference %d, differ at %d", h, tl, at, len(got), len(want), firstDiff(got, want))
			}
			r.mu.Lock()
			start, ok := r.rawRange(0, r.headCap)
			r.mu.Unlock()
			if wantHead := data[:min(at, h)]; !ok || !bytes.Equal(concat(start), wantHead) {
				t.Fatalf("head %d, tail %d, after %d bytes: rawRange of the head is wrong", h, tl, at)
			}
		}
		for at := 0; at < n; {
			k := min(n-at, 1+rng.IntN(maxChunk))
			l := r.commit(data[at : at+k])
			ref.write(data[at : at+k])
			if !bytes.Equal(l.p, data[at:at+k]) {
				t.Fatalf("the loan of the chunk at %d differs from the chunk", at)
			}
			r.giveBack(l)
			at += k
			if checks[at] {
				check(at)
			}
		}
		if n == 0 {
			check(0)
		}
	})
}
