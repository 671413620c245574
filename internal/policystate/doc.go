// Package policystate keeps what the restart decision needs in the state
// dir, so that it survives holdfast's own death: policy.json, and the
// reading of it at the next start.
//
// The crash-hold budget used to live in holdfast's memory only. Anything
// that kills holdfast together with the app (the kernel's group OOM kill on
// cgroup v2, the runtime's SIGKILL of the container, a node-level kill)
// reset it, and a crash-looping pod looped exactly as without holdfast.
// With the state dir on an emptyDir, which survives container restarts,
// the next holdfast reads policy.json and continues the budget.
//
// It owns:
//   - File, the format of <state-dir>/policy.json: the fingerprint of what
//     runs (Fingerprint), the last run started (number, attempt, start,
//     whether it was ever ready, whether its end was recorded), the budget
//     used, the hold in force, whether holdfast ended on its own, how many
//     holdfast starts this budget has seen and the runs that vanished in it;
//   - Store: reading it (a missing, torn or foreign file means a fresh
//     budget, never an error that stops the app) and writing it atomically
//     and durably (temp file, fsync, rename, fsync of the dir), only when
//     its content changed;
//   - Restore, the pure decision of a start over a surviving state dir: a
//     run with a start and no recorded end vanished (holdfast died with
//     it); a vanished run inside the crash-hold window counts as a startup
//     crash; with the budget spent holdfast starts held;
//   - LastSign, a run's last sign of life from its run dir (the newest of
//     run.json, output.log and the memory timeline), and VanishedCause, what
//     is known of why it vanished.
//
// A fresh budget starts when holdfast ended on its own before (it exited:
// its decision, not a death), when the fingerprint changed (another command
// line, or another executable or jar: see Fingerprint), and when no
// readable policy.json exists (a state dir from before this package).
//
// It must not: decide anything but the start (the supervisor, package
// crashhold, decides every run's end), write run records (runrec owns
// them; the caller marks vanished runs through it), follow a link in the
// state dir, or read more of a file than it needs.
package policystate
