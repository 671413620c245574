package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// buildHelpers builds the helper programs into dir, static, from the
// module in src.
func buildHelpers(src, dir string) (app, orphans, sigstamp string, err error) {
	gobin := "go"
	if _, err := exec.LookPath("go"); err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	for _, h := range []struct{ pkg, out string }{{"./cmd/benchapp", "benchapp"}, {"./cmd/orphans", "orphans"}} {
		out := filepath.Join(dir, h.out)
		cmd := exec.Command(gobin, "build", "-trimpath", "-o", out, h.pkg)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", "", "", fmt.Errorf("cannot build %s: %w\n%s", h.pkg, err, b)
		}
	}
	// The one C helper: a signal receiver with no runtime between the
	// kernel and its stamp.
	sigstamp = filepath.Join(dir, "sigstamp")
	cmd := exec.Command("cc", "-O2", "-static", "-o", sigstamp, filepath.Join(src, "csrc", "sigstamp.c"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", "", "", fmt.Errorf("cannot build csrc/sigstamp.c (cc, static): %w\n%s", err, b)
	}
	return filepath.Join(dir, "benchapp"), filepath.Join(dir, "orphans"), sigstamp, nil
}

// machine describes where the numbers come from.
func machine(holdfast string, inits map[string]string) []string {
	lines := []string{
		fmt.Sprintf("CPUs: %d (%s)", runtime.NumCPU(), cpuModel()),
		"Kernel: " + readTrim("/proc/sys/kernel/osrelease"),
		"Memory: " + memTotal(),
		"Go: " + runtime.Version() + " (benchmark and helpers, CGO_ENABLED=0)",
		"holdfast: " + firstLine(holdfast, "version"),
	}
	for _, name := range []string{"tini", "dumb-init", "catatonit"} {
		lines = append(lines, name+": "+firstLine(inits[name], "--version"))
	}
	if p := inits["Pebble"]; p != "" {
		lines = append(lines, "Pebble: "+firstLine(p, "version", "--client"))
	}
	if p := inits["supervisord (Go port)"]; p != "" {
		lines = append(lines, "supervisord (Go port): "+firstLine(p, "version")+" (tag v0.6.9; its version.go says v0.6.8)")
	}
	if p := inits["supervisord (Python)"]; p != "" {
		lines = append(lines, "supervisord (Python): "+firstLine(p, "--version")+" (Debian package supervisor)")
	}
	return lines
}

func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	m, err := procStatusFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(m["MemTotal"])/(1<<20))
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// loadavg is the 1/5/15-minute load: the noise the numbers were taken in.
func loadavg() string {
	fs := strings.Fields(readTrim("/proc/loadavg"))
	if len(fs) < 3 {
		return "unknown"
	}
	return strings.Join(fs[:3], " ")
}

func firstLine(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
