// Package offline reads a holdfast state dir without a holdfast: the run
// records and a run's output, for `holdfast runs`, `holdfast logs` and
// `holdfast bundle` when no holdfast answers on the control socket (after
// `holdfast release`, after the container exited and its volume was mounted
// elsewhere, or on a copy of the state dir).
//
// The state dir may be hostile (the app's user could write into its run
// dirs, and a copy can hold anything), so everything below it is opened
// through internal/safefs: a symbolic link is never followed, a file that is
// not regular is never opened, and a run.json larger than MaxRecord is not
// read. A record that cannot be read is listed as the running holdfast lists
// it: reason "unknown", with the run's number and directory.
//
// The package only reads; it must not create, change or lock anything in
// the state dir, and must not talk to the control socket.
package offline
