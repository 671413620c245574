// Package mono reads CLOCK_MONOTONIC, the one clock that two processes on the
// same machine can compare (Go's time.Time keeps its monotonic reading
// private to the process).
package mono

import (
	"syscall"
	"unsafe"
)

const clockMonotonic = 1 // CLOCK_MONOTONIC, <linux/time.h>

// Now returns CLOCK_MONOTONIC in nanoseconds. It is a real clock_gettime(2)
// system call, not the vDSO: a fixed ~100 ns that every measured init pays
// alike.
func Now() int64 {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		panic("cannot read CLOCK_MONOTONIC: " + errno.Error())
	}
	return ts.Nano()
}
