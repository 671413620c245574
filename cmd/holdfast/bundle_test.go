package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// offlineStateDir is a state dir a holdfast left: two runs, no socket.
func offlineStateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for n, rec := range map[string]string{
		"1": `{"run":1,"command":["java","-jar","a.jar"],"started_at":"2026-12-06T09:00:00Z","exit_code":1,"reason":"startup-crash","decision":"restart","cause":{"kind":"spring-failure-analysis","summary":"Port 8080 was already in use."}}`,
		"2": `{"run":2,"command":["java","-jar","a.jar"],"started_at":"2026-12-06T09:01:00Z","exit_code":1,"reason":"startup-crash","decision":"hold"}`,
	} {
		d := filepath.Join(dir, "runs", n)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "run.json"), []byte(rec), 0o600)
		os.WriteFile(filepath.Join(d, "output.log"), []byte("line a of run "+n+"\nline b of run "+n+"\n"), 0o644)
	}
	return dir
}

// With no holdfast, runs, logs and bundle read the state dir and say so.
func TestOfflineSubcommands(t *testing.T) {
	dir := offlineStateDir(t)
	var code int
	var out string
	errOut := captureStderr(t, func() { out = captureStdout(t, func() { code = run([]string{"runs", "--state-dir", dir}) }) })
	if code != 0 || !strings.Contains(out, "startup-crash") || !strings.Contains(errOut, "reading the state dir "+dir) {
		t.Errorf("runs: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	captureStderr(t, func() {
		out = captureStdout(t, func() { code = run([]string{"logs", "--run", "1", "--tail", "1", "--state-dir", dir}) })
	})
	if code != 0 || out != "line b of run 1\n" {
		t.Errorf("logs --run 1 --tail 1: exit %d, %q", code, out)
	}
	captureStderr(t, func() { out = captureStdout(t, func() { code = run([]string{"logs", "--state-dir", dir}) }) })
	if code != 0 || out != "line a of run 2\nline b of run 2\n" {
		t.Errorf("logs: exit %d, %q; want the newest run's output", code, out)
	}
	file := filepath.Join(t.TempDir(), "b.tgz")
	captureStderr(t, func() { code = run([]string{"bundle", "--state-dir", dir, "-o", file}) })
	names, summary := tgzNames(t, file)
	if !strings.Contains(summary, "spring-failure-analysis: Port 8080 was already in use.") {
		t.Errorf("SUMMARY.txt does not carry run 1's cause:\n%s", summary)
	}
	for _, want := range []string{"status.json", "runs.json", "facts.json", "runs/1/run.json", "runs/2/output.log", "SUMMARY.txt", "MANIFEST"} {
		if !strings.Contains(names, "/"+want+"\n") {
			t.Errorf("bundle lacks %s: %s", want, names)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("bundle file: %v, %v; want mode 0600", fi, err)
	}

	// Bad usage is exit 2 and writes no file.
	for _, args := range [][]string{{"--run", "1", "--all"}, {"--run", "9"}} {
		f := filepath.Join(t.TempDir(), "x.tgz")
		captureStderr(t, func() { code = run(append([]string{"bundle", "--state-dir", dir, "-o", f}, args...)) })
		if _, err := os.Stat(f); code == 0 || err == nil {
			t.Errorf("bundle %q: exit %d, file left: %v", args, code, err == nil)
		}
	}
}

// tgzNames lists a gzip-compressed tar's member names, one a line, and
// returns its SUMMARY.txt.
func tgzNames(t *testing.T, file string) (string, string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var b strings.Builder
	var summary []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return b.String(), string(summary)
		}
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(h.Name + "\n")
		if strings.HasSuffix(h.Name, "/SUMMARY.txt") {
			summary, _ = io.ReadAll(tr)
		}
	}
}

// A bundle is never written to a terminal: exit 2, nothing on it.
func TestBundleRefusesTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	dir := offlineStateDir(t)
	old := os.Stdout
	os.Stdout = tty
	var code int
	errOut := captureStderr(t, func() { code = run([]string{"bundle", "--state-dir", dir}) })
	os.Stdout = old
	if code != 2 || !strings.Contains(errOut, "stdout is a terminal") {
		t.Errorf("bundle to a terminal: exit %d, stderr %q", code, errOut)
	}
	// The negative control: the same to a file works.
	captureStderr(t, func() { code = run([]string{"bundle", "--state-dir", dir, "-o", filepath.Join(t.TempDir(), "b.tgz")}) })
	if code != 0 {
		t.Errorf("bundle -o FILE: exit %d", code)
	}
}
