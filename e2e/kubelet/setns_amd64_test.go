package kubelet

// sysSetns is setns(2)'s number (arch/x86/entry/syscalls/syscall_64.tbl): package
// syscall has no SYS_SETNS on this architecture, and x/sys is not a dependency of e2e.
const sysSetns = 308
