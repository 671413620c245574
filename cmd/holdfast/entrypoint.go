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

	isPID1, err := launcher.BecomeSubreaper()
	if err != nil {
		log.Warn("cannot become a child subreaper; orphans of the app will not be reaped by holdfast", "err", err)
	}

	store := state.NewStore(state.Snapshot{Phase: state.Starting, Version: version.Version, Command: redact.Argv(cfg.Command), StateDir: cfg.StateDir})
	reaper := launcher.NewReaper()
	reaper.OnOrphan = func(launcher.Status) { store.Counters.Reaped.Add(1) }
	sigs := launcher.RouteSignals(reaper)
	if sig := cfg.ParentDeathSignal; sig != 0 {
		// After RouteSignals: the signal is then handled like one from outside.
		if err := launcher.SetParentDeathSignal(sig, ppid); err != nil {
			log.Warn("cannot set the parent-death signal", "signal", launcher.SignalName(sig), "err", err)
		}
	}

	// Listeners are opened before the app starts: an address in use is a
	// configuration error, reported before anything runs.
	var probeL net.Listener
	if cfg.ProbeAddr != "" {
		if probeL, err = net.Listen("tcp", cfg.ProbeAddr); err != nil {
			fmt.Fprintf(os.Stderr, "holdfast: cannot listen on --probe-addr %q: %v\n", cfg.ProbeAddr, err)
			return launcher.ExitUsage
		}
	}

	// A state dir the app could write into while holdfast cannot fix it is
	// refused: root would write where the app plants links. One that
	// cannot be made is reported once, by OpenRecords, which then keeps the
	// evidence in memory.
	if err := statedir.Prepare(cfg.StateDir, cfg.Credential); err != nil {
		var unsafe *statedir.UnsafeError
		if errors.As(err, &unsafe) {
			fmt.Fprintf(os.Stderr, "holdfast: %v\n", err)
			return launcher.ExitUsage
		}
		log.Debug("cannot prepare the state dir", "err", err)
	}
	records := runrec.Open(cfg.StateDir, cfg.KeepRuns, logger)

	sup := crashhold.New(supervisorConfig(cfg, isPID1), crashhold.Deps{
		Reaper:   reaper,
		Records:  records,
		Console:  console,
		Store:    store,
		Logger:   logger,
		Terminal: launcher.DetectTerminal(),
		Check:    newChecker(),
		Stdin:    os.Stdin,
	})

	var servers []interface{ Shutdown(context.Context) error }
	if l, err := control.Listen(cfg.StateDir); err != nil {
		log.Warn("control socket disabled; holdfast subcommands will not reach this holdfast", "err", err)
	} else {
		if l.FallbackReason != "" {
			log.Warn("the state dir cannot hold the control socket; it is in the fallback directory, where holdfast subcommands find it",
				"socket", l.Path, "reason", l.FallbackReason)
		}
		cs := control.NewServer(backend{sup}, logger)
		servers = append(servers, cs)
		go serve(log, "control", func() error { return cs.Serve(l) })
	}
	if probeL != nil {
		ps := probes.NewServer(store, probes.NewRegistry(store), probes.Options{Logger: logger})
		servers = append(servers, ps)
		go serve(log, "probes", func() error { return ps.Serve(probeL) })
	}
	if s := startSSH(cfg, reaper, store, sup, logger); s != nil {
		servers = append(servers, s)
		// Only a listening ssh server is advertised in the hold banner.
		sup.AdvertiseSSH(cfg.SSHAddr)
	}

	trimStop := make(chan struct{})
	if cfg.TrimMemory {
		go trimWhenSettled(store, log, trimStop, trimSettle, memtrim.Trim)
	}
	code := sup.Run(context.Background(), sigs.Forward)
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

// exitDrain bounds how long holdfast waits at exit for its stdout and stderr
// to take the rest of the app's output. Only a reader that stopped reading
// makes it matter; the kubelet's own grace period runs meanwhile.
const exitDrain = 10 * time.Second

func serve(log *slog.Logger, what string, f func() error) {
	if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		log.Error("server stopped", "server", what, "err", err)
	}
}

func supervisorConfig(cfg *config.Config, isPID1 bool) crashhold.Config {
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
