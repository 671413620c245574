package e2e

// A script whose #! interpreter is missing fails execve(2) with ENOENT although the
// script is there: holdfast says "bad interpreter" and names it, and exits 127 as
// bash 5.2, dash, busybox sh and tini do for it.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

func TestExecBadInterpreter(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "start.sh")
	if err := os.WriteFile(script, []byte("#!/nonexistent/interp -e\necho never\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := startPID1(t, nil, "--", script)
	if code := h.waitExit(t, hfrun.WaitLong); code != 127 {
		t.Errorf("a script with a missing #! interpreter: holdfast exited %d, want 127", code)
	}
	l := linesWith(h.stderr.String(), script)
	if len(l) != 1 || !strings.Contains(l[0], "bad interpreter") || !strings.Contains(l[0], `"/nonexistent/interp"`) {
		t.Errorf("want one line on stderr naming %s, saying \"bad interpreter\" and naming /nonexistent/interp; got:\n%s", script, h.stderr)
	}
	// Negative control: a missing command is still reported as not found, not as a
	// bad interpreter.
	missing := filepath.Join(t.TempDir(), "no-such-script")
	h = startPID1(t, nil, "--", missing)
	if code := h.waitExit(t, hfrun.WaitLong); code != 127 || strings.Contains(h.stderr.String(), "interpreter") {
		t.Errorf("a missing command: exit %d, stderr:\n%s\nwant 127 and no word of an interpreter", code, h.stderr)
	}
}
