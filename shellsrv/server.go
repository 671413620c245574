package shellsrv

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/holdfast-dev/holdfast/internal/inflight"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
)

// ErrServerClosed is what Serve returns after Shutdown.
var ErrServerClosed = gliderssh.ErrServerClosed

// Defaults for the zero values of Config.
const (
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultHandshakeTimeout = 20 * time.Second
	// DefaultMaxSessions matches OpenSSH's MaxSessions (sshd_config(5)).
	DefaultMaxSessions = 10
	// DefaultMaxAuthTries matches OpenSSH's MaxAuthTries.
	DefaultMaxAuthTries = 6
	// DefaultMaxUnauthPerIP is how many connections one address may hold
	// before authenticating (on top of the global MaxStartups): dropbear
	// allows 5. Behind kubectl port-forward every client shares 127.0.0.1,
	// so bursts of logins need the larger number, and a new connection
	// from a full address replaces one that has idled (startups.go).
	DefaultMaxUnauthPerIP = 10
	// hangupGrace is the time between SIGHUP and SIGKILL of a session's
	// process group after its client went away.
	hangupGrace = 3 * time.Second
)

// Config configures the ssh server. Only the keys, the host key path and the
// Reaper are required.
type Config struct {
	Addr                 string // e.g. ":2222"; informational, Serve takes the listener
	AuthorizedKeysFile   string
	AuthorizedKeysInline string
	HostKeyPath          string // created (ed25519, OpenSSH format, 0600) when absent
	MaxSessions          int    // concurrent session channels; 0 = DefaultMaxSessions
	LoginShell           bool   // start shells as login shells (they then source /etc/profile, which resets PATH)
	Reaper               *launcher.Reaper
	Store                *state.Store
	AppEnv               func() []string // the exact environment the app was started with; nil = holdfast's own
	AuditLog             string          // path; "" = log only
	Logger               *slog.Logger
	IdleTimeout          time.Duration // 0 = DefaultIdleTimeout; pushed on every read and write, so ServerAlive keeps sessions open

	// Added fields; zero values select the defaults above.
	HandshakeTimeout time.Duration // bound on connect-to-authenticated
	MaxAuthTries     int
	MaxUnauthPerIP   int
	MaxStartups      MaxStartups // global cap on unauthenticated connections; zero = DefaultMaxStartups

	// Credential is the user sessions run as (shell, exec, sftp): the app's
	// --user. nil = holdfast's own uid, as the app.
	Credential *syscall.Credential
	// AllowRoot, with Credential set, lets a login as holdfast's own
	// account (root) have a session as holdfast's uid (--ssh-allow-root).
	AllowRoot bool
}

// Enabled reports whether keys are configured (file exists or inline set).
func (c Config) Enabled() bool {
	if strings.TrimSpace(c.AuthorizedKeysInline) != "" {
		return true
	}
	if c.AuthorizedKeysFile == "" {
		return false
	}
	_, err := os.Stat(c.AuthorizedKeysFile)
	return err == nil
}

// Server is holdfast's ssh server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	keys     *keySource
	signer   gossh.Signer
	user     *sessionUser // what every login maps to
	root     *sessionUser // with AllowRoot: what a login as holdfast's own account maps to
	audit    *auditLog
	store    *state.Store
	gs       *gliderssh.Server
	maxSess  int64
	maxTries int
	maxUnIP  int
	idle     time.Duration
	hsTime   time.Duration

	active   atomic.Int64     // open session channels
	channels inflight.Counter // running channel handlers, which gliderlabs does not track

	pending *pendingSet // unauthenticated connections
}

// New loads the keys and the host key. Errors name the file and line
// ("cannot parse /etc/holdfast/authorized_keys line 3: ...").
func New(cfg Config) (*Server, error) {
	if cfg.Reaper == nil {
		return nil, errors.New("cannot start ssh server: no reaper")
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    cfg.Store,
		maxSess:  int64(orDefault(cfg.MaxSessions, DefaultMaxSessions)),
		maxTries: orDefault(cfg.MaxAuthTries, DefaultMaxAuthTries),
		maxUnIP:  orDefault(cfg.MaxUnauthPerIP, DefaultMaxUnauthPerIP),
		idle:     orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
		hsTime:   orDefault(cfg.HandshakeTimeout, DefaultHandshakeTimeout),
	}
	limits := cfg.MaxStartups
	if limits.Full <= 0 {
		limits = DefaultMaxStartups
	}
	s.pending = newPendingSet(limits, s.maxUnIP)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "ssh")
	if s.store == nil {
		s.store = state.NewStore(state.Snapshot{})
	}
	keys, err := newKeySource(cfg.AuthorizedKeysFile, cfg.AuthorizedKeysInline, s.log)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	s.audit = &auditLog{path: cfg.AuditLog, log: s.log}
	keys.onBroken = func(err error) {
		s.audit.record(auditEvent{Event: "keys-invalid", Reason: err.Error()})
	}
	if s.signer, err = loadOrCreateHostKey(cfg.HostKeyPath, s.log); err != nil {
		return nil, err
	}
	if err := s.setUsers(); err != nil {
		return nil, err
	}
	s.gs = &gliderssh.Server{
		Addr:        cfg.Addr,
		Version:     "holdfast", // announced as SSH-2.0-holdfast, not SSH-2.0-Go
		HostSigners: []gliderssh.Signer{s.signer},
		IdleTimeout: s.idle,
		// Set so that gliderlabs does not turn on NoClientAuth; the
		// authoritative check is VerifiedPublicKeyCallback (auth.go).
		PublicKeyHandler:         s.publicKeyHandler,
		ConnCallback:             s.connCallback,
		ServerConfigCallback:     s.serverConfig,
		ConnectionFailedCallback: s.connectionFailed,
		// Our own session handler (session.go) and a loopback-only
		// direct-tcpip (forward.go). No "default": other channel types,
		// such as agent or x11, are rejected.
		ChannelHandlers: map[string]gliderssh.ChannelHandler{
			"session":      s.handleSession,
			"direct-tcpip": s.handleDirectTCPIP,
		},
		// Non-nil and empty: tcpip-forward (ssh -R) and every other global
		// request are refused.
		RequestHandlers:   map[string]gliderssh.RequestHandler{},
		SubsystemHandlers: map[string]gliderssh.SubsystemHandler{},
	}
	return s, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Serve accepts connections on l until Shutdown; it then returns
// ErrServerClosed.
func (s *Server) Serve(l net.Listener) error { return s.gs.Serve(l) }

// Shutdown stops accepting, then waits for open connections and their
// sessions to end. When ctx ends first it closes the connections (their
// sessions are hung up) and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.gs.Shutdown(ctx)
	if ctx.Err() == nil {
		_, idle := s.channels.Idle()
		select {
		case <-idle:
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		_ = s.gs.Close()
		return ctx.Err()
	}
	return err
}

// HostKeyFingerprint is the host key's "SHA256:..." fingerprint, as
// ssh-keygen -l and the OpenSSH client print it.
func (s *Server) HostKeyFingerprint() string { return gossh.FingerprintSHA256(s.signer.PublicKey()) }

func (s *Server) appEnv() []string {
	if s.cfg.AppEnv != nil {
		return s.cfg.AppEnv()
	}
	return os.Environ()
}

// serverConfig adds what gliderlabs v0.3.8 has no option for.
func (s *Server) serverConfig(ctx gliderssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		Config:                    algorithms.Config,
		PublicKeyAuthAlgorithms:   algorithms.PublicKeyAuths,
		MaxAuthTries:              s.maxTries,
		VerifiedPublicKeyCallback: s.verifiedKeyCallback(ctx),
		AuthLogCallback:           s.authLogCallback(ctx),
	}
}

var ctxKeyConn = &struct{ name string }{"holdfast-conn"}

// connCallback caps unauthenticated connections, per address and in all
// (startups.go), and bounds the time to authenticate: v0.3.8 has no
// HandshakeTimeout, and the idle deadline is pushed by every byte, so a
// slow-drip client could hold a slot for ever.
func (s *Server) connCallback(ctx gliderssh.Context, conn net.Conn) net.Conn {
	now := time.Now()
	tc := &trackedConn{Conn: conn, srv: s, ip: hostOnly(conn.RemoteAddr()), since: now}
	evicted, refused := s.pending.admit(tc, now)
	if refused != "" {
		s.log.Warn("ssh connection refused: "+refused, "remote", conn.RemoteAddr().String(), "per_address", s.maxUnIP, "max_startups", s.pending.limits)
		return nil
	}
	if evicted != nil {
		s.log.Info("ssh connection closed to make room: pending without authenticating", "remote", evicted.RemoteAddr().String(),
			"for", now.Sub(evicted.since).Round(time.Millisecond), "bytes", evicted.read.Load())
		_ = evicted.Conn.Close()
	}
	tc.timer = time.AfterFunc(s.hsTime, tc.handshakeExpired)
	ctx.SetValue(ctxKeyConn, tc)
	return tc
}

func (s *Server) connectionFailed(conn net.Conn, err error) {
	var authErr *gossh.ServerAuthError
	if errors.As(err, &authErr) {
		s.log.Info("ssh login refused", "remote", conn.RemoteAddr().String(), "err", err)
		return
	}
	s.log.Debug("ssh handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
}

func hostOnly(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// acquireSession takes one of MaxSessions slots.
func (s *Server) acquireSession() bool {
	for {
		n := s.active.Load()
		if n >= s.maxSess {
			return false
		}
		if s.active.CompareAndSwap(n, n+1) {
			s.store.Counters.SSHActive.Add(1)
			s.store.Counters.SSHTotal.Add(1)
			return true
		}
	}
}

func (s *Server) releaseSession() {
	s.active.Add(-1)
	s.store.Counters.SSHActive.Add(-1)
}
