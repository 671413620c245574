// Package runrec owns the run records: the run dirs under
// <state-dir>/runs, their layout, and run.json, the record of one run.
//
// The layout of one run dir, <state-dir>/runs/<N>:
//
//	run.json     RunRecord as JSON (mode 0600); written atomically
//	output.log   the app's stdout and stderr (written by launcher/capture)
//	jvm/         the app's own dir for its JVM evidence (AppDir); holdfast
//	             only reads it, and takes it back when the run ends
//
// RunRecord is the one type of a run's record, used end to end: the
// supervisor fills it, Records writes and reads it, the control socket
// serves it (`holdfast runs`) and the CLI renders it. Its JSON field names
// are an external interface: a field may be added, none renamed, and a
// run.json an older holdfast wrote still loads.
//
// Every file and directory here is opened through internal/safefs, never
// following a link; run dirs and records are holdfast's own. Run numbers
// continue across holdfast restarts; the keep newest runs are kept. When
// the state dir cannot be written, records are kept in memory only. On a
// full disk the newest run's record comes first (space.go): the space
// reserve is released, then older runs' output.log deleted, then the end of
// the current run's output.log cut.
//
// EndReason is the vocabulary of why a run ended (the table EndReasons):
//
//	clean-exit     the app exited with code 0
//	stopped        holdfast stopped it (SIGTERM, holdfast stop, release or restart)
//	startup-crash  it crashed inside the crash-hold window
//	late-crash     it crashed after the crash-hold window
//	hang           it stopped answering its liveness URL and holdfast stopped it, or a hang-held process died
//	exec-failed    the command could not be executed (exit 126 or 127)
//	vanished       holdfast died with it; the next holdfast over the same state dir found it with a start and no end
//	unknown        the run's run.json could not be read (never counted)
//
// The package must not decide policy: what a run's end means (restart,
// hold, exit) is the supervisor's (package crashhold); the records only
// keep what they are told.
package runrec
