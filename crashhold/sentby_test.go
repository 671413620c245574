package crashhold

import (
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/cause"
)

// TestSentBy: who ended a run, from its stop state and the signal (0 for
// an exit) it ended by.
func TestSentBy(t *testing.T) {
	term := stopState{stage: stopTerm, purpose: StopToExit}
	term.sent.add(syscall.SIGTERM)
	hang := term
	hang.purpose = StopToDecide
	for _, c := range []struct {
		name string
		run  appRun
		sig  syscall.Signal
		want cause.Sender
	}{
		{"an exit with no stop", appRun{}, 0, cause.SentByOutside},
		{"an exit after the stop (a JVM's 143)", appRun{stop: term}, 0, cause.SentByStop},
		{"an exit after a hang's stop", appRun{stop: hang, hung: true}, 0, cause.SentByHang},
		{"the stop signal", appRun{stop: term}, syscall.SIGTERM, cause.SentByStop},
		{"SIGKILL from outside before any stop", appRun{}, syscall.SIGKILL, cause.SentByOutside},
		{"a signal holdfast did not send, during a stop", appRun{stop: term}, syscall.SIGUSR1, cause.SentByOutside},
		{"the grace period's SIGKILL", appRun{stop: stopState{stage: stopKill, purpose: StopToExit}}, syscall.SIGKILL, cause.SentByGrace},
	} {
		if got := c.run.sentBy(c.sig); got != c.want {
			t.Errorf("%s: sentBy(%v) = %v, want %v", c.name, c.sig, got, c.want)
		}
	}
}
