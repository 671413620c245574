// Package rundir owns where holdfast keeps its runtime files, the control
// socket and the state dir's lock: in the state dir, or, when the state dir
// cannot hold them (read-only, not creatable, a path too long for a unix
// socket), in a fallback directory derived from the state dir's absolute
// path. It also makes the state dir exclusive: one entrypoint per state dir.
//
// The fallback is /run/holdfast-<key> or, where /run is not writable,
// /tmp/holdfast-<key>, with <key> the first 16 hex digits of the SHA-256 of
// the absolute state dir. The entrypoint creates it with mode 0700, or 0711
// when the control socket in it is shared with the app's user (who may then
// reach the socket by name, but not list or create anything there); a
// client finds it by the same rule. Both refuse a directory that is a symlink, is
// owned by another user, or is writable by group or others: in /tmp anyone
// can plant one.
//
// What it must not do: write anything but the lock file and the fallback
// directory, or follow a symlink at either.
package rundir
