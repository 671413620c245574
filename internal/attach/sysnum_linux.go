//go:build linux && !386 && !arm

package attach

import "golang.org/x/sys/unix"

// The per-thread credential system calls with 32-bit ids.
const (
	sysSetgroups = unix.SYS_SETGROUPS
	sysSetresgid = unix.SYS_SETRESGID
	sysSetresuid = unix.SYS_SETRESUID
)
