package config

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBadValues: every class of bad value is refused with a message naming
// the flag (or env variable) and the value.
func TestBadValues(t *testing.T) {
	noAccountFiles(t)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want []string // all must be in the message
	}{
		{[]string{"--hold-window", "ten"}, nil, []string{`invalid value "ten" for --hold-window: time: invalid duration "ten"`}},
		{[]string{"--hold-window="}, nil, []string{`invalid value "" for --hold-window`}},
		{[]string{"--grace", "10"}, nil, []string{`"10"`, "--grace", "missing unit"}},
		{[]string{"--backoff=-1s"}, nil, []string{`invalid value "-1s" for --backoff: must not be negative`}},
		{[]string{"--hold-timeout", "-5m"}, nil, []string{`"-5m"`, "--hold-timeout", "negative"}},
		{[]string{"--app-probe-period=0"}, nil, []string{`"0"`, "--app-probe-period", "greater than 0"}},
		{[]string{"--app-probe-timeout=0s"}, nil, []string{`"0s"`, "--app-probe-timeout", "greater than 0"}},
		{[]string{"--max-restarts", "-1"}, nil, []string{`invalid value "-1" for --max-restarts: must not be negative`}},
		{[]string{"--max-restarts", "two"}, nil, []string{`"two"`, "--max-restarts", "whole number"}},
		{[]string{"--keep-runs=0"}, nil, []string{`"0"`, "--keep-runs", "at least 1"}},
		{[]string{"--ssh-max-sessions=0"}, nil, []string{`"0"`, "--ssh-max-sessions", "at least 1"}},
		{[]string{"--app-probe-failure-threshold=0"}, nil, []string{`"0"`, "--app-probe-failure-threshold"}},
		{[]string{"--hold=maybe"}, nil, []string{`invalid value "maybe" for --hold: want true or false`}},
		{[]string{"--on-late-crash", "retry"}, nil, []string{`"retry"`, "--on-late-crash", "exit", "restart"}},
		{[]string{"--jvm=yes"}, nil, []string{`"yes"`, "--jvm", "auto"}},
		{[]string{"--stop-signal", "SIGFOO"}, nil, []string{`"SIGFOO"`, "--stop-signal", "unknown signal"}},
		{[]string{"--stop-signal", "0"}, nil, []string{`"0"`, "--stop-signal"}},
		{[]string{"--parent-death-signal=STOP"}, nil, []string{`"STOP"`, "--parent-death-signal", "stop holdfast itself"}},
		{[]string{"--parent-death-signal", "NOPE"}, nil, []string{`"NOPE"`, "--parent-death-signal", "unknown signal"}},
		{[]string{"--signal-map", "TERM"}, nil, []string{`"TERM"`, "--signal-map", "FROM:TO"}},
		{[]string{"--signal-map", "TERM:QUIT,"}, nil, []string{"--signal-map", "FROM:TO"}},
		{[]string{"--signal-map", "TERM:NOPE"}, nil, []string{`"TERM:NOPE"`, "--signal-map", "unknown signal"}},
		{[]string{"--signal-map", "KILL:TERM"}, nil, []string{"--signal-map", "SIGKILL cannot be caught"}},
		{[]string{"--signal-map", "STOP:TERM"}, nil, []string{"--signal-map", "SIGSTOP cannot be caught"}},
		{[]string{"--signal-map", "CHLD:TERM"}, nil, []string{"--signal-map", "never forwards SIGCHLD"}},
		{[]string{"--signal-map", "TERM:QUIT,SIGTERM:HUP"}, nil, []string{"--signal-map", "SIGTERM is mapped twice"}},
		{[]string{"--signal-map", "15:QUIT,TERM:HUP"}, nil, []string{"SIGTERM is mapped twice"}},
		{[]string{"--probe-addr", "8558"}, nil, []string{`invalid value "8558" for --probe-addr`, "HOST:PORT"}},
		{[]string{"--probe-addr", ":http"}, nil, []string{`":http"`, "--probe-addr", "port"}},
		{[]string{"--ssh-addr", ":70000"}, nil, []string{`":70000"`, "--ssh-addr", "port"}},
		{[]string{"--ssh-addr", "127.0.0.1:"}, nil, []string{"--ssh-addr", "port"}},
		{[]string{"--app-ready-url", "localhost:8080/ready"}, nil, []string{`"localhost:8080/ready"`, "--app-ready-url", "http"}},
		{[]string{"--app-live-url", "ftp://h/x"}, nil, []string{`"ftp://h/x"`, "--app-live-url", "http"}},
		{[]string{"--app-live-url", "http:///x"}, nil, []string{`"http:///x"`, "--app-live-url", "no host"}},
		{[]string{"--app-live-url", "http://h:port/"}, nil, []string{`"http://h:port/"`, "--app-live-url"}},
		{[]string{"--log-max-bytes", "1k"}, nil, []string{`"1k"`, "--log-max-bytes", "at least 4096"}},
		{[]string{"--log-max-bytes", "64XB"}, nil, []string{`"64XB"`, "--log-max-bytes", "512KiB"}},
		{[]string{"--log-max-bytes", "-1"}, nil, []string{`"-1"`, "--log-max-bytes"}},
		{[]string{"--log-max-bytes", "99999999999GiB"}, nil, []string{"--log-max-bytes", "too large"}},
		{[]string{"--retain-memory", "1k"}, nil, []string{`"1k"`, "--retain-memory", "at least 4096"}},
		{[]string{"--state-dir="}, nil, []string{`invalid value "" for --state-dir: must not be empty`}},
		{[]string{"--user", "nobody-here"}, nil, []string{`"nobody-here"`, "--user", "passwd"}},
		{[]string{"--user", ":0"}, nil, []string{`":0"`, "--user", "user is empty"}},
		{[]string{"--backoff-max", "5s", "--backoff", "10s"}, nil, []string{`invalid value "5s" for --backoff-max: less than --backoff (10s)`}},
		{[]string{"--backoff", "1m"}, nil, []string{`invalid value "1m" for --backoff: greater than --backoff-max (30s)`}},
		{[]string{"--hold-on-hang"}, nil, []string{`"true"`, "--hold-on-hang", "--app-live-url"}},

		// From the environment: the variable is named instead of the flag.
		{nil, map[string]string{"HOLDFAST_HOLD_WINDOW": "ten"}, []string{`invalid value "ten" for HOLDFAST_HOLD_WINDOW: time: invalid duration "ten"`}},
		{nil, map[string]string{"HOLDFAST_MAX_RESTARTS": "-3"}, []string{`"-3"`, "HOLDFAST_MAX_RESTARTS", "negative"}},
		{nil, map[string]string{"HOLDFAST_HOLD": "nah"}, []string{`"nah"`, "HOLDFAST_HOLD"}},
		{nil, map[string]string{"HOLDFAST_STOP_SIGNAL": "BOOM"}, []string{`"BOOM"`, "HOLDFAST_STOP_SIGNAL"}},
		{nil, map[string]string{"HOLDFAST_BACKOFF_MAX": "100ms"}, []string{`"100ms"`, "HOLDFAST_BACKOFF_MAX", "less than --backoff"}},
		{nil, map[string]string{"HOLDFAST_HOLD_ON_HANG": "1"}, []string{`"1"`, "HOLDFAST_HOLD_ON_HANG", "--app-live-url"}},
		{nil, map[string]string{"HOLDFAST_USER": "ghost:ghost"}, []string{`"ghost:ghost"`, "HOLDFAST_USER"}},
	} {
		msg := usageError(t, append(tc.args, "app"), tc.env)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q %v:\n  %s\n  does not contain %q", tc.args, tc.env, msg, w)
			}
		}
	}
}

// TestBackoffEqualToMax: --backoff-max is the cap of the delay, so a
// --backoff equal to it is a constant delay, not an error; only a cap below
// the first delay is refused (TestBadValues).
func TestBackoffEqualToMax(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{[]string{"--backoff=5s", "--backoff-max=5s"}, nil, 5 * time.Second},
		{[]string{"--backoff=30s"}, nil, 30 * time.Second}, // the default cap
		{[]string{"--backoff=0", "--backoff-max=0"}, nil, 0},
		{nil, map[string]string{"HOLDFAST_BACKOFF": "2s", "HOLDFAST_BACKOFF_MAX": "2000ms"}, 2 * time.Second},
	} {
		c := mustParse(t, append(tc.args, "app"), tc.env)
		if c.Backoff != tc.want || c.BackoffMax != tc.want {
			t.Errorf("%q %v: backoff %v, max %v; want both %v", tc.args, tc.env, c.Backoff, c.BackoffMax, tc.want)
		}
	}
}

// A valid flag wins over a bad twin (the README's rule): the twin is
// ignored, with a warning naming it; without the flag the twin is an error.
func TestFlagWinsOverBadTwin(t *testing.T) {
	env := map[string]string{"HOLDFAST_GRACE": "soon", "HOLDFAST_STOP_SIGNAL": "BOOM"}
	c := mustParse(t, []string{"--grace=1s", "--stop-signal=INT", "app"}, env)
	if c.Grace != time.Second || c.StopSignal != syscall.SIGINT {
		t.Errorf("grace %v, stop signal %v; want the flags' 1s and SIGINT", c.Grace, c.StopSignal)
	}
	if len(c.Warnings) != 2 || !strings.Contains(c.Warnings[0], `"soon"`) || !strings.Contains(c.Warnings[0], "HOLDFAST_GRACE") ||
		!strings.Contains(c.Warnings[0], "--grace on the command line wins") {
		t.Errorf("warnings = %q, want one per ignored twin naming it", c.Warnings)
	}
	// Negative control: only one flag given, the other bad twin still fails.
	msg := usageError(t, []string{"--grace=1s", "app"}, env)
	if !strings.Contains(msg, "HOLDFAST_STOP_SIGNAL") {
		t.Errorf("bad twin without its flag: %s", msg)
	}
	if c := mustParse(t, []string{"app"}, map[string]string{"HOLDFAST_GRACE": "2s"}); len(c.Warnings) != 0 {
		t.Errorf("warnings for a good twin: %q", c.Warnings)
	}
}
