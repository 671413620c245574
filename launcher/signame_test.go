package launcher

import (
	"syscall"
	"testing"
)

func TestSignalName(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{
		syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1",
		sigRTMin: "SIGRTMIN+0", sigRTMin + 3: "SIGRTMIN+3", sigRTMax: "SIGRTMIN+30",
		32: "SIG32", 33: "SIG33", 65: "SIG65",
	} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", int(sig), got, want)
		}
	}
}

// TestParseSignal: every spelling the flags accept, and the errors; each
// name SignalName gives parses back to its number.
func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "SIGTERM": syscall.SIGTERM, "term": syscall.SIGTERM, " sigterm ": syscall.SIGTERM,
		"15": syscall.SIGTERM, "1": syscall.SIGHUP, "64": sigRTMax,
		"RTMIN": sigRTMin, "SIG32": 32, "sig33": 33, "SIGRTMIN+3": sigRTMin + 3, "rtmin+30": sigRTMax, "QUIT": syscall.SIGQUIT,
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, int(got), err, int(want))
		}
	}
	for _, in := range []string{"", "  ", "0", "65", "-1", "NOPE", "SIGNOPE", "RTMIN+31", "RTMIN3", "RTMIN-1", "RTMIN+x", "SIG0", "SIG65", "SIG"} {
		if got, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) = %d, want an error", in, int(got))
		}
	}
	for s := syscall.Signal(1); s <= sigRTMax; s++ {
		if got, err := ParseSignal(SignalName(s)); err != nil || got != s {
			t.Errorf("ParseSignal(SignalName(%d) = %q) = %d, %v", int(s), SignalName(s), int(got), err)
		}
	}
}
