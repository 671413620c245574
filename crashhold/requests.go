package crashhold

import (
	"errors"
	"fmt"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// RequestKind is what the control socket asks of the supervisor.
type RequestKind string

const (
	ReqRestart RequestKind = "restart"
	ReqRelease RequestKind = "release"
	ReqStop    RequestKind = "stop"
	ReqHold    RequestKind = "hold"
)

type request struct {
	kind  RequestKind
	reply chan error
}

// ErrExiting answers requests that arrive while holdfast is exiting.
var ErrExiting = errors.New("holdfast is exiting")

// Request hands a request to the supervisor goroutine and waits for its
// answer. It is safe from any goroutine.
func (s *Supervisor) Request(kind RequestKind) error {
	r := request{kind: kind, reply: make(chan error, 1)}
	select {
	case s.reqs <- r:
		return <-r.reply
	case <-s.stopped:
		return ErrExiting
	}
}

func (s *Supervisor) onRequest(kind RequestKind) error {
	r := s.cur
	alive := r != nil && r.alive
	if s.phase == state.Stopping || s.phase == state.Exited {
		return ErrExiting
	}
	switch kind {
	case ReqRestart:
		s.log.Info("restart requested", "phase", string(s.phase))
		s.holdNext = false
		switch {
		case alive && r.stopping() && r.stop.purpose == StopToRestart:
			return nil // already on its way
		case alive:
			// Running, or a hang hold: stop it, then start a fresh run.
			s.stopApp(s.cfg.StopSignal, StopToRestart)
			return nil
		case s.phase == state.Starting:
			return nil // a start is already pending
		}
		stopTimer(&s.backoffT)
		stopTimer(&s.holdT)
		s.used = 0
		s.d.Store.Counters.Restarts.Add(1)
		s.startRun()
		return nil
	case ReqRelease:
		if s.phase != state.Held {
			return fmt.Errorf("the app is not held (phase %s); use `holdfast stop` to stop it", s.phase)
		}
		s.log.Info("hold released")
		s.exitWithLast()
		return nil
	case ReqStop:
		s.log.Info("stop requested", "phase", string(s.phase))
		if alive {
			s.stopApp(s.cfg.StopSignal, StopToExit)
			s.transition(state.Stopping)
			return nil
		}
		s.exitWithLast()
		return nil
	case ReqHold:
		switch s.phase {
		case state.Held:
			return nil
		case state.Backoff:
			stopTimer(&s.backoffT)
			s.holdNext = true
			s.enterHold(state.ReasonManual)
			return nil
		default:
			s.holdNext = true
			s.log.Info("hold requested: the app is held at its next exit instead of restarted")
			s.publish()
			return nil
		}
	}
	return fmt.Errorf("unknown request %q", kind)
}
