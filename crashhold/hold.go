package crashhold

import (
	"os"

	"github.com/holdfast-dev/holdfast/internal/holdbanner"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// enterHold stops restarting and keeps the container (and the evidence)
// for diagnosis. Holding is loud: a banner goes to stderr, which is what
// `kubectl logs` shows (silent holds are what users of supervisord's FATAL
// and s6 hate most).
func (s *Supervisor) enterHold(reason state.HoldReason) {
	s.heldSince = s.d.Clock.Now()
	s.holdReason = reason
	stopTimer(&s.probeT)
	stopTimer(&s.windowT)
	s.stopWatch(s.cur)
	if s.cfg.HoldTimeout > 0 {
		s.holdT = s.d.Clock.NewTimer(s.cfg.HoldTimeout)
	}
	s.transition(state.Held)
	s.announceHold()
	s.dumpsOnHold(reason)
}

// banner is the hold announcement (package holdbanner).
func (s *Supervisor) banner() string {
	cause, arts := s.heldRun()
	return holdbanner.Text(s.snapshot(), holdbanner.Facts{
		Reason: s.holdReason, HeldSince: s.heldSince, Pod: os.Getenv("HOSTNAME"),
		LiveURL: s.cfg.LiveURL, NoCapture: s.cfg.NoCapture, SSHAddr: s.cfg.SSHAddr,
		HoldTimeout: s.cfg.HoldTimeout, Cause: cause, Artifacts: arts,
	})
}

// AdvertiseSSH makes the hold banner name the embedded ssh server at addr.
// The caller calls it before Run, once that server listens: a banner never
// advertises ssh that is off.
func (s *Supervisor) AdvertiseSSH(addr string) { s.cfg.SSHAddr = addr }
