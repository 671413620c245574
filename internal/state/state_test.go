package state

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
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

func TestWhy(t *testing.T) {
	c := &cause.Cause{Kind: cause.Exception, Summary: "java.net.ConnectException: Connection refused"}
	ended := Snapshot{Phase: Held, Run: 3, LastExit: &Exit{Code: 1, Run: 3, Cause: c}}
	if got := ended.Why(); got != c.Summary {
		t.Errorf("Why of a held run = %q, want its summary", got)
	}
	if got := ended.WithWhy("the app is held (startup-crash)"); got != "the app is held (startup-crash): "+c.Summary {
		t.Errorf("WithWhy = %q", got)
	}
	b, _ := json.Marshal(ended)
	if !strings.Contains(string(b), `"cause":{"kind":"exception","summary":"java.net.ConnectException: Connection refused"}`) {
		t.Errorf("the status JSON's last_exit lacks the cause: %s", b)
	}
	// Negative controls: a later run, a live (hang-held) process, a clean
	// exit.
	for _, s := range []Snapshot{
		{Phase: Running, Run: 4, LastExit: &Exit{Code: 1, Run: 3, Cause: c}},
		{Phase: Held, Run: 3, PID: 42, LastExit: &Exit{Code: 1, Run: 3, Cause: c}},
		{Phase: Exited, Run: 3, LastExit: &Exit{Run: 3}},
		{Phase: Starting},
	} {
		if got := s.Why(); got != "" || s.WithWhy("r") != "r" {
			t.Errorf("Why of %+v = %q, want none", s, got)
		}
	}
	if b, _ := json.Marshal(Exit{Run: 3}); strings.Contains(string(b), "cause") {
		t.Errorf("an exit without a cause writes one: %s", b)
	}
}
