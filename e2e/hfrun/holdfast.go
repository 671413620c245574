package hfrun

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Holdfast returns the absolute path of the binary under test: $HOLDFAST_BIN, or ./cmd/holdfast of the
// repository root (the parent of e2e, the working directory of an e2e test binary)
// built statically into dir, as it ships in images.
func Holdfast(dir string) (string, error) {
	if p := os.Getenv("HOLDFAST_BIN"); p != "" {
		// Absolute: holdfast is started from a working directory of its own.
		return filepath.Abs(p)
	}
	out := filepath.Join(dir, "holdfast")
	goBin, err := exec.LookPath("go")
	if err != nil {
		// Not on PATH: where the project's scripts put it (scripts/prereq.sh).
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/holdfast")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot build holdfast (CGO_ENABLED=0 go build ./cmd/holdfast in ..): %w\n%s", err, b)
	}
	return out, nil
}
