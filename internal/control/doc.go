// Package control is holdfast's control socket: HTTP over the unix socket
// <state-dir>/holdfast.sock (mode 0600), and the client the subcommands
// (status, runs, logs, restart, release, stop, hold, probe) use to talk to
// the running holdfast, from `kubectl exec`, an ssh session or an exec
// probe.
//
// The server only reads snapshots and hands requests to the supervisor
// through Backend; it never touches the app.
package control
