package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/holdfast-dev/holdfast/crashhold"
	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/internal/memtrim"
	"github.com/holdfast-dev/holdfast/internal/policystate"
	"github.com/holdfast-dev/holdfast/internal/redact"
	"github.com/holdfast-dev/holdfast/internal/rundir"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/statedir"
	"github.com/holdfast-dev/holdfast/internal/version"
	"github.com/holdfast-dev/holdfast/launcher"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/probes"
	"github.com/holdfast-dev/holdfast/runrec"
)

// terminationLog is where kubelet reads a container's termination message.
const terminationLog = "/dev/termination-log"

// entrypoint runs COMMAND as the supervised app and returns holdfast's exit
// code: the app's code, 128+signal, 127/126 when it cannot be executed, 2
// for bad flags.
func entrypoint(args []string) int {
	// First, before any goroutine or child: children must not inherit a
	// blocked signal mask from whoever started us.
	maskErr := launcher.ResetInheritedSigmask()
	ppid := os.Getppid() // before anything else, to see a parent that dies meanwhile

	cfg, err := config.Parse(args, os.LookupEnv)
	if errors.Is(err, config.ErrHelp) {
		fmt.Print(config.Usage())
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdfast: %v\nRun 'holdfast -h' for usage.\n", err)
		return launcher.ExitUsage
	}

	// One holdfast per state dir: a second one would write runs into the
	// live one's evidence and prune them. Taken before anything starts.
	// A state dir that cannot be made is reported once, by OpenRecords,
	// which then keeps the evidence in memory.
	_ = os.MkdirAll(cfg.StateDir, 0o755)
	lock, lockErr := rundir.Acquire(cfg.StateDir)
	var held *rundir.HeldError
	if errors.As(lockErr, &held) {
		fmt.Fprintf(os.Stderr, "holdfast: %v\n", lockErr)
		return launcher.ExitUsage
	}
	if lock != nil {
		defer lock.Close()
	}

	console := capture.NewConsole(os.Stdout, os.Stderr)
	logger := slog.New(slog.NewTextHandler(console.LogWriter(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	log := logger.With("component", "holdfast")
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if lockErr != nil {
		log.Warn("cannot lock the state dir; another holdfast could use it too", "err", lockErr)
	}
	if maskErr != nil {
		log.Warn("cannot reset the inherited signal mask; children inherit it", "err", maskErr)
	}

	_, err = launcher.BecomeSubreaper()
	if err != nil {
		log.Warn("cannot become a child subreaper; orphans of the app will not be reaped by holdfast", "err", err)
	}

	store := state.NewStore(state.Snapshot{Phase: state.Starting, Version: version.Version, Command: redact.Argv(cfg.Command), StateDir: cfg.StateDir})
	reaper := launcher.NewReaper()
	reaper.OnOrphan = func(launcher.Status) { store.Counters.Reaped.Add(1) }
	fwd := launcher.NewForwarder(reaper, cfg.SignalMap, crashhold.Forwarded(store, logger))
	sigs := launcher.RouteSignals(reaper, fwd)
	if sig := cfg.ParentDeathSignal; sig != 0 {
		// After RouteSignals: the signal is then handled like one from outside.
		if err := launcher.SetParentDeathSignal(sig, ppid); err != nil {
			log.Warn("cannot set the parent-death signal", "signal", launcher.SignalName(sig), "err", err)
		}
	}

	// Every listener a flag asks for is opened before the app starts: an
	// address that cannot be bound is a configuration error, reported before
	// anything runs (exit 2). Those are --probe-addr, and --ssh-addr when
	// keys are configured (without keys ssh is off and opens nothing). The
	// control socket is no such listener: it is optional (README, "When the
	// state dir cannot hold the socket").
	probeL, err := listen("--probe-addr", cfg.ProbeAddr)
	if err != nil {
		return refuse(console, err)
	}
	sshL, err := listen("--ssh-addr", sshAddrIfEnabled(cfg))
	if err != nil {
		return refuse(console, err)
	}

	// A state dir the app could write into while holdfast cannot fix it is
	// refused: root would write where the app plants links. One that
	// cannot be made is reported once, by OpenRecords, which then keeps the
	// evidence in memory.
	if err := statedir.Prepare(cfg.StateDir, cfg.Credential); err != nil {
		var unsafe *statedir.UnsafeError
		if errors.As(err, &unsafe) {
			return refuse(console, err)
		}
		log.Debug("cannot prepare the state dir", "err", err)
	}
	records := runrec.Open(cfg.StateDir, cfg.KeepRuns, logger)

	sup := crashhold.New(supervisorConfig(cfg), crashhold.Deps{
		Reaper:    reaper,
		Records:   records,
		Console:   console,
		Store:     store,
		Logger:    logger,
		Terminal:  launcher.DetectTerminal(),
		Check:     newChecker(),
		Stdin:     os.Stdin,
		Forwarder: fwd,
		Durable:   policystate.NewStore(cfg.StateDir),
	})

	var servers []interface{ Shutdown(context.Context) error }
	if l, app, err := listenControl(cfg, log); err != nil {
		log.Warn("control socket disabled; holdfast subcommands will not reach this holdfast", "err", err)
	} else {
		if l.FallbackReason != "" {
			log.Warn("the state dir cannot hold the control socket; it is in the fallback directory, where holdfast subcommands find it",
				"socket", l.Path, "reason", l.FallbackReason)
		}
		cs := control.NewServer(backend{sup}, logger)
		cs.ServeFacts(factsFunc(cfg, store))
		if app >= 0 {
			cs.AllowUID(app)
		}
		servers = append(servers, cs)
		go serve(log, "control", func() error { return cs.Serve(l) })
	}
	if probeL != nil {
		ps := probes.NewServer(store, probes.NewRegistry(store), probes.Options{Logger: logger})
		servers = append(servers, ps)
		go serve(log, "probes", func() error { return ps.Serve(probeL) })
	}
	if s := startSSH(cfg, sshL, reaper, store, sup, logger); s != nil {
		servers = append(servers, s)
		// Only a listening ssh server is advertised in the hold banner.
		sup.AdvertiseSSH(cfg.SSHAddr)
	}

	trimStop := make(chan struct{})
	if cfg.TrimMemory {
		go trimWhenSettled(store, log, trimStop, trimSettle, memtrim.Trim)
	}
	code := superviseOnLeader(fwd, log, func() int { return sup.Run(context.Background(), sigs.Forward) })
	close(trimStop)

	// Nothing the app wrote is dropped: a run's end waits only briefly for a
	// slow log reader, so what it read but could not yet pass on is written
	// out here, before the process (and the relay's buffers) go away.
	dctx, dcancel := context.WithTimeout(context.Background(), exitDrain)
	if err := console.Drain(dctx); err != nil {
		log.Warn("exiting with app output unwritten", "err", err, "waited", exitDrain)
	}
	dcancel()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(ctx)
	}
	// holdfast's own log lines are written asynchronously (they never block
	// on a stuck stderr); write out the last ones before exiting.
	_ = console.Flush(ctx)
	return code
}

// superviseOnLeader runs the supervisor on a goroutine of its own while
// this one, which init locked to the thread-group leader, takes the signals
// to forward there (launcher.Forwarder.WaitOnLeader). It returns run's
// result once run has returned and the wait has ended.
func superviseOnLeader(fwd *launcher.Forwarder, log *slog.Logger, run func() int) int {
	done := make(chan int, 1)
	go func() {
		done <- run()
		fwd.StopWaiting()
	}()
	if err := fwd.WaitOnLeader(); err != nil {
		log.Debug("cannot take signals on the leader thread", "err", err)
	}
	return <-done
}

// listen opens the TCP listener of flag at addr; none for an empty addr.
func listen(flag, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s %q: %w", flag, addr, err)
	}
	return l, nil
}

// refuse reports a configuration that fails only once holdfast tries it
// (an address in use, an unsafe state dir) and returns exit code 2. Nothing
// has started yet. The line goes through the console, as every line after
// it exists does, and is written out before holdfast exits.
func refuse(console *capture.Console, err error) int {
	fmt.Fprintf(console.LogWriter(), "holdfast: %v\n", err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = console.Flush(ctx)
	return launcher.ExitUsage
}

// exitDrain bounds how long holdfast waits at exit for its stdout and stderr
// to take the rest of the app's output. Only a reader that stopped reading
// makes it matter; the kubelet's own grace period runs meanwhile.
const exitDrain = 10 * time.Second

func serve(log *slog.Logger, what string, f func() error) {
	if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		log.Error("server stopped", "server", what, "err", err)
	}
}

func supervisorConfig(cfg *config.Config) crashhold.Config {
	return crashhold.Config{
		Policy: crashhold.Policy{
			Hold:        cfg.Hold,
			HoldWindow:  cfg.HoldWindow,
			MaxRestarts: cfg.MaxRestarts,
			Backoff:     cfg.Backoff,
			BackoffMax:  cfg.BackoffMax,
			LateRestart: cfg.OnLateCrash == "restart",
			ReadyGated:  cfg.AppReadyURL != "",
		},
		Command:        cfg.Command,
		Env:            os.Environ(),
		Credential:     cfg.Credential,
		Grace:          cfg.Grace,
		StopSignal:     cfg.StopSignal,
		SignalMap:      cfg.SignalMap,
		HoldTimeout:    cfg.HoldTimeout,
		HoldOnHang:     cfg.HoldOnHang,
		JVM:            cfg.JVM,
		LogMaxBytes:    cfg.LogMaxBytes,
		RetainMemory:   cfg.RetainMemory,
		NoCapture:      !cfg.Capture,
		ReadyURL:       cfg.AppReadyURL,
		LiveURL:        cfg.AppLiveURL,
		ProbePeriod:    cfg.AppProbePeriod,
		ProbeTimeout:   cfg.AppProbeTimeout,
		ProbeFailures:  cfg.AppProbeFailures,
		ReadyRule:      cfg.AppReady,
		StartupTimeout: cfg.StartupTimeout,
		MemoryWatch:    cfg.MemoryWatch,
		StateDir:       cfg.StateDir,
		Version:        version.Version,
		TerminationLog: terminationLog,
		KillAll:        true,
	}
}

func newChecker() func(context.Context, string) (bool, string) {
	client := probes.NewCheckClient()
	return func(ctx context.Context, url string) (bool, string) { return probes.CheckURL(ctx, client, url) }
}

// backend adapts the supervisor to the control socket.
type backend struct{ *crashhold.Supervisor }

func (b backend) Request(kind string) error { return b.Supervisor.Request(crashhold.RequestKind(kind)) }

// listenControl opens the control socket. With --user naming another uid,
// the operator gave that account control over the app: the socket is
// shared with the app's group and app is the uid the server also answers
// (else -1). When the socket cannot be shared (no privilege to change its
// group), it stays private and a warning says so.
func listenControl(cfg *config.Config, log *slog.Logger) (l *control.Listener, app int, err error) {
	cred := cfg.Credential
	if cred == nil || int(cred.Uid) == os.Geteuid() {
		l, err = control.Listen(cfg.StateDir)
		return l, -1, err
	}
	l, err = control.ListenShared(cfg.StateDir, int(cred.Gid))
	if err == nil {
		return l, int(cred.Uid), nil
	}
	log.Warn("cannot share the control socket with the app's user; holdfast subcommands work for root only", "uid", cred.Uid, "gid", cred.Gid, "err", err)
	l, err = control.Listen(cfg.StateDir)
	return l, -1, err
}
