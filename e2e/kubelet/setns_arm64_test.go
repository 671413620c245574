package kubelet

// sysSetns is setns(2)'s number (include/uapi/asm-generic/unistd.h): package syscall has
// no SYS_SETNS on this architecture, and x/sys is not a dependency of e2e.
const sysSetns = 268
