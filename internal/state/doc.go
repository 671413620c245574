// Package state holds the app-state store: the one published picture of what
// holdfast and its app are doing.
//
// The supervisor (package crashhold) is the only writer of the phase and run
// fields; it publishes a whole Snapshot at the end of each transition. Probes,
// metrics, the ssh banner and the control socket only read copies. Counters
// that other components own (reaped orphans, forwarded signals, log bytes, ssh
// sessions) are atomics in Counters, bumped where the event happens and copied
// into every Snapshot that is read.
//
// Why holdfast holds the app is the vocabulary HoldReason (the table
// HoldReasons):
//
//	startup-crash  the app crashed during startup with its restart budget spent (--max-restarts)
//	hang           the app stopped answering its liveness URL; its process is kept alive for thread dumps
//	manual         held on request (holdfast hold)
//	never-ready    the app did not become ready within --startup-timeout; its process is kept alive for thread dumps
//
// This package must not import any other holdfast package but cause, which
// is itself a leaf (the standard library only): the last exit carries the
// run's cause for every reader of the snapshot.
package state
