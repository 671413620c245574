package crashhold

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/internal/exitfacts"
	"github.com/holdfast-dev/holdfast/internal/policystate"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/runrec"
)

// Config is the supervisor's configuration; cmd/holdfast fills it from flags.
type Config struct {
	Policy     Policy
	Command    []string
	Env        []string // the app's base environment (holdfast's own)
	Credential *syscall.Credential

	Grace       time.Duration
	StopSignal  syscall.Signal
	SignalMap   map[syscall.Signal]syscall.Signal
	HoldTimeout time.Duration
	HoldOnHang  bool
	// QuitPause is how long a JVM that outlived the grace period gets to
	// write its SIGQUIT thread dump before SIGKILL.
	QuitPause time.Duration

	JVM         string // auto | on | off
	LogMaxBytes int64
	// RetainMemory bounds the memory of retained output across runs
	// (capture.Budget); 0 = capture.DefaultMemoryBudget.
	RetainMemory int64
	// NoCapture hands the app holdfast's own stdout and stderr (--capture=false):
	// no relay, no output.log, nothing for `holdfast logs`.
	NoCapture bool

	ReadyURL, LiveURL string
	ProbePeriod       time.Duration
	ProbeTimeout      time.Duration
	ProbeFailures     int

	// ReadyRule is --app-ready (ReadyListen, ReadyProcess; "" = process);
	// a ReadyURL makes it ReadyURL. StartupTimeout is --startup-timeout
	// (0 = none); it applies with a ReadyURL.
	ReadyRule      string
	StartupTimeout time.Duration
	// MemoryWatch samples the container's memory while a run lives
	// (--memory-watch; memory.go).
	MemoryWatch bool

	StateDir       string
	Version        string
	TerminationLog string // "/dev/termination-log"; written only if it exists
	SSHAddr        string // for the hold banner; "" when ssh is off (see AdvertiseSSH)
	// KillAll: on exit, signal every other process holdfast is responsible
	// for (PID 1 or subreaper), TERM then KILL after the grace period.
	KillAll bool
}

// Deps are the parts the supervisor drives.
type Deps struct {
	Reaper   *launcher.Reaper
	Records  *runrec.Records
	Console  *capture.Console
	Store    *state.Store
	Logger   *slog.Logger
	Clock    Clock
	Terminal *launcher.Terminal // nil without a controlling terminal
	// Forwarder, when set, forwards the signals that need no decision
	// (launcher.Direct); the supervisor tells it which run they go to.
	Forwarder *launcher.Forwarder
	// Check performs one health check of url (probes.CheckURL).
	Check func(ctx context.Context, url string) (ok bool, detail string)
	Stdin *os.File
	// Durable keeps the policy state in the state dir (durable.go); nil:
	// the budget lives in memory only.
	Durable *policystate.Store
}

// appRun is one run of the app. Only the supervisor goroutine touches it.
type appRun struct {
	rec         *runrec.RunRecord
	child       *launcher.Child
	out         *capture.Run
	started     time.Time
	alive       bool
	isJava      bool
	evidenceDir string

	ready, everReady bool
	readyFails       int
	liveSeen         bool
	liveFails        int
	probing          bool

	// hung: the run stopped answering its liveness URL; it is held alive,
	// in its thread dump pause, or being stopped for it.
	hung bool
	stop stopState // holdfast's stop of this run (stop.go)

	watch *runWatch // watch.go
}

// Supervisor owns the app. Create it with New and call Run once.
type Supervisor struct {
	cfg Config
	d   Deps
	log *slog.Logger

	reqs    chan request
	hookC   chan func() // work for the Run goroutine from the run watcher (watch.go)
	healthC chan healthResult
	stopped chan struct{} // closed when Run returns

	// Owned by the Run goroutine.
	phase      state.Phase
	cur        *appRun
	lastExit   *state.Exit
	lastRec    *runrec.RunRecord
	used       int // startup crashes restarted under the current budget
	starts     int // runs started since holdfast started
	holdNext   bool
	heldSince  time.Time
	holdReason state.HoldReason
	exitCode   int
	done       bool
	upSince    time.Time

	pendingStart bool // a start waits for the last run's leftovers to go
	lastPgid     int

	backoffT, graceT, quitT, holdT, windowT, probeT, cleanupT Timer

	appEnv atomic.Pointer[[]string]

	capMu    sync.Mutex
	captures map[int]*capture.Run
	budget   *capture.Budget // memory for the captures' retained output

	why     *exitfacts.OOMWatch // the cgroup's OOM-kill counter around each run (cause.go)
	durable durable             // durable.go
	mem     memState            // memory.go

	onTransition func(from, to state.Phase) // tests only
	onRunExit    func(runExit)              // tests only: what collect learned
}

// New returns a supervisor; Run starts the app.
func New(cfg Config, d Deps) *Supervisor {
	if d.Clock == nil {
		d.Clock = RealClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if cfg.QuitPause <= 0 {
		cfg.QuitPause = 2 * time.Second
	}
	s := &Supervisor{
		cfg:      cfg,
		d:        d,
		log:      d.Logger.With("component", "supervisor"),
		reqs:     make(chan request),
		hookC:    make(chan func()),
		healthC:  make(chan healthResult, 1),
		stopped:  make(chan struct{}),
		phase:    state.Starting,
		captures: map[int]*capture.Run{},
		budget:   capture.NewBudget(cfg.RetainMemory),
	}
	s.why = exitfacts.NewOOMWatch(s.log)
	env := append([]string(nil), cfg.Env...)
	s.appEnv.Store(&env)
	return s
}

// AppEnv is the exact environment of the current (or last) run, for ssh
// sessions.
func (s *Supervisor) AppEnv() []string { return *s.appEnv.Load() }

// Run starts the app and handles events until holdfast should exit. It
// returns holdfast's exit code. sigs carries the signals to act on.
func (s *Supervisor) Run(ctx context.Context, sigs <-chan os.Signal) int {
	defer close(s.stopped)
	s.upSince = s.d.Clock.Now()
	s.publish()
	s.announceReadyRule()
	s.begin()
	var reaped <-chan struct{}
	for !s.done {
		var doneC <-chan launcher.Status
		if s.cur != nil && s.cur.alive {
			doneC = s.cur.child.Done
		}
		reaped = nil
		if s.pendingStart {
			reaped = s.d.Reaper.ReapedAny()
			if s.leftoversGone() {
				continue
			}
		}
		select {
		case st := <-doneC:
			s.onExit(st)
		case sig := <-sigs:
			if ss, ok := sig.(syscall.Signal); ok {
				s.onSignal(ss)
			}
		case r := <-s.reqs:
			r.reply <- s.onRequest(r.kind)
		case h := <-s.healthC:
			s.onHealth(h)
		case f := <-s.hookC:
			f()
		case <-reaped:
		case <-timerC(s.backoffT):
			s.backoffT = nil
			s.startRun()
		case <-timerC(s.graceT):
			s.graceT = nil
			s.onGraceElapsed()
		case <-timerC(s.quitT):
			s.quitT = nil
			s.onQuitPauseElapsed()
		case <-timerC(s.cleanupT):
			s.cleanupT = nil
			s.killLeftovers()
		case <-timerC(s.holdT):
			s.holdT = nil
			s.log.Warn("hold timeout passed; exiting with the app's last code", "hold_timeout", s.cfg.HoldTimeout)
			s.exitWithLast()
		case <-timerC(s.windowT):
			s.windowT = nil
			s.publish() // in_hold_window turns false
		case <-timerC(s.probeT):
			s.probeT = nil
			s.onProbeTick()
		case <-ctx.Done():
			s.onSignal(syscall.SIGTERM)
			ctx = context.Background()
		}
	}
	for _, t := range []*Timer{&s.backoffT, &s.graceT, &s.quitT, &s.holdT, &s.windowT, &s.probeT, &s.cleanupT} {
		stopTimer(t)
	}
	s.finish()
	return s.exitCode
}

// edges is the phase diagram; transition refuses anything else.
var edges = map[state.Phase][]state.Phase{
	state.Starting: {state.Running, state.Stopping},
	state.Running:  {state.Backoff, state.Held, state.Starting, state.Stopping},
	state.Backoff:  {state.Starting, state.Held, state.Stopping},
	state.Held:     {state.Starting, state.Stopping},
	state.Stopping: {state.Exited},
}

func edgeAllowed(from, to state.Phase) bool {
	for _, p := range edges[from] {
		if p == to {
			return true
		}
	}
	return false
}

var errImpossible = errors.New("internal error: impossible transition")

// transition moves to phase to: it logs old→new, stamps the time and
// publishes the snapshot. An impossible edge is logged as an internal
// error and refused; holdfast must never crash over it.
func (s *Supervisor) transition(to state.Phase) {
	from := s.phase
	if from == to {
		s.publish()
		return
	}
	if !edgeAllowed(from, to) {
		s.log.Error(errImpossible.Error(), "from", from, "to", to)
		return
	}
	s.phase = to
	if s.onTransition != nil {
		s.onTransition(from, to)
	}
	s.log.Info("phase", "from", string(from), "to", string(to))
	s.publish()
}
