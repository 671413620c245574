package shellsrv

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
)

func TestAllowedClientEnv(t *testing.T) {
	for name, want := range map[string]bool{
		"LANG": true, "LC_ALL": true, "LC_TIME": true, "TZ": true,
		"PATH": false, "LD_PRELOAD": false, "JAVA_HOME": false, "JAVA_TOOL_OPTIONS": false,
		"BASH_ENV": false, "LC_": false, "LC_lower": false, "TERM": false, "HOME": false,
	} {
		if got := allowedClientEnv(name, "x"); got != want {
			t.Errorf("allowedClientEnv(%q) = %v, want %v", name, got, want)
		}
	}
	if allowedClientEnv("LANG", "a\x00b") || allowedClientEnv("LANG", strings.Repeat("x", maxClientEnvValue+1)) {
		t.Error("bad values accepted")
	}
}

func TestSessionEnv(t *testing.T) {
	app := []string{"PATH=/app/bin", "JAVA_HOME=/jdk", "USER=appuser", "SSH_TTY=/dev/stale", "LANG=en_US.UTF-8", "X=1", "X=2"}
	acct := account{Name: "root", Home: "/root"}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 5555}
	local := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 2222}
	env := sessionEnv(app, acct, "/bin/sh", []string{"LANG=C.UTF-8"}, "xterm", "", remote, local)
	for k, want := range map[string]string{
		"PATH": "/app/bin", "JAVA_HOME": "/jdk", "USER": "appuser", "LOGNAME": "root", "HOME": "/root",
		"SHELL": "/bin/sh", "LANG": "C.UTF-8", "TERM": "xterm", "X": "2", "SSH_TTY": "",
		"SSH_CLIENT": "10.0.0.9 5555 2222", "SSH_CONNECTION": "10.0.0.9 5555 10.0.0.1 2222",
	} {
		if got := envValue(env, k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if slices.Contains(env, "LANG=en_US.UTF-8") {
		t.Error("overridden LANG kept")
	}
	if app[0] != "PATH=/app/bin" || len(app) != 7 {
		t.Error("sessionEnv modified its input")
	}
}

func TestChooseShell(t *testing.T) {
	if got := chooseShell("/bin/bash", ""); got != "/bin/bash" {
		t.Errorf("passwd shell: %q", got)
	}
	if got := chooseShell("/usr/sbin/nologin", "/usr/bin:/bin"); !strings.HasSuffix(got, "/bash") {
		t.Errorf("nologin: got %q, want bash", got)
	}
	if got := chooseShell("/nonexistent/zsh", ""); !strings.HasSuffix(got, "/bash") {
		t.Errorf("missing shell: got %q, want bash", got)
	}
}

func TestBannerText(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got := bannerText(state.Snapshot{Phase: state.Running, PID: 42, Run: 1}, now)
	for _, want := range []string{"RUNNING", "pid 42", "last exit:  none yet", "holdfast release", "holdfast bundle > crash.tgz"} {
		if !strings.Contains(got, want) {
			t.Errorf("banner %q lacks %q", got, want)
		}
	}
	if strings.Contains(crlf(got), "\r\r") || !strings.Contains(crlf(got), "\r\n") {
		t.Errorf("crlf: %q", crlf(got))
	}
}

// TestBannerWhy: the banner of a held app names its cause on the line
// after the title; once the app runs again the cause goes with the last
// exit; a clean exit has none (negative control).
func TestBannerWhy(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reason := state.ReasonStartupCrash
	c := &cause.Cause{Kind: cause.OOMHeap, Summary: "java.lang.OutOfMemoryError: Java heap space (heap dump java_pid7.hprof)", Line: 40}
	held := state.Snapshot{Phase: state.Held, HoldReason: &reason, HeldSince: &now, Run: 3,
		LastExit: &state.Exit{Code: 1, Run: 3, At: now, Cause: c}}
	lines := strings.Split(bannerText(held, now), "\n")
	if len(lines) < 2 || lines[1] != "  why:        "+c.Summary {
		t.Errorf("held banner: line 2 is not the why:\n%s", strings.Join(lines, "\n"))
	}
	if next := lineWith(lines, "next:"); !strings.Contains(next, "holdfast logs --why") {
		t.Errorf("held banner with a cause line does not suggest holdfast logs --why: %q", next)
	}

	running := held
	running.Phase, running.HoldReason, running.HeldSince, running.PID, running.Run = state.Running, nil, nil, 42, 4
	got := bannerText(running, now)
	_, after, _ := strings.Cut(got, "last exit:")
	if strings.Count(got, "why:") != 1 || !strings.Contains(after, "why:        "+c.Summary) {
		t.Errorf("running banner: the earlier cause must follow the last exit:\n%s", got)
	}

	clean := state.Snapshot{Phase: state.Exited, Run: 1, LastExit: &state.Exit{Run: 1, At: now}}
	if got := bannerText(clean, now); strings.Contains(got, "why") {
		t.Errorf("a clean exit's banner has a why:\n%s", got)
	}
}

// lineWith is the first of lines that contains s, or "".
func lineWith(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
