package state

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSnapshotJSONNulls(t *testing.T) {
	b, err := json.Marshal(Snapshot{Phase: Held})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"pid":null`, `"started_at":null`, `"last_exit":null`, `"hold_reason":null`, `"phase":"held"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("status JSON lacks %s: %s", want, b)
		}
	}
	b, _ = json.Marshal(Snapshot{PID: 42})
	if !strings.Contains(string(b), `"pid":42`) {
		t.Errorf("pid not written: %s", b)
	}
	if strings.Count(string(b), `"pid"`) != 1 {
		t.Errorf("pid written twice: %s", b)
	}
}

func TestStoreChangedWakesWaiters(t *testing.T) {
	s := NewStore(Snapshot{Phase: Starting})
	ch := s.Changed()
	select {
	case <-ch:
		t.Fatal("changed before any publish")
	default:
	}
	s.Publish(Snapshot{Phase: Running})
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("publish did not wake the waiter")
	}
	if got := s.Load().Phase; got != Running {
		t.Fatalf("phase = %s, want running", got)
	}
	s.Counters.AddSignal("SIGTERM")
	s.Counters.AddSignal("SIGTERM")
	if n := s.Load().Counters.SignalsForwarded["SIGTERM"]; n != 2 {
		t.Fatalf("SIGTERM count = %d, want 2", n)
	}
}

// TestHoldReasonsDocumented checks that doc.go lists the table HoldReasons.
func TestHoldReasonsDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range HoldReasons {
		line := "//\t" + string(r.Reason) + strings.Repeat(" ", 15-len(r.Reason)) + r.Meaning + "\n"
		if !strings.Contains(string(doc), line) {
			t.Errorf("doc.go lacks the line %q", line)
		}
	}
}
