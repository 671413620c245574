// Package attach is a client of HotSpot's dynamic attach mechanism: it asks
// a running JVM for a thread dump, a heap dump, a class histogram or any
// diagnostic command (what the JDK's jcmd sends), without a JDK.
//
// The protocol, as the JDK's own client and HotSpot's listener define it
// (src/jdk.attach/linux/.../VirtualMachineImpl.java,
// src/hotspot/os/posix/attachListener_posix.cpp):
//
//   - The JVM knows itself by its pid in its own pid namespace (the last
//     field of NSpid in /proc/<pid>/status) and keeps its files in its own
//     /tmp, which this package reaches as /proc/<pid>/root/tmp.
//   - If the unix socket <tmp>/.java_pid<nspid> does not exist, the client
//     creates the trigger file .attach_pid<nspid> in the JVM's working
//     directory (else in its /tmp) and sends SIGQUIT. The JVM's signal
//     thread sees the file, checks that its owner is root or the JVM's own
//     effective uid, and starts the attach listener, which binds the socket
//     (mode 0600, owned by the JVM's euid and egid).
//   - One request per connection: "1\0" <command>\0 <arg0>\0 <arg1>\0
//     <arg2>\0 (protocol version 1, missing arguments empty; a command name
//     is at most 16 bytes, an argument at most 1024). The answer is a
//     decimal status line ("0\n" is success) followed by the command's
//     output up to EOF. jcmd is the command "jcmd" with the whole command
//     line as one argument.
//   - The listener reads the peer's credentials (SO_PEERCRED) and closes
//     the connection without a word unless the peer's euid is root, or its
//     euid and egid are the JVM's (JDK 8 accepts only the latter).
//
// # Credentials
//
// Attach works as the JVM's own user, and as root. As root, attaching to a
// JVM that runs as another user, this package creates the trigger file and
// connects with the JVM's euid and egid, so that both are the JVM's own
// user's: every HotSpot accepts that (JDK 8 accepts nothing else), and it
// needs neither CAP_DAC_OVERRIDE (the socket is 0600) nor CAP_SYS_PTRACE
// (the JVM's /proc/<pid>/maps, root and cwd are behind a ptrace access
// check, which the JVM's own user passes; a container's root usually lacks
// that capability). What root may read as itself it reads before the
// switch, the rest after it.
//
// It switches one OS thread, not the process: a goroutine locks its
// thread, then sets the thread's groups, egid and euid with raw
// setgroups/setresgid/setresuid system calls (the kernel's credentials are
// per thread; Go's syscall.Setuid would change every thread). Real and
// saved ids stay root, so the JVM's user cannot ptrace that thread. The
// goroutine never unlocks the thread, so when it returns the Go runtime
// ends the thread instead of reusing it: no other goroutine ever runs with
// the switched credentials, also when a switch failed halfway. The main
// thread is never used for this: the runtime parks it for good instead of
// ending it, and its credentials are the ones /proc/<pid>/status and ps
// show for the whole process. Threads the runtime creates while the
// goroutine runs are cloned from a clean thread (the runtime does that for
// any locked thread). Changing a thread's euid resets the process's
// dumpable flag; it is put back when the last switch ends.
//
// The alternative, a helper child re-executed with the JVM's credentials,
// needs the binary's cooperation and a process per attach; the thread
// costs one clone.
//
// If the switch is not permitted at all (root without CAP_SETGID), the
// attach goes ahead as root, which HotSpot 9 and later accept. Any other
// user attaching to another user's JVM is refused before anything is
// created or signalled.
//
// # Safety
//
// SIGQUIT kills a process that does not handle it. The package signals only
// a process that maps HotSpot's libjvm.so, is not OpenJ9, and catches
// SIGQUIT (SigCgt in /proc/<pid>/status; a JVM started with -Xrs does not,
// and its listener, started at boot, is used directly). A JVM whose
// hsperfdata (or, when it keeps none, whose command line and JVM option
// variables) say attach is off (-XX:+DisableAttachMechanism) is not
// signalled either. The signal goes through a pidfd opened before the
// checks, so a pid reused meanwhile is not signalled.
//
// The socket is used only if it is a socket of the JVM's euid with mode
// 0600, as the listener makes it: /tmp is shared, and a socket another
// user put there first would answer in the JVM's name. And only if the JVM
// itself listens on it (SO_PEERCRED names the listener's pid): JVMs in
// sibling pid namespaces that share a /tmp can have the same namespace pid
// and so the same socket name. A trigger file that
// exists already is used only if the JVM would accept it, and then left in
// place; one this package created is removed.
//
// Every step is bounded by the caller's context (DefaultTimeout without a
// deadline): a JVM that is stopped or wedged in a safepoint gives
// ErrTimeout, never a hang.
//
// The package must not parse flags, know about runs or the state dir, or
// start processes: callers decide where output goes and when to attach.
package attach
