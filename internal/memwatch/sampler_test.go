package memwatch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSamplerWatermarkOnce(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("cg", "1000", false))
	cg := Cgroup{Version: V2, Dir: filepath.Join(root, "cg")}
	var fired []Point
	s, err := NewSampler(Config{
		Cgroup:      cg,
		PID:         os.Getpid(),
		Timeline:    filepath.Join(root, "memory.timeline"),
		OnWatermark: func(p Point) { fired = append(fired, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i, usage := range []string{"100", "899", "900", "950", "100", "999"} {
		os.WriteFile(filepath.Join(cg.Dir, "memory.current"), []byte(usage+"\n"), 0o644)
		if _, err := s.Sample(now.Add(time.Duration(i) * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if len(fired) != 1 || fired[0].Usage != 900 || fired[0].Seq != 3 {
		t.Fatalf("watermark calls %+v, want one at usage 900 (sample 3)", fired)
	}
	sum := s.Summary()
	if sum.Limit != 1000 || sum.Peak != 999 || sum.Last != 999 || sum.Samples != 6 ||
		!sum.Watermark || sum.PeakRSS == 0 {
		t.Fatalf("summary %+v", sum)
	}
	ps, err := ReadTimeline(filepath.Join(root, "memory.timeline"))
	if err != nil || len(ps) != 6 || ps[5].Usage != 999 {
		t.Fatalf("timeline %d points %v", len(ps), err)
	}
	s.Close()
	if _, err := s.Sample(now); err != ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}

// Without a limit the watermark never fires; a cgroup file that does not
// parse is an error and writes nothing.
func TestSamplerNoLimitAndUnreadable(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("cg", "max", false))
	cg := Cgroup{Version: V2, Dir: filepath.Join(root, "cg")}
	s, err := NewSampler(Config{
		Cgroup:      cg,
		Timeline:    filepath.Join(root, "memory.timeline"),
		OnWatermark: func(Point) { t.Error("watermark without a limit") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Sample(time.Now()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cg.Dir, "memory.current"), []byte("lots\n"), 0o644)
	if _, err := s.Sample(time.Now()); err == nil {
		t.Fatal("want an error for a malformed memory.current")
	}
	if n := s.Summary().Samples; n != 1 {
		t.Fatalf("samples %d, want 1", n)
	}
}

func TestSaveEvidence(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("cg", "1000", false))
	cg := Cgroup{Version: V2, Dir: filepath.Join(root, "cg")}
	dir := filepath.Join(root, "run")
	os.Mkdir(dir, 0o755)
	written, err := SaveEvidence(dir, os.Getpid(), cg)
	if err != nil || len(written) != 3 {
		t.Fatalf("written %v err %v", written, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, EvidenceStatus))
	if !strings.Contains(string(b), "VmRSS:") {
		t.Fatalf("status: %q", b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, EvidenceSmapsRollup))
	if !strings.Contains(string(b), "Rss:") {
		t.Fatalf("smaps_rollup: %q", b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, EvidenceMemoryStat))
	if !strings.HasPrefix(string(b), "anon ") {
		t.Fatalf("memory.stat: %q", b)
	}
	// A second save into the same dir overwrites nothing.
	if _, err := SaveEvidence(dir, os.Getpid(), cg); err == nil {
		t.Fatal("second save: want errors for existing files")
	}
}

// A symlink planted in the run dir is neither followed nor replaced, and a
// run dir that is itself a symlink is refused.
func TestSaveEvidenceRefusesSymlinks(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("cg", "1000", false))
	cg := Cgroup{Version: V2, Dir: filepath.Join(root, "cg")}
	victim := filepath.Join(root, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	dir := filepath.Join(root, "run")
	os.Mkdir(dir, 0o755)
	os.Symlink(victim, filepath.Join(dir, EvidenceStatus))
	written, err := SaveEvidence(dir, os.Getpid(), cg)
	if err == nil || len(written) != 2 {
		t.Fatalf("written %v err %v; want status refused", written, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("victim written through a symlink: %q", b)
	}
	linkDir := filepath.Join(root, "runlink")
	other := filepath.Join(root, "other")
	os.Mkdir(other, 0o755)
	os.Symlink(other, linkDir)
	if _, err := SaveEvidence(linkDir, os.Getpid(), cg); err == nil {
		t.Fatal("saved into a symlinked dir")
	}
	if ents, _ := os.ReadDir(other); len(ents) != 0 {
		t.Fatalf("files written through the symlinked dir: %v", ents)
	}
}

func TestSamplerNextInterval(t *testing.T) {
	s := &Sampler{cfg: Config{SlowInterval: 5 * time.Second, FastAbove: 0.5}}
	cases := []struct {
		p    Point
		err  error
		want time.Duration
	}{
		{Point{Usage: 100, Limit: 1000}, nil, 5 * time.Second},
		{Point{Usage: 500, Limit: 1000}, nil, time.Second},
		{Point{Usage: 900, Limit: NoLimit}, nil, 5 * time.Second},
		{Point{}, os.ErrNotExist, time.Second},
	}
	for _, c := range cases {
		if got := s.next(c.p, c.err, time.Second); got != c.want {
			t.Errorf("%+v %v: %v, want %v", c.p, c.err, got, c.want)
		}
	}
	plain := &Sampler{cfg: Config{}}
	if got := plain.next(Point{Usage: 1, Limit: 1000}, nil, time.Second); got != time.Second {
		t.Errorf("without SlowInterval: %v", got)
	}
}

// Run samples until its context ends, then returns.
func TestSamplerRunStops(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("cg", "1000", false))
	s, err := NewSampler(Config{Cgroup: Cgroup{Version: V2, Dir: filepath.Join(root, "cg")},
		Timeline: filepath.Join(root, "memory.timeline")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, time.Millisecond, nil); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for s.Summary().Samples < 3 {
		if time.Now().After(deadline) {
			t.Fatal("Run does not sample")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	n := s.Summary().Samples
	time.Sleep(20 * time.Millisecond) // would be ~20 samples if it ran on
	if s.Summary().Samples != n {
		t.Fatal("sampling after Run returned")
	}
}
