package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestInfo(t *testing.T) {
	got := Info()
	first, _, _ := strings.Cut(got, "\n")
	if first != "holdfast "+Version {
		t.Errorf("first line %q, want %q", first, "holdfast "+Version)
	}
	for _, want := range []string{runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(got, want) {
			t.Errorf("Info() lacks %q:\n%s", want, got)
		}
	}
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v9.8.7-test"
	if got := Info(); !strings.HasPrefix(got, "holdfast v9.8.7-test\n") {
		t.Errorf("Info() ignores Version:\n%s", got)
	}
}

func TestInfoBuildSettings(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/holdfast-dev/holdfast", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	want := "holdfast dev\n" +
		"go:       go1.99\n" +
		"platform: linux/riscv64\n" +
		"module:   v1.2.3\n" +
		"revision: 0123456789abcdef (modified)\n" +
		"time:     2025-01-02T03:04:05Z\n"
	if got := info("dev", "go1.99", "linux/riscv64", bi); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	bi.Settings[3].Value = "false"
	bi.Main.Version = "(devel)"
	got := info("v1", "go1.99", "linux/amd64", bi)
	if !strings.Contains(got, "revision: 0123456789abcdef\n") || strings.Contains(got, "module:") {
		t.Errorf("clean tree or devel module shown wrongly:\n%s", got)
	}

	for _, bi := range []*debug.BuildInfo{nil, {}} {
		got := info("v1", "go1.99", "linux/amd64", bi)
		if strings.Contains(got, "revision") || strings.Contains(got, "time:") || strings.Count(got, "\n") != 3 {
			t.Errorf("no VCS info, yet:\n%s", got)
		}
	}
}

// TestLinkTimeVersion builds a program with the documented -X flag, so a
// moved package or renamed variable breaks this test rather than releases.
func TestLinkTimeVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		// Not on PATH: where the project's scripts put it (scripts/prereq.sh).
		goTool = "/usr/local/go/bin/go"
		if _, serr := os.Stat(goTool); serr != nil {
			t.Fatalf("cannot find the go tool: %v", err)
		}
	}
	bin := filepath.Join(t.TempDir(), "printinfo")
	build := exec.Command(goTool, "build", "-o", bin,
		"-ldflags", "-X github.com/holdfast-dev/holdfast/internal/version.Version=v0.0.0-linktest",
		"./testdata/printinfo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cannot build printinfo: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("cannot run printinfo: %v", err)
	}
	if !strings.HasPrefix(string(out), "holdfast v0.0.0-linktest\n") {
		t.Errorf("-X did not set Version:\n%s", out)
	}
}
