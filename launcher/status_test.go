package launcher

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStatusOfRealChildren: real children that exit or die by a signal, as
// the reaper decodes them. A death by any signal is a crash, whatever the
// signal: SIGTERM from outside is not a clean exit.
func TestStatusOfRealChildren(t *testing.T) {
	for _, tc := range []struct {
		script     string
		exited     bool
		code       int
		signal     syscall.Signal
		exitCode   int
		crashed    bool
		signalName string
	}{
		{"exit 0", true, 0, 0, 0, false, ""},
		{"exit 1", true, 1, 0, 1, true, ""},
		{"exit 255", true, 255, 0, 255, true, ""},
		{"kill -s TERM $$", false, 0, syscall.SIGTERM, 143, true, "SIGTERM"},
		{"kill -s KILL $$", false, 0, syscall.SIGKILL, 137, true, "SIGKILL"},
		{"kill -s INT $$", false, 0, syscall.SIGINT, 130, true, "SIGINT"},
		{"kill -s USR1 $$", false, 0, syscall.SIGUSR1, 138, true, "SIGUSR1"},
	} {
		t.Run(tc.script, func(t *testing.T) {
			r := NewReaper()
			c := startAll(t, r, []string{"sh", "-c", tc.script})[0]
			waitExited(t, c.Pid)
			r.Reap()
			var st Status
			select {
			case st = <-c.Done:
			default:
				t.Fatalf("no status after the child exited and Reap ran")
			}
			if st.Pid != c.Pid || st.Exited != tc.exited || st.Code != tc.code || st.Signal != tc.signal {
				t.Errorf("status %+v, want pid %d exited %v code %d signal %v", st, c.Pid, tc.exited, tc.code, tc.signal)
			}
			if got := st.ExitCode(); got != tc.exitCode {
				t.Errorf("ExitCode() = %d, want %d", got, tc.exitCode)
			}
			if got := st.Crashed(); got != tc.crashed {
				t.Errorf("Crashed() = %v, want %v", got, tc.crashed)
			}
			if got := st.SignalName(); got != tc.signalName {
				t.Errorf("SignalName() = %q, want %q", got, tc.signalName)
			}
		})
	}
}

// TestStatusFromWait decodes wait statuses as wait(2)'s macros lay them out:
// the exit code in bits 8-15; a signal in bits 0-6, with bit 7 for a core
// dump. A core dump cannot be had on demand from a real child (ulimit,
// core_pattern), so this table covers it.
func TestStatusFromWait(t *testing.T) {
	for _, tc := range []struct {
		ws      unix.WaitStatus
		want    Status
		code    int
		crashed bool
		str     string
	}{
		{0, Status{Pid: 9, Exited: true}, 0, false, "exit code 0"},
		{3 << 8, Status{Pid: 9, Exited: true, Code: 3}, 3, true, "exit code 3"},
		{255 << 8, Status{Pid: 9, Exited: true, Code: 255}, 255, true, "exit code 255"},
		{unix.WaitStatus(syscall.SIGTERM), Status{Pid: 9, Signal: syscall.SIGTERM}, 143, true, "killed by SIGTERM (code 143)"},
		{unix.WaitStatus(syscall.SIGSEGV) | 0x80, Status{Pid: 9, Signal: syscall.SIGSEGV, CoreDumped: true}, 139, true,
			"killed by SIGSEGV (code 139, core dumped)"},
		{unix.WaitStatus(36), Status{Pid: 9, Signal: 36}, 164, true, "killed by SIGRTMIN+2 (code 164)"},
	} {
		st := StatusFromWait(9, tc.ws)
		if st != tc.want {
			t.Errorf("StatusFromWait(%#x) = %+v, want %+v", uint32(tc.ws), st, tc.want)
		}
		if st.ExitCode() != tc.code || st.Crashed() != tc.crashed || st.String() != tc.str {
			t.Errorf("%#x: ExitCode %d, Crashed %v, String %q; want %d, %v, %q",
				uint32(tc.ws), st.ExitCode(), st.Crashed(), st.String(), tc.code, tc.crashed, tc.str)
		}
	}
}
