package e2e

// Secrets on the app's command line (docs/security/redact.md). An unauthenticated GET /status,
// the run record, the CLI and holdfast's own log lines (the hold banner) show the
// app's argv; the values of secret-named arguments must not be in any of them, while
// the app itself still gets them.

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

func TestRedactArgvSecrets(t *testing.T) {
	t.Parallel()
	secrets := []string{"hunter2", "s3cret"}
	argvFile := filepath.Join(t.TempDir(), "argv")
	// The app writes the argv it got, one argument a line, and crashes: with
	// --max-restarts=0 holdfast holds at once, banner and all.
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=0"},
		env:  []string{"ARGV_FILE=" + argvFile},
		app: []string{"/bin/sh", "-c", `printf '%s\n' "$@" > "$ARGV_FILE"; exit 3`, "app",
			"--spring.datasource.password=hunter2", "-Djavax.net.ssl.keyStorePassword=s3cret", "--server.port=8080"},
	})
	z.waitPhase(t, "held", 1)
	z.waitOutput(t, "APP HELD", hfrun.WaitLong)

	// The attack's premise: the app did get the secrets.
	got := strings.Join(readArgLines(t, argvFile), " ")
	for _, s := range secrets {
		if !strings.Contains(got, s) {
			t.Fatalf("the app's argv %q lacks %q: the test proves nothing", got, s)
		}
	}

	seen := map[string]string{}
	code, body, err := hfrun.Fetch(z.base + "/status")
	if err != nil || code != 200 {
		t.Fatalf("GET /status: %d %v", code, err)
	}
	seen["GET /status (no credentials)"] = body
	for _, args := range [][]string{{"status", "--json"}, {"status"}, {"runs", "--json"}, {"runs"}} {
		out, errOut, code := runCLI(t, z.stateDir, args[0], args[1:]...)
		if code != 0 {
			t.Fatalf("holdfast %v exited %d: %s", args, code, errOut)
		}
		seen["holdfast "+strings.Join(args, " ")] = out + errOut
	}
	seen["holdfast's output (log lines, hold banner)"] = z.output()
	_ = filepath.WalkDir(z.stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil {
				seen[p] = string(b)
			}
		}
		return nil
	})
	if _, ok := seen[filepath.Join(hfrun.RunDir(z.stateDir, 1), "run.json")]; !ok {
		t.Fatalf("no run.json in %s", hfrun.RunDir(z.stateDir, 1))
	}

	for where, text := range seen {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %q:\n%s", where, s, text)
			}
		}
	}
	// What is shown still names the arguments (the redaction hides values only).
	for _, where := range []string{"GET /status (no credentials)", "holdfast status", filepath.Join(hfrun.RunDir(z.stateDir, 1), "run.json")} {
		for _, want := range []string{"--spring.datasource.password=***", "-Djavax.net.ssl.keyStorePassword=***", "--server.port=8080"} {
			if !strings.Contains(seen[where], want) {
				t.Errorf("%s lacks %q:\n%s", where, want, seen[where])
			}
		}
	}
}

// readArgLines waits for the app's argv file and returns its lines.
func readArgLines(t *testing.T, path string) []string {
	t.Helper()
	var lines []string
	hfrun.WaitFor(t, hfrun.WaitLong, "the app to write its argv to "+path, func() bool {
		b, err := os.ReadFile(path)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return err == nil && len(b) > 0
	})
	return lines
}
