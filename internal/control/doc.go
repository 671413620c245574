// Package control is holdfast's control socket: HTTP over the unix socket
// <state-dir>/holdfast.sock (mode 0600), or, when the state dir cannot hold
// it, the same name in the state dir's fallback directory (package rundir),
// and the client the subcommands (status, runs, logs, restart, release,
// stop, hold, probe) use to talk to the running holdfast, from `kubectl
// exec`, an ssh session or an exec probe.
//
// Both ends check the other. The client trusts a socket only when it is a
// socket owned by root or by the caller's uid, not writable by group or
// others, in a directory that passes the same check when it is a fallback
// directory, and served by a process of the socket's owner (SO_PEERCRED);
// it connects through the descriptor it checked. The server answers root
// and its own uid only; any other peer gets 403.
//
// The server only reads snapshots and hands requests to the supervisor
// through Backend; it never touches the app.
package control
