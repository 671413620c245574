package crashhold

import (
	"context"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// healthResult is one round of the app's own health checks.
type healthResult struct {
	run                     int
	readyOK, liveOK         bool
	readyDetail, liveDetail string
}

// onProbeTick checks the app's health URLs off the supervisor goroutine.
// Only one round is in flight; the next is armed when it reports. No timer
// runs outside `running`, so a held holdfast does not wake up.
func (s *Supervisor) onProbeTick() {
	r := s.cur
	if r == nil || !r.alive || s.phase != state.Running || r.probing {
		return
	}
	r.probing = true
	run, readyURL, liveURL := r.rec.Run, s.cfg.ReadyURL, s.cfg.LiveURL
	check, timeout := s.d.Check, s.cfg.ProbeTimeout
	go func() {
		h := healthResult{run: run, readyOK: true, liveOK: true}
		one := func(url string) (bool, string) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			return check(ctx, url)
		}
		if readyURL != "" {
			h.readyOK, h.readyDetail = one(readyURL)
		}
		if liveURL != "" {
			h.liveOK, h.liveDetail = one(liveURL)
		}
		s.healthC <- h
	}()
}

// onHealth applies kubelet's rules: ready after one success, unready after
// --app-probe-failure-threshold failures in a row. Liveness failures count
// only after the URL first answered in this run ("stopped answering"), so a
// slow start is not a hang.
func (s *Supervisor) onHealth(h healthResult) {
	r := s.cur
	if r == nil || r.rec.Run != h.run {
		return
	}
	r.probing = false
	if !r.alive || s.phase != state.Running || r.stopping() {
		return
	}
	if s.cfg.ReadyURL != "" {
		s.noteReadiness(r, h.readyOK, h.readyDetail)
		if h.readyOK {
			r.readyFails = 0
			if !r.everReady {
				r.everReady = true
				stopTimer(&s.windowT)
				s.log.Info("app reported ready; the crash-hold window is over", "run", r.rec.Run)
			}
			if !r.ready {
				r.ready = true
				s.log.Info("app ready", "url", s.cfg.ReadyURL)
			}
		} else {
			r.readyFails++
			if r.ready && r.readyFails >= s.cfg.ProbeFailures {
				r.ready = false
				s.log.Warn("app not ready", "url", s.cfg.ReadyURL, "detail", h.readyDetail, "failures", r.readyFails)
			}
		}
	}
	if s.cfg.LiveURL != "" {
		if h.liveOK {
			if !r.liveSeen {
				s.log.Info("app liveness answered", "url", s.cfg.LiveURL)
			}
			r.liveSeen, r.liveFails = true, 0
		} else if r.liveSeen {
			r.liveFails++
			s.log.Warn("app liveness check failed", "url", s.cfg.LiveURL, "detail", h.liveDetail, "failures", r.liveFails)
			if r.liveFails >= s.cfg.ProbeFailures {
				s.onHang(h.liveDetail)
				return
			}
		}
	}
	s.publish()
	s.probeT = s.d.Clock.NewTimer(s.cfg.ProbePeriod)
}

// onHang: the app stopped answering its liveness URL. Take a thread dump
// (SIGQUIT to a JVM lands in the run's output), then hold with the process
// kept alive for jstack/jcmd, or stop it and let the policy decide.
func (s *Supervisor) onHang(detail string) {
	r := s.cur
	r.ready = false
	r.hung = true
	inWindow := InWindow(s.cfg.Policy, r.started, s.d.Clock.Now(), r.everReady)
	if r.isJava {
		s.threadDumpOnHang(r) // a file, then SIGQUIT into output.log (dumps.go)
	}
	if HoldOnHang(s.cfg.Policy, inWindow, s.cfg.HoldOnHang) {
		s.log.Warn("app stopped answering its liveness URL; holding it alive for diagnosis", "detail", detail, "pid", r.child.Pid)
		s.enterHold(state.ReasonHang)
		return
	}
	s.log.Warn("app stopped answering its liveness URL; stopping it", "detail", detail, "pid", r.child.Pid)
	if r.isJava {
		// The thread dump pause: onQuitPauseElapsed starts the stop.
		s.quitT = s.d.Clock.NewTimer(s.cfg.QuitPause)
		s.publish()
		return
	}
	s.stopApp(s.cfg.StopSignal, StopToDecide)
}
