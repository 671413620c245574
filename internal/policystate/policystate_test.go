package policystate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var pol = Policy{Hold: true, HoldWindow: 10 * time.Minute, MaxRestarts: 2}

// started is the policy state a holdfast leaves when it dies during run
// (attempt) with used crashes behind it.
func started(fp string, run, attempt, used, starts int) File {
	return File{Version: Version, Fingerprint: fp, Run: run, Attempt: attempt, StartedAt: t0, Used: used, Starts: starts}
}

func open(run int, lived time.Duration) OpenRun {
	return OpenRun{Run: run, StartedAt: t0, LastSign: t0.Add(lived), Summary: "killed together"}
}

func TestVanishedRunInWindowCounts(t *testing.T) {
	p := Restore(Input{File: started("fp", 4, 1, 0, 1), Fingerprint: "fp", Policy: pol, Open: []OpenRun{open(4, 3*time.Second)}})
	if p.Fresh || p.StartHeld || p.Used != 1 || len(p.Vanished) != 1 || !p.Vanished[0].Counted || p.Vanished[0].Decision != "restart" {
		t.Fatalf("plan %+v, want the budget continued with 1 used, run 4 counted", p)
	}
	if p.Vanished[0].EndedAt != t0.Add(3*time.Second) || p.Restarts() != 1 || len(p.Next.Vanished) != 1 {
		t.Errorf("vanished %+v restarts %d next %+v", p.Vanished[0], p.Restarts(), p.Next)
	}
}

func TestVanishedAfterWindowIsLate(t *testing.T) {
	p := Restore(Input{File: started("fp", 4, 2, 1, 2), Fingerprint: "fp", Policy: pol, Open: []OpenRun{open(4, time.Hour)}})
	if !p.Fresh || p.Used != 0 || p.StartHeld || p.Vanished[0].Counted || !strings.Contains(p.Why, "late") {
		t.Fatalf("plan %+v, want a fresh budget after a late vanish", p)
	}
}

func TestVanishedReadyGated(t *testing.T) {
	ready := started("fp", 2, 1, 0, 1)
	ready.Ready = true
	gated := Policy{Hold: true, HoldWindow: time.Second, MaxRestarts: 0, ReadyGated: true}
	if p := Restore(Input{File: ready, Fingerprint: "fp", Policy: gated, Open: []OpenRun{open(2, time.Minute)}}); !p.Fresh || p.StartHeld {
		t.Errorf("a run that had been ready: %+v, want fresh (a late crash)", p)
	}
	notReady := started("fp", 2, 1, 0, 1)
	if p := Restore(Input{File: notReady, Fingerprint: "fp", Policy: gated, Open: []OpenRun{open(2, time.Hour)}}); p.Fresh || !p.StartHeld {
		t.Errorf("a run never ready, however long: %+v, want held (budget 0 spent)", p)
	}
}

// The budget spent over container restarts: each holdfast dies with its
// run; the third start after max-restarts 2 starts held.
func TestBudgetSpentAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	st := NewStore(dir)
	run := 0
	for start := 1; start <= 4; start++ {
		f, err := st.Load()
		var opens []OpenRun
		if run > 0 {
			opens = []OpenRun{open(run, 2*time.Second)}
		}
		p := Restore(Input{File: f, LoadErr: err, Fingerprint: "fp", Policy: pol, Open: opens})
		if p.Restarts() != start-1 {
			t.Errorf("start %d: %d container restarts, want %d", start, p.Restarts(), start-1)
		}
		if _, err := st.Write(p.Next, t0); err != nil {
			t.Fatal(err)
		}
		if start == 4 {
			if !p.StartHeld || p.HoldReason != "startup-crash" || p.Used != 2 || p.Vanished[0].Decision != "hold" || len(p.Next.Vanished) != 3 {
				t.Fatalf("start 4: %+v, want held after 3 vanished startup crashes", p)
			}
			// Killed again while held: it stays held.
			f, err := st.Load()
			p = Restore(Input{File: f, LoadErr: err, Fingerprint: "fp", Policy: pol})
			if !p.StartHeld || p.Restarts() != 4 {
				t.Fatalf("start 5: %+v, want still held", p)
			}
			return
		}
		if p.StartHeld || p.Used != start-1 {
			t.Fatalf("start %d: %+v, want the app started with %d used", start, p, start-1)
		}
		// The supervisor starts run N with attempt used+1 and writes it.
		run++
		next := p.Next
		next.Run, next.Attempt, next.StartedAt, next.Ended, next.Used = run, p.Used+1, t0, false, p.Used
		if _, err := st.Write(next, t0); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChangedCommandFreshBudget(t *testing.T) {
	f := started("old", 3, 3, 2, 3)
	p := Restore(Input{File: f, Fingerprint: "new", Policy: pol, Open: []OpenRun{open(3, time.Second)}})
	if !p.Fresh || p.StartHeld || p.Used != 0 || p.Vanished[0].Counted || p.Restarts() != 0 || !strings.Contains(p.Why, "changed") {
		t.Fatalf("plan %+v, want a fresh budget", p)
	}
	// The vanished run is still marked, for `holdfast runs`.
	if len(p.Vanished) != 1 || p.Vanished[0].Decision != "restart" {
		t.Errorf("vanished %+v", p.Vanished)
	}
}

func TestExitedFreshBudget(t *testing.T) {
	f := started("fp", 3, 3, 2, 3)
	f.Ended, f.Exited, f.Held = true, true, "startup-crash"
	if p := Restore(Input{File: f, Fingerprint: "fp", Policy: pol}); !p.Fresh || p.StartHeld {
		t.Fatalf("after holdfast's own exit: %+v, want fresh", p)
	}
}

// A torn policy.json is a fresh budget, not an error that stops the app.
func TestTornFile(t *testing.T) {
	dir := t.TempDir()
	st := NewStore(dir)
	if _, err := st.Write(started("fp", 2, 2, 1, 2), t0); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if err := os.WriteFile(filepath.Join(dir, FileName), data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := NewStore(dir).Load()
	if err == nil || errors.Is(err, ErrNoFile) {
		t.Fatalf("torn file loaded: %+v %v", f, err)
	}
	p := Restore(Input{File: f, LoadErr: err, Fingerprint: "fp", Policy: pol, Open: []OpenRun{open(2, time.Second)}})
	if !p.Fresh || !strings.Contains(p.Why, "torn") || len(p.Vanished) != 1 {
		t.Fatalf("plan %+v", p)
	}
}

// A state dir from before policy.json: its open run is marked vanished,
// the budget is fresh.
func TestOldStateDir(t *testing.T) {
	f, err := NewStore(t.TempDir()).Load()
	if !errors.Is(err, ErrNoFile) {
		t.Fatalf("empty dir: %v", err)
	}
	p := Restore(Input{File: f, LoadErr: err, Fingerprint: "fp", Policy: pol, Open: []OpenRun{open(7, time.Second)}})
	if !p.Fresh || p.StartHeld || len(p.Vanished) != 1 || p.Vanished[0].Counted {
		t.Fatalf("plan %+v", p)
	}
}

func TestWriteOnlyOnChange(t *testing.T) {
	dir := t.TempDir()
	st := NewStore(dir)
	f := started("fp", 1, 1, 0, 1)
	if w, err := st.Write(f, t0); !w || err != nil {
		t.Fatalf("first write: %v %v", w, err)
	}
	if w, err := st.Write(f, t0.Add(time.Hour)); w || err != nil {
		t.Fatalf("unchanged write: %v %v", w, err)
	}
	f.Ready = true
	if w, err := st.Write(f, t0); !w || err != nil {
		t.Fatalf("changed write: %v %v", w, err)
	}
	got, err := NewStore(dir).Load()
	if err != nil || !got.Ready || got.Run != 1 {
		t.Fatalf("loaded %+v %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// A link planted as policy.json is never read through, and is replaced.
func TestLinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(target, []byte(`{"version":1}`), 0o600)
	if err := os.Symlink(target, filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	st := NewStore(dir)
	if _, err := st.Load(); err == nil {
		t.Fatal("a link was read as policy.json")
	}
	if _, err := st.Write(started("fp", 1, 1, 0, 1), t0); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != `{"version":1}` {
		t.Errorf("written through the link: %s", b)
	}
}

func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	jar := filepath.Join(dir, "app.jar")
	os.WriteFile(jar, []byte("v1"), 0o644)
	env := []string{"PATH=/usr/bin:/bin"}
	a := Fingerprint([]string{"sh", "-c", "x", jar}, env)
	if a != Fingerprint([]string{"sh", "-c", "x", jar}, env) {
		t.Fatal("not stable")
	}
	if a == Fingerprint([]string{"sh", "-c", "y", jar}, env) {
		t.Error("another argument, same fingerprint")
	}
	os.WriteFile(jar, []byte("v2"), 0o644)
	if a == Fingerprint([]string{"sh", "-c", "x", jar}, env) {
		t.Error("another jar, same fingerprint")
	}
}

func TestVanishedCauseWithoutTimeline(t *testing.T) {
	c := VanishedCause(t.TempDir())
	if c.Kind != "unknown" || !strings.Contains(c.Summary, "killed together") || len(c.Summary) > 200 {
		t.Fatalf("cause %+v", c)
	}
	if got := LastSign(t.TempDir(), t0); !got.Equal(t0) {
		t.Errorf("last sign of an empty dir %v, want the start", got)
	}
}
