// Package launcher is holdfast's process mechanism: it spawns children,
// reaps every child that exits (holdfast is usually PID 1), routes the
// signals holdfast receives, forwards the plain ones to the app's group
// itself (Forwarder: on the main thread, as tini does, so that a signal
// wakes one thread), and maps wait statuses to exit codes.
//
// It owns the one pid registry. Every child holdfast starts — the app and
// every ssh shell — goes through Reaper.Start, which records the pid under
// the same lock the reaper holds while it calls wait4(-1), so no exit status
// can be reaped before its owner is registered (canonical/pebble
// internals/reaper). Nothing else in holdfast may call wait4 or cmd.Wait.
//
// It makes no restart or hold decisions: that is package crashhold.
// System calls live in the _linux.go files, each with a reason.
package launcher
