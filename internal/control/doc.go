// Package control is holdfast's control socket: HTTP over the unix socket
// <state-dir>/holdfast.sock (mode 0600; group the app's gid and mode 0660
// when the app runs as its own user, see ListenShared), or, when the state dir cannot hold
// it, the same name in the state dir's fallback directory (package rundir),
// and the client the subcommands (status, runs, logs, bundle, restart,
// release, stop, hold, probe, dump, jcmd) use to talk to the running holdfast, from `kubectl
// exec`, an ssh session or an exec probe.
//
// Both ends check the other. The client trusts a socket only when it is a
// socket owned by root or by the caller's uid, not writable by others (its
// group may connect), in a fallback directory (when it is in one) owned
// likewise and writable by neither group nor others, and served by a
// process of the socket's owner (SO_PEERCRED); it connects through the
// descriptor it checked. The server answers root, its own uid and, when
// told (Server.AllowUID), the app's uid; any other peer gets 403.
//
// The server only reads snapshots and hands requests to the supervisor
// through Backend; it never touches the app. GET /v1/facts serves what
// the caller of ServeFacts gives (the bundle's facts, filtered in
// holdfast's process).
package control
