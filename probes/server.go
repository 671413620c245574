package probes

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// Default timeouts. ReadHeader is short because a probe request is a few
// hundred bytes: a client that needs longer is stalling on purpose
// (slowloris). Idle is long enough for kubelet's keep-alive-free probes and
// for Prometheus, which reuses its connection between scrapes.
const (
	DefaultReadHeaderTimeout = 2 * time.Second
	DefaultReadTimeout       = 5 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultMaxHeaderBytes    = 8 << 10
)

// metricsMaxInFlight bounds concurrent /metrics scrapes. A scrape costs far
// more than a /livez answer; a flood of them must get 503s, not eat the CPU
// the probes need.
const metricsMaxInFlight = 4

// Options configure the probe server. Zero values mean the defaults above.
type Options struct {
	Logger *slog.Logger
	// Timeouts; zero means the defaults: ReadHeader 2s, Read 5s, Write 10s,
	// Idle 30s, MaxHeaderBytes 8 KiB.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ReadHeaderTimeout bounds reading one request's headers; zero means
	// DefaultReadHeaderTimeout, or ReadTimeout when that is shorter.
	ReadHeaderTimeout time.Duration
	// MaxHeaderBytes caps request headers; zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// Server is the probe HTTP server. It looks like net/http: Serve(l),
// Shutdown(ctx), and Serve returns http.ErrServerClosed after Shutdown.
type Server struct {
	store   *state.Store
	log     *slog.Logger
	handler http.Handler
	srv     *http.Server
}

// NewServer returns a server answering from store. Metrics come from reg;
// a nil reg means NewRegistry(store).
func NewServer(store *state.Store, reg *prometheus.Registry, opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "probes")
	if reg == nil {
		reg = NewRegistry(store)
	}
	s := &Server{store: store, log: log}

	mux := http.NewServeMux()
	// "GET /x" also matches HEAD; any other method gets 405 with an Allow
	// header from the mux itself.
	mux.HandleFunc("GET /livez", s.livez)
	mux.HandleFunc("GET /healthz", s.livez)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.status)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{log},
		// A failing process collector (e.g. /proc unreadable under some
		// sandboxes) must not take holdfast's own metrics down with it.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: metricsMaxInFlight,
		// gzip would triple a scrape's CPU (about 0.15 ms -> 0.45 ms) to save a
		// few KiB on a pod-local hop; the budget is 0.5 ms per scrape.
		DisableCompression: true,
	}))
	s.handler = noStore(mux)

	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: pick(opts.ReadHeaderTimeout, min(DefaultReadHeaderTimeout, pick(opts.ReadTimeout, DefaultReadTimeout))),
		ReadTimeout:       pick(opts.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      pick(opts.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       pick(opts.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    pick(opts.MaxHeaderBytes, DefaultMaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the routing handler (with Cache-Control: no-store on every
// answer), for embedding or for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on l until Shutdown. It returns http.ErrServerClosed after
// Shutdown; any other error is wrapped with the address.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if err == http.ErrServerClosed {
		return err
	}
	return fmt.Errorf("cannot serve probes on %s: %w", l.Addr(), err)
}

// Shutdown stops accepting, closes idle connections and waits for active
// requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("cannot shut down probe server: %w", err)
	}
	return nil
}

// noStore marks every answer uncacheable: a cached "ok" or "ready" from a
// proxy would be a lie about the present.
func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func pick[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// promLogger adapts slog for promhttp's error log.
type promLogger struct{ log *slog.Logger }

func (p promLogger) Println(v ...any) { p.log.Warn("cannot serve metrics", "err", fmt.Sprint(v...)) }
