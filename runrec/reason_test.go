package runrec

import (
	"os"
	"strings"
	"testing"
)

// TestEndReasonsDocumented checks that doc.go lists the table EndReasons.
func TestEndReasonsDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[EndReason]bool{}
	for _, r := range EndReasons {
		if seen[r.Reason] {
			t.Errorf("%s is listed twice", r.Reason)
		}
		seen[r.Reason] = true
		if !r.Reason.Known() {
			t.Errorf("%s is not Known", r.Reason)
		}
		line := "//\t" + string(r.Reason) + strings.Repeat(" ", 15-len(r.Reason)) + r.Meaning + "\n"
		if !strings.Contains(string(doc), line) {
			t.Errorf("doc.go lacks the line %q", line)
		}
	}
	if EndReason("crash").Known() || EndReason("").Known() {
		t.Error("a reason outside the table is Known")
	}
}
