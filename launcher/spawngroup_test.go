package launcher

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSpawnOwnGroup: the child leads a process group of its own, so a stop
// or kill of its group never reaches holdfast; argv passes through as given.
func TestSpawnOwnGroup(t *testing.T) {
	r := NewReaper()
	out := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := r.Spawn(Spec{Argv: []string{"sh", "-c", `echo "$(cut -d' ' -f5 /proc/$$/stat) $0 $1"`, "zero", "one two"}, Stdout: f})
	if err != nil {
		t.Fatal(err)
	}
	waitExited(t, c.Pid)
	r.Reap()
	if st := <-c.Done; st.Crashed() {
		t.Fatalf("the child: %v", st)
	}
	b, _ := os.ReadFile(out)
	fields := strings.Fields(string(b))
	if len(fields) != 4 || fields[0] != strconv.Itoa(c.Pid) || fields[1] != "zero" || fields[2] != "one" || fields[3] != "two" {
		t.Errorf("the child printed %q; want its own pid %d as its group, then zero one two", b, c.Pid)
	}
	if fields[0] == strconv.Itoa(syscall.Getpgrp()) {
		t.Errorf("the child is in the test's own group %d", syscall.Getpgrp())
	}
}

// TestSpawnErrorCodes: a command that cannot be started maps to 127 (not
// found) or 126 (found, not executable), named in the error.
func TestSpawnErrorCodes(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		argv []string
		code int
	}{
		{[]string{filepath.Join(dir, "missing")}, ExitNotFound},
		{[]string{"holdfast-launcher-test-no-such-command"}, ExitNotFound},
		{[]string{notExec}, ExitCannotExec},
		{[]string{dir}, ExitCannotExec},
	} {
		r := NewReaper()
		c, err := r.Spawn(Spec{Argv: tc.argv})
		if err == nil {
			t.Errorf("%q started (pid %d); want an error", tc.argv, c.Pid)
			continue
		}
		if got := ExecErrorCode(err); got != tc.code || !strings.Contains(err.Error(), tc.argv[0]) {
			t.Errorf("%q: %v: code %d, want %d and the command named", tc.argv, err, got, tc.code)
		}
		if len(r.pids) != 0 {
			t.Errorf("%q: a failed start left %d pids registered", tc.argv, len(r.pids))
		}
	}
	if _, err := NewReaper().Spawn(Spec{}); err == nil {
		t.Error("an empty command started")
	}
}
