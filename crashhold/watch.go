package crashhold

import (
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/dumps"
	"github.com/holdfast-dev/holdfast/internal/listen"
	"github.com/holdfast-dev/holdfast/internal/memwatch"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// Ready rules (Config.ReadyRule, --app-ready).
const (
	ReadyListen  = "listen"  // the app's process tree has a listening TCP socket
	ReadyProcess = "process" // the app's process exists
	ReadyURL     = "url"     // the readiness URL answers 2xx/3xx
)

// watchTick is the period of the run watcher: at most one wakeup a second
// while a run lives, none while held or while no app runs.
const watchTick = time.Second

// runWatch watches one run off the supervisor goroutine: whether the app
// listens (--app-ready=listen), the startup deadline (--startup-timeout)
// and its memory (memwatch.go). What it finds reaches the supervisor as a
// func on hookC; only the supervisor goroutine acts on it (and signals the
// app). It ends with stopWatch: at the run's end and when holdfast holds.
type runWatch struct {
	stop    chan struct{} // closed by stopWatch
	readyC  chan struct{} // closed once the run is first ready
	stopped bool
	readied bool

	pollListen bool
	deadline   time.Time // zero: no startup deadline

	last *state.ReadinessCheck // the last readiness check (supervisor goroutine)

	mem *memRun // nil: no memory sampling
}

// readyRule is the rule in force: url whenever a readiness URL is set.
func (s *Supervisor) readyRule() string {
	switch {
	case s.cfg.ReadyURL != "":
		return ReadyURL
	case s.cfg.ReadyRule == ReadyListen:
		return ReadyListen
	}
	return ReadyProcess
}

// readyGated reports whether ready waits for more than the process.
func (s *Supervisor) readyGated() bool { return s.readyRule() != ReadyProcess }

// announceReadyRule says at start what "ready" means. The line never
// holds the word itself: scripts and tests wait for an app's own "ready".
func (s *Supervisor) announceReadyRule() {
	switch s.readyRule() {
	case ReadyURL:
		s.log.Info("readiness rule: url: up while the app's readiness URL answers (--app-ready-url)", "rule", ReadyURL, "startup_timeout", s.cfg.StartupTimeout)
	case ReadyListen:
		s.log.Info("readiness rule: listen: up once the app's process tree listens on a TCP port", "rule", ReadyListen)
	default:
		s.log.Info("readiness rule: process: up while the app's process exists", "rule", ReadyProcess)
	}
}

// startWatch starts the watcher of run r, when it has anything to watch.
func (s *Supervisor) startWatch(r *appRun) {
	w := &runWatch{stop: make(chan struct{}), readyC: make(chan struct{})}
	w.pollListen = s.readyRule() == ReadyListen
	if s.readyRule() == ReadyURL && s.cfg.StartupTimeout > 0 {
		w.deadline = r.started.Add(s.cfg.StartupTimeout)
	}
	w.mem = s.startMemory(r, w)
	r.watch = w
	if !w.pollListen && w.deadline.IsZero() && w.mem == nil {
		return
	}
	go s.watchLoop(r, w)
}

// stopWatch ends r's watcher; it is safe to call more than once and with
// nil.
func (s *Supervisor) stopWatch(r *appRun) {
	if r == nil || r.watch == nil || r.watch.stopped {
		return
	}
	w := r.watch
	w.stopped = true
	close(w.stop)
	s.stopMemory(r, w.mem)
}

// watchLoop is the watcher's goroutine. One timer drives the listen check
// and the memory sample; a second one the startup deadline.
func (s *Supervisor) watchLoop(r *appRun, w *runWatch) {
	var tick, deadline Timer
	defer func() {
		for _, t := range []*Timer{&tick, &deadline} {
			stopTimer(t)
		}
	}()
	if !w.deadline.IsZero() {
		deadline = s.d.Clock.NewTimer(w.deadline.Sub(s.d.Clock.Now()))
	}
	pid := r.child.Pid
	listening := !w.pollListen
	readyC := w.readyC
	lastDetail := ""
	var lastSample memwatch.Point
	var sched watchSchedule
	for {
		if tick == nil {
			if d, ok := sched.next(!listening, w.mem != nil); ok {
				tick = s.d.Clock.NewTimer(d)
			}
		}
		select {
		case <-w.stop:
			return
		case <-readyC:
			readyC = nil
			stopTimer(&deadline)
		case <-timerC(deadline):
			deadline = nil
			s.post(w, func() { s.onStartupTimeout(r) })
		case <-timerC(tick):
			tick = nil
			listenDue, memDue := sched.elapse()
			if !listening && listenDue {
				// Only a changed result wakes the supervisor (and the
				// status's readers).
				ok, detail := listenResult(listen.Listening(pid))
				listening = ok
				if detail != lastDetail {
					lastDetail = detail
					s.post(w, func() { s.onListenCheck(r, ok, detail) })
				}
			}
			if w.mem != nil && memDue {
				p, err := s.sampleMemory(r, w)
				sched.memWait = memoryWait(lastSample, p, err)
				if err == nil {
					lastSample = p
				}
			}
		}
	}
}

// listenFast is how many listen checks run a watchTick apart before they
// slow to listenSlow: a quick answer for a quick start, then little cost
// for an app that takes long to listen (or never does; kubelet's own
// readiness probe runs every 10 s by default).
const (
	listenFast = 10
	listenSlow = 5 * time.Second
)

// watchSchedule says when the run watcher next checks the listen state
// and samples memory: one timer for both, in whole ticks.
type watchSchedule struct {
	listenChecks int           // listen checks so far
	listenIn     time.Duration // until the next listen check
	memIn        time.Duration // until the next memory sample
	memWait      time.Duration // between memory samples (memoryWait)
	armed        time.Duration // the timer armed by next
}

// next is the wait until the next due check; false when nothing is to be
// checked any more.
func (w *watchSchedule) next(listen, mem bool) (time.Duration, bool) {
	if !listen {
		w.listenIn = -1
	}
	if !mem {
		w.memIn = -1
	}
	d := time.Duration(-1)
	for _, in := range []time.Duration{w.listenIn, w.memIn} {
		if in >= 0 && (d < 0 || in < d) {
			d = in
		}
	}
	if d < 0 {
		return 0, false
	}
	w.armed = max(d, watchTick)
	return w.armed, true
}

// elapse accounts for the armed wait and says which checks are due.
func (w *watchSchedule) elapse() (listenDue, memDue bool) {
	if w.listenIn >= 0 {
		w.listenIn -= w.armed
		if listenDue = w.listenIn <= 0; listenDue {
			w.listenChecks++
			w.listenIn = watchTick
			if w.listenChecks >= listenFast {
				w.listenIn = listenSlow
			}
		}
	}
	if w.memIn >= 0 {
		w.memIn -= w.armed
		if memDue = w.memIn <= 0; memDue {
			w.memIn = max(w.memWait, watchTick)
		}
	}
	return listenDue, memDue
}

// post hands f to the supervisor goroutine; false when the run's watch or
// the supervisor ended first.
func (s *Supervisor) post(w *runWatch, f func()) bool {
	select {
	case s.hookC <- f:
		return true
	case <-w.stop:
	case <-s.stopped:
	}
	return false
}

// watching reports whether r is the live run whose watch still runs.
func (s *Supervisor) watching(r *appRun) bool {
	return s.cur == r && r.alive && r.watch != nil && !r.watch.stopped
}

// listenResult words one listen check of the app's process tree.
func listenResult(ls []listen.Listener, err error) (ok bool, detail string) {
	switch {
	case err != nil:
		return false, "cannot check: " + err.Error()
	case len(ls) == 0:
		return false, "no listening TCP socket yet"
	}
	addrs := make([]string, len(ls))
	for i, l := range ls {
		addrs[i] = l.String()
	}
	return true, "listening on " + strings.Join(addrs, ", ")
}

// onListenCheck applies a listen check whose result changed.
func (s *Supervisor) onListenCheck(r *appRun, ok bool, detail string) {
	if !s.watching(r) {
		return
	}
	s.noteReadiness(r, ok, detail)
	if ok && !r.ready {
		r.ready, r.everReady = true, true
		s.log.Info("app ready: it listens on a TCP port", "run", r.rec.Run, "detail", detail)
	}
	s.publish()
}

// noteReadiness keeps the result of a readiness check for the status. The
// first success ends the startup deadline.
func (s *Supervisor) noteReadiness(r *appRun, ok bool, detail string) {
	w := r.watch
	if w == nil {
		return
	}
	w.last = &state.ReadinessCheck{At: s.d.Clock.Now(), OK: ok, Detail: detail}
	if ok {
		if !w.readied {
			w.readied = true
			close(w.readyC)
		}
	}
}

// onStartupTimeout: the run was not ready within --startup-timeout. A JVM
// gets SIGQUIT (its thread dump lands in the run's output.log); then the
// run is held with its process alive (reason never-ready), as a hang is.
// With --hold=false it is only reported: nothing holds.
func (s *Supervisor) onStartupTimeout(r *appRun) {
	if !s.watching(r) || s.phase != state.Running || r.stopping() || r.everReady {
		return
	}
	last := "no readiness check answered yet"
	if r.watch.last != nil {
		last = r.watch.last.Detail
	}
	if r.isJava {
		// A file, then SIGQUIT into output.log (dumps.go).
		s.threadDumpAsync(r, "never ready", dumpBound(dumps.Threads), true)
	}
	if !s.cfg.Policy.Hold {
		s.log.Warn("app not ready within --startup-timeout; --hold=false, so it keeps running", "run", r.rec.Run, "startup_timeout", s.cfg.StartupTimeout, "last_check", last)
		return
	}
	s.log.Warn("app not ready within --startup-timeout; holding it alive for diagnosis", "run", r.rec.Run, "startup_timeout", s.cfg.StartupTimeout, "last_check", last, "pid", r.child.Pid)
	s.enterHold(state.ReasonNeverReady)
}

// fillReadiness adds the ready rule, the last readiness check and the
// startup deadline to a snapshot.
func (s *Supervisor) fillReadiness(snap *state.Snapshot) {
	snap.ReadyRule = s.readyRule()
	r := s.cur
	if r == nil || r.watch == nil {
		return
	}
	if w := r.watch; w.last != nil {
		last := *w.last
		snap.LastReadiness = &last
	}
	if w := r.watch; !w.deadline.IsZero() && r.alive && s.phase == state.Running && !r.everReady {
		d := w.deadline
		snap.StartupDeadline = &d
	}
}

// notReadyText says what ready waits for, by rule.
func (s *Supervisor) notReadyText(r *appRun) string {
	switch {
	case s.readyRule() == ReadyListen:
		return "waiting for the app to listen on a TCP port"
	case !r.everReady:
		return "waiting for the app's readiness URL"
	}
	return "the app's readiness URL is failing"
}
