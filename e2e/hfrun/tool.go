package hfrun

import (
	"os"
	"os/exec"
	"testing"
)

// NeedTool returns the path of the program name on PATH. When it is missing, the test
// is skipped when run locally and fails under CI=true: a CI run whose machine lacks a
// tool scripts/deps.sh installs must not pass by skipping what it was meant to test.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot find %s (scripts/deps.sh installs it): %v", name, err)
	} else {
		t.Skipf("cannot find %s (scripts/deps.sh installs it; under CI=true this fails): %v", name, err)
	}
	return ""
}
