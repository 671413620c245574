package launcher

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SignalName returns the canonical name ("SIGTERM"), or "SIG<n>" for a
// number without one (real-time signals are "SIGRTMIN+n").
func SignalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	if sig >= sigRTMin && sig <= sigRTMax {
		return fmt.Sprintf("SIGRTMIN+%d", int(sig-sigRTMin))
	}
	return fmt.Sprintf("SIG%d", int(sig))
}

// Linux's real-time range as libc exposes it (glibc reserves 32 and 33;
// signal(7)).
const (
	sigRTMin = syscall.Signal(34)
	sigRTMax = syscall.Signal(64)
)

// ParseSignal accepts "TERM", "SIGTERM", "term", "15", "RTMIN+3", and
// "SIG32", the name SignalName gives a number without one.
func ParseSignal(s string) (syscall.Signal, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	if name == "" {
		return 0, fmt.Errorf("empty signal name")
	}
	if digits, ok := strings.CutPrefix(name, "SIG"); ok && digits != "" && strings.Trim(digits, "0123456789") == "" {
		name = digits
	}
	if n, err := strconv.Atoi(name); err == nil {
		if n < 1 || n > int(sigRTMax) {
			return 0, fmt.Errorf("signal number %d out of range 1-%d", n, int(sigRTMax))
		}
		return syscall.Signal(n), nil
	}
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		off := 0
		if rest != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(rest, "+"))
			if err != nil || !strings.HasPrefix(rest, "+") || n < 0 || sigRTMin+syscall.Signal(n) > sigRTMax {
				return 0, fmt.Errorf("unknown signal %q", s)
			}
			off = n
		}
		return sigRTMin + syscall.Signal(off), nil
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}
