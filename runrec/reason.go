package runrec

// EndReason is why a run ended: run.json's "reason" and the label of
// holdfast_app_exits_total. The supervisor sets it; the set is closed:
// EndReasons lists every value. (Why holdfast holds the app is another
// vocabulary, state.HoldReason.)
type EndReason string

const (
	CleanExit    EndReason = "clean-exit"
	Stopped      EndReason = "stopped"
	StartupCrash EndReason = "startup-crash"
	LateCrash    EndReason = "late-crash"
	Hang         EndReason = "hang"
	ExecFailed   EndReason = "exec-failed"
	// Vanished marks a run holdfast died with (package policystate): its
	// end was found by the next holdfast over the same state dir.
	Vanished EndReason = "vanished"
	// Unknown marks a run whose run.json could not be read; it is never
	// counted in holdfast_app_exits_total.
	Unknown EndReason = "unknown"
)

// EndReasonInfo describes one EndReason for docs and tests.
type EndReasonInfo struct {
	Reason  EndReason
	Meaning string
}

// EndReasons is the one table of why a run ended. doc.go shows it; a test
// checks that they agree.
var EndReasons = []EndReasonInfo{
	{CleanExit, "the app exited with code 0"},
	{Stopped, "holdfast stopped it (SIGTERM, holdfast stop, release or restart)"},
	{StartupCrash, "it crashed inside the crash-hold window"},
	{LateCrash, "it crashed after the crash-hold window"},
	{Hang, "it stopped answering its liveness URL and holdfast stopped it, or a hang-held process died"},
	{ExecFailed, "the command could not be executed (exit 126 or 127)"},
	{Vanished, "holdfast died with it; the next holdfast over the same state dir found it with a start and no end"},
	{Unknown, "the run's run.json could not be read (never counted)"},
}

// Known reports whether r is in EndReasons.
func (r EndReason) Known() bool {
	for _, i := range EndReasons {
		if i.Reason == r {
			return true
		}
	}
	return false
}
