package crashhold

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/runrec"
)

// The test binary re-runs itself as the fake app (os/exec's
// TestHelperProcess habit): HF_FAKE selects the behaviour.
var testReaper *launcher.Reaper

func TestMain(m *testing.M) {
	if mode := os.Getenv("HF_FAKE"); mode != "" {
		fakeApp(mode)
		return
	}
	// Orphans of the fake apps must reparent to us, and one reaper serves
	// every supervisor in this process, as in holdfast.
	if _, err := launcher.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot become subreaper:", err)
		os.Exit(1)
	}
	testReaper = launcher.NewReaper()
	launcher.RouteSignals(testReaper, nil)
	os.Exit(m.Run())
}

func fakeApp(mode string) {
	switch mode {
	case "exit":
		var code int
		fmt.Sscan(os.Getenv("HF_CODE"), &code)
		fmt.Println("fake app: exiting with", code)
		os.Exit(code)
	case "sleep":
		// "up" means ready for signals: a test sends them as soon as it
		// reads it.
		c := make(chan os.Signal, 1)
		if os.Getenv("HF_IGNORE_TERM") != "" {
			signal.Ignore(syscall.SIGTERM)
		}
		// SIGQUIT is what holdfast sends a JVM for its thread dump; the
		// fake app answers it as a JVM does, by writing and living on.
		signal.Notify(c, syscall.SIGUSR1, syscall.SIGQUIT)
		fmt.Println("fake app: up")
		for sig := range c {
			fmt.Println("fake app: got", launcher.SignalName(sig.(syscall.Signal)))
		}
	case "exit-on-usr1":
		// Up until SIGUSR1, then exit with HF_CODE: the test picks the
		// moment of the crash.
		var code int
		fmt.Sscan(os.Getenv("HF_CODE"), &code)
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		fmt.Println("fake app: up")
		<-c
		fmt.Println("fake app: exiting with", code)
		os.Exit(code)
	case "crash-unless-file":
		if _, err := os.Stat(os.Getenv("HF_FILE")); err != nil {
			fmt.Fprintln(os.Stderr, "fake app: config missing, failing")
			os.Exit(3)
		}
		fmt.Println("fake app: configured, up")
		select {}
	case "port":
		// Bind the port, hand the listener to a child that outlives us,
		// then crash: the child still holds the port.
		addr := os.Getenv("HF_ADDR")
		l, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake app: port in use:", err)
			os.Exit(4)
		}
		fmt.Println("fake app: listening on", addr)
		if os.Getenv("HF_LEAVE_CHILD") != "" {
			f, _ := l.(*net.TCPListener).File()
			// os.StartProcess keeps duplicate variables and the child's
			// Getenv takes the first: drop ours before setting them.
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "HF_FAKE=") && !strings.HasPrefix(kv, "HF_LEAVE_CHILD=") {
					env = append(env, kv)
				}
			}
			p, err := os.StartProcess(os.Args[0], os.Args, &os.ProcAttr{
				Env:   append(env, "HF_FAKE=sleep"),
				Files: []*os.File{nil, os.Stdout, os.Stderr, f},
			})
			if err != nil {
				os.Exit(5)
			}
			fmt.Println("fake app: left child", p.Pid)
			os.Exit(1)
		}
		select {}
	case "listen-late":
		d, _ := time.ParseDuration(os.Getenv("HF_DELAY"))
		time.Sleep(d)
		l, err := net.Listen("tcp", os.Getenv("HF_ADDR"))
		if err != nil {
			os.Exit(6)
		}
		fmt.Println("fake app: listening")
		defer l.Close()
		select {}
	case "http":
		// liveness answers until HF_HANG_FILE exists, then hangs. SIGQUIT
		// is answered as a JVM does (its "thread dump": a line on stderr,
		// no exit); HF_IGNORE_TERM makes
		// it outlive the stop signal.
		quit := make(chan os.Signal, 1)
		signal.Notify(quit, syscall.SIGQUIT)
		go func() {
			for range quit {
				// On stderr, where holdfast's banner goes, so that a
				// test can see which came first.
				fmt.Fprintln(os.Stderr, "fake app: got SIGQUIT")
			}
		}()
		if os.Getenv("HF_IGNORE_TERM") != "" {
			signal.Ignore(syscall.SIGTERM)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/live", func(w http.ResponseWriter, r *http.Request) {
			if _, err := os.Stat(os.Getenv("HF_HANG_FILE")); err == nil {
				select {}
			}
			io.WriteString(w, `{"status":"UP"}`)
		})
		mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"UP"}`) })
		l, err := net.Listen("tcp", os.Getenv("HF_ADDR"))
		if err != nil {
			os.Exit(6)
		}
		fmt.Println("fake app: serving")
		http.Serve(l, mux)
	}
	os.Exit(99)
}

// harness runs one supervisor in-process.
type harness struct {
	t       *testing.T
	sup     *Supervisor
	store   *state.Store
	records *runrec.Records
	sigs    chan os.Signal
	done    chan int
	dir     string

	mu     sync.Mutex
	phases []state.Phase
	exits  []runExit // what collect learned about each ended run
}

func newHarness(t *testing.T, cfg Config, env ...string) *harness {
	t.Helper()
	return newHarnessClock(t, nil, cfg, env...)
}

// newHarnessClock is newHarness with the supervisor's time from clock
// (nil: the wall clock).
func newHarnessClock(t *testing.T, clock Clock, cfg Config, env ...string) *harness {
	t.Helper()
	dir := t.TempDir()
	stdout, _ := os.Create(filepath.Join(dir, "console.out"))
	stderr, _ := os.Create(filepath.Join(dir, "console.err"))
	t.Cleanup(func() { stdout.Close(); stderr.Close() })
	console := capture.NewConsole(stdout, stderr)
	logger := slog.New(slog.NewTextHandler(console.LogWriter(), nil))
	if cfg.Command == nil {
		cfg.Command = []string{os.Args[0], "-test.run=^$"}
	}
	cfg.Env = append(os.Environ(), env...)
	if cfg.Grace == 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.StopSignal == 0 {
		cfg.StopSignal = syscall.SIGTERM
	}
	if cfg.LogMaxBytes == 0 {
		cfg.LogMaxBytes = 1 << 20
	}
	if cfg.Policy.HoldWindow == 0 {
		cfg.Policy.HoldWindow = time.Hour
	}
	if cfg.ProbePeriod == 0 {
		cfg.ProbePeriod, cfg.ProbeTimeout, cfg.ProbeFailures = 50*time.Millisecond, 200*time.Millisecond, 2
	}
	if cfg.StateDir == "" {
		cfg.StateDir = filepath.Join(dir, "state")
	}
	cfg.JVM = "off"
	h := &harness{t: t, dir: dir, sigs: make(chan os.Signal, 8), done: make(chan int, 1)}
	h.store = state.NewStore(state.Snapshot{Phase: state.Starting})
	h.records = runrec.Open(cfg.StateDir, 20, logger)
	h.sup = New(cfg, Deps{
		Reaper: testReaper, Records: h.records, Console: console, Store: h.store, Logger: logger, Clock: clock,
		Check: func(ctx context.Context, url string) (bool, string) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode < 400, resp.Status
		},
	})
	// Record every transition, in order (the supervisor calls the hook on
	// its own goroutine, before publishing).
	h.phases = []state.Phase{state.Starting}
	h.sup.onTransition = func(from, to state.Phase) {
		h.mu.Lock()
		h.phases = append(h.phases, to)
		h.mu.Unlock()
	}
	h.sup.onRunExit = func(x runExit) {
		h.mu.Lock()
		h.exits = append(h.exits, x)
		h.mu.Unlock()
	}
	go func() { h.done <- h.sup.Run(context.Background(), h.sigs) }()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			h.sigs <- syscall.SIGKILL // not a stop: forwarded, kills the app
			h.sigs <- syscall.SIGTERM
			select {
			case <-h.done:
			case <-time.After(30 * time.Second):
				t.Error("supervisor did not exit")
			}
		}
	})
	return h
}

func (h *harness) waitPhase(p state.Phase) state.Snapshot {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ch := h.store.Changed()
		snap := h.store.Load()
		if snap.Phase == p {
			return snap
		}
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
			h.t.Fatalf("phase %s not reached in 30s; now %s; seen %v", p, snap.Phase, h.seen())
		}
	}
}

func (h *harness) exitCode() int {
	h.t.Helper()
	select {
	case code := <-h.done:
		h.done <- code
		return code
	case <-time.After(30 * time.Second):
		h.t.Fatalf("supervisor did not exit in 30s; phase %s", h.store.Load().Phase)
		return -1
	}
}

func (h *harness) seen() []state.Phase {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]state.Phase(nil), h.phases...)
}

// runExits is what collect learned about each ended run, in order.
func (h *harness) runExits() []runExit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]runExit(nil), h.exits...)
}

func (h *harness) consoleErr() string {
	b, _ := os.ReadFile(filepath.Join(h.dir, "console.err"))
	return string(b)
}

// edgesSeen collects the transitions every test observed, for TestScenarios'
// check that every edge of the phase graph was walked (scenarios_test.go).
var edgesSeen sync.Map

func (h *harness) noteEdges() {
	ph := h.seen()
	for i := 1; i < len(ph); i++ {
		edgesSeen.Store([2]state.Phase{ph[i-1], ph[i]}, true)
	}
}

func strPtr(s *state.HoldReason) state.HoldReason {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
