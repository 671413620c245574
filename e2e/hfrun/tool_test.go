package hfrun

import (
	"fmt"
	"testing"
)

// tbRecorder records how NeedTool ended a test instead of ending it.
type tbRecorder struct {
	testing.TB
	skipped, failed string
}

func (r *tbRecorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *tbRecorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestNeedTool(t *testing.T) {
	const missing = "holdfast-no-such-tool"
	for _, c := range []struct {
		ci         string
		skip, fail bool
	}{
		{ci: "", skip: true},
		{ci: "false", skip: true},
		{ci: "true", fail: true},
	} {
		t.Setenv("CI", c.ci)
		r := &tbRecorder{TB: t}
		if p := NeedTool(r, missing); p != "" {
			t.Errorf("CI=%q: NeedTool(%s) = %q, want empty", c.ci, missing, p)
		}
		if (r.skipped != "") != c.skip || (r.failed != "") != c.fail {
			t.Errorf("CI=%q: skipped %q, failed %q; want skip %v, fail %v", c.ci, r.skipped, r.failed, c.skip, c.fail)
		}
	}
	// A tool that is there is found, whatever CI says.
	t.Setenv("CI", "true")
	r := &tbRecorder{TB: t}
	if p := NeedTool(r, "sh"); p == "" || r.skipped != "" || r.failed != "" {
		t.Errorf("NeedTool(sh) = %q (skipped %q, failed %q), want a path", p, r.skipped, r.failed)
	}
}
