package memwatch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writePoints(t *testing.T, path string, l Layout, n int) {
	t.Helper()
	w, err := createTimeline(path, l)
	if err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(1_700_000_000_000)
	for i := 1; i <= n; i++ {
		p := Point{Time: base.Add(time.Duration(i) * time.Second), Usage: uint64(i) * 10, Limit: 1000, RSS: uint64(i)}
		if err := w.append(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

func TestTimelineRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memory.timeline")
	l := Layout{FineSlots: 10, CoarseSlots: 4, CoarseEvery: 3}
	writePoints(t, path, l, 7)
	st, _ := os.Stat(path)
	if st.Size() != l.Size() {
		t.Fatalf("size %d, want %d", st.Size(), l.Size())
	}
	ps, err := ReadTimeline(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 7 {
		t.Fatalf("got %d points, want 7: %+v", len(ps), ps)
	}
	for i, p := range ps {
		if p.Seq != uint64(i+1) || p.Usage != uint64(i+1)*10 || p.Coarse {
			t.Fatalf("point %d: %+v", i, p)
		}
	}
}

// After the fine ring wraps, the coarse records older than the oldest fine
// one come first, each carrying the peak of the samples it folds.
func TestTimelineWrapAndCoarse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memory.timeline")
	l := Layout{FineSlots: 5, CoarseSlots: 3, CoarseEvery: 4}
	writePoints(t, path, l, 30)
	ps, err := ReadTimeline(path)
	if err != nil {
		t.Fatal(err)
	}
	// fine: 26..30. coarse folds end at 4,8,...,28; the ring keeps the
	// last three (20, 24, 28); only 20 and 24 are older than 26.
	var seqs []uint64
	for _, p := range ps {
		seqs = append(seqs, p.Seq)
	}
	want := []uint64{20, 24, 26, 27, 28, 29, 30}
	if len(seqs) != len(want) {
		t.Fatalf("seqs %v, want %v", seqs, want)
	}
	for i := range want {
		if seqs[i] != want[i] {
			t.Fatalf("seqs %v, want %v", seqs, want)
		}
	}
	if !ps[0].Coarse || ps[0].Usage != 200 || ps[0].RSS != 20 || ps[2].Coarse {
		t.Fatalf("coarse record %+v / %+v", ps[0], ps[2])
	}
	// Bounded: the file never grows.
	st, _ := os.Stat(path)
	if st.Size() != l.Size() {
		t.Fatalf("size %d, want %d", st.Size(), l.Size())
	}
}

func TestTimelineTornAndShort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "memory.timeline")
	l := Layout{FineSlots: 10, CoarseSlots: 0, CoarseEvery: 1}
	writePoints(t, path, l, 5)
	data, _ := os.ReadFile(path)

	// A torn last record: its second half never reached the file.
	torn := append([]byte(nil), data...)
	off := headerSize + 4*recordSize
	for i := off + 20; i < off+recordSize; i++ {
		torn[i] = 0
	}
	ps, err := parseTimeline(torn)
	if err != nil || len(ps) != 4 || ps[3].Seq != 4 {
		t.Fatalf("torn: %d points %v", len(ps), err)
	}
	// A file cut in the middle of the second record.
	ps, err = parseTimeline(data[:headerSize+recordSize+7])
	if err != nil || len(ps) != 1 {
		t.Fatalf("short: %d points %v", len(ps), err)
	}
	// Not a timeline at all.
	if _, err := parseTimeline([]byte("hello")); err != ErrNotTimeline {
		t.Fatalf("garbage: %v", err)
	}
	bad := append([]byte(nil), data...)
	bad[8] = 0 // zero fine slots
	bad[9], bad[10], bad[11] = 0, 0, 0
	if _, err := parseTimeline(bad); err == nil {
		t.Fatal("bad layout: want an error")
	}
}

func TestTimelineRefusesExistingAndSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "memory.timeline")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if _, err := createTimeline(link, DefaultLayout); err == nil {
		t.Fatal("created a timeline through a symlink")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("victim changed: %q", b)
	}
	if _, err := ReadTimeline(link); err == nil {
		t.Fatal("read a timeline through a symlink")
	}
}
