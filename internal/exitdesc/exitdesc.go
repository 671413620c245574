// Package exitdesc says how a run of the app ended, in the one wording
// every message of holdfast uses: the hold banner, `holdfast status`, the
// ssh banner, the termination message and the supervisor's log.
//
// It only renders facts it is given. It must not decide anything about a
// run (crash or not, restart or hold) nor know where the facts come from.
package exitdesc

import "fmt"

// Text describes an exit: "exit code 3" for a normal exit, "killed by
// SIGSEGV (code 139)" for a death by signal, "killed by SIGSEGV (code 139,
// core dumped)" when the kernel wrote a core. code is holdfast-style: the
// exit code, or 128+N for a death by signal N; signal is "" for a normal
// exit.
func Text(code int, signal string, coreDumped bool) string {
	if signal == "" {
		return fmt.Sprintf("exit code %d", code)
	}
	if coreDumped {
		return fmt.Sprintf("killed by %s (code %d, core dumped)", signal, code)
	}
	return fmt.Sprintf("killed by %s (code %d)", signal, code)
}
