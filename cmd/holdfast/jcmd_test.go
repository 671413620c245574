package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// jcmd's flags end at COMMAND: the words after it are the JVM's, also
// when they look like flags. A target that is no JVM, or no process, is
// one line on stderr, exit 1, and nothing on stdout (not even the pid).
func TestJcmdWords(t *testing.T) {
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	pid := strconv.Itoa(sleep.Process.Pid)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"jcmd", "--pid", pid, "GC.class_histogram", "-all"}, cliFail, "attach to pid " + pid + ": not a JVM"},
		{[]string{"jcmd", "--pid=" + pid, "Thread.print", "-l", "--pid", "1"}, cliFail, "not a JVM"},
		{[]string{"jcmd", "--pid", "2147483647", "VM.version"}, cliFail, "no such process"},
		{[]string{"jcmd", "--pid", pid}, cliUsage, "want a COMMAND"},
		{[]string{"jcmd", "--pid", "-3", "VM.version"}, cliUsage, "--pid takes"},
		{[]string{"jcmd", "--bogus", "VM.version"}, cliUsage, "flag provided but not defined"},
	} {
		var code int
		var out string
		errOut := captureStderr(t, func() { out = captureStdout(t, func() { code = run(tc.args) }) })
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, nothing, and %q", tc.args, code, out, errOut, tc.code, tc.err)
		}
		if tc.code == cliFail && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%q: stderr is more than one line: %q", tc.args, errOut)
		}
	}
}
