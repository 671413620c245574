package shellsrv

import (
	"fmt"
	"log/slog"
	"os"
	"sync"

	gliderssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/holdfast-dev/holdfast/launcher"
)

// This file replaces gliderlabs' DefaultSessionHandler (v0.3.8), which
// rewrites LF to CRLF on pty sessions, sends exit-status and closes while
// output is still in flight, blocks its request loop on a window-change
// before the shell starts, accepts agent forwarding, and leaves processes
// running when the client goes away.

// Request payloads, RFC 4254 section 6.
type ptyRequest struct {
	Term     string
	Cols     uint32
	Rows     uint32
	WidthPx  uint32
	HeightPx uint32
	Modes    string // encoded terminal modes, RFC 4254 section 8
}

type windowChange struct {
	Cols     uint32
	Rows     uint32
	WidthPx  uint32
	HeightPx uint32
}

// session is one "session" channel.
type session struct {
	srv  *Server
	ch   gossh.Channel
	conn *gossh.ServerConn
	id   identity
	user *sessionUser // the account the login maps to
	sid  string
	log  *slog.Logger

	// Set by the request loop before the command starts; read by the
	// command's goroutine only after (the go statement orders them).
	clientEnv []string
	ptyReq    *ptyRequest
	started   bool

	mu     sync.Mutex
	win    windowChange
	master *os.File // the pty master while a pty command runs
	pgid   int      // the command's process group while it runs

	closed chan struct{} // the request stream ended: channel closed or connection gone
	done   chan struct{} // the command's goroutine has finished
}

func (s *Server) handleSession(_ *gliderssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, _ gliderssh.Context) {
	s.channels.Add()
	defer s.channels.Done()
	id, ok := identityOf(conn)
	if !ok {
		_ = nc.Reject(gossh.Prohibited, "not authenticated")
		return
	}
	if !s.acquireSession() {
		s.log.Warn("ssh session refused: too many sessions", "user", id.login, "remote", conn.RemoteAddr().String(), "max", s.maxSess)
		_ = nc.Reject(gossh.ResourceShortage, fmt.Sprintf("too many ssh sessions (max %d)", s.maxSess))
		return
	}
	defer s.releaseSession()
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	sid := shortID(conn.SessionID())
	_, user := s.accountFor(id.login)
	ss := &session{
		srv: s, ch: ch, conn: conn, id: id, user: user, sid: sid,
		log:    s.log.With("session", sid, "user", id.login),
		closed: make(chan struct{}),
		done:   make(chan struct{}),
	}
	ss.serve(reqs)
}

// serve answers the channel's requests until the channel closes. Window
// changes are applied here directly, so they can never block a shell or
// exec request behind them (shellhub-io/shellhub#6837).
func (ss *session) serve(reqs <-chan *gossh.Request) {
	running := false
	for req := range reqs {
		ok, start := ss.handle(req)
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if start != nil {
			running = true
			go start()
		}
	}
	close(ss.closed)
	if running {
		<-ss.done
		return
	}
	_ = ss.ch.Close()
}

// handle answers one request; start, when non-nil, runs the command after
// the reply is sent.
func (ss *session) handle(req *gossh.Request) (ok bool, start func()) {
	switch req.Type {
	case "env":
		var kv struct{ Name, Value string }
		if ss.started || gossh.Unmarshal(req.Payload, &kv) != nil ||
			len(ss.clientEnv) >= maxClientEnv || !allowedClientEnv(kv.Name, kv.Value) {
			ss.log.Debug("ssh env variable ignored", "name", kv.Name)
			return false, nil
		}
		ss.clientEnv = append(ss.clientEnv, kv.Name+"="+kv.Value)
		return true, nil
	case "pty-req":
		var p ptyRequest
		if ss.started || ss.ptyReq != nil || gossh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		if ss.id.noPty {
			ss.log.Info("ssh pty refused for this key (no-pty or certificate without permit-pty)")
			return false, nil
		}
		ss.ptyReq = &p
		ss.resize(windowChange{Cols: p.Cols, Rows: p.Rows, WidthPx: p.WidthPx, HeightPx: p.HeightPx})
		return true, nil
	case "window-change":
		var w windowChange
		if ss.ptyReq == nil || gossh.Unmarshal(req.Payload, &w) != nil {
			return false, nil
		}
		ss.resize(w)
		return true, nil
	case "shell", "exec":
		var p struct{ Command string }
		if ss.started || (req.Type == "exec" && gossh.Unmarshal(req.Payload, &p) != nil) {
			return false, nil
		}
		ss.started = true
		isExec := req.Type == "exec"
		return true, func() { ss.runCommand(isExec, p.Command) }
	case "subsystem":
		var p struct{ Name string }
		if ss.started || gossh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
			return false, nil
		}
		ss.started = true
		return true, ss.runSFTP
	case "signal":
		// OpenSSH's client never sends one (^C travels as a byte through the
		// pty), but other clients do: deliver it to the command's group.
		var p struct{ Signal string }
		if gossh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		sig, err := launcher.ParseSignal(p.Signal)
		if err != nil {
			return false, nil
		}
		ss.mu.Lock()
		pgid := ss.pgid
		ss.mu.Unlock()
		return pgid != 0 && launcher.SignalGroup(pgid, sig) == nil, nil
	default:
		// auth-agent-req@openssh.com (agent forwarding is refused: it
		// would hand our users' agents to whoever can read the socket),
		// x11-req, break, and anything unknown.
		return false, nil
	}
}

// resize records the window size and applies it to the pty if one is open.
func (ss *session) resize(w windowChange) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.win = w
	if ss.master != nil {
		if err := setWinsize(ss.master, w); err != nil {
			ss.log.Debug("cannot resize pty", "err", err)
		}
	}
}

// environ is the command's environment; tty names its pty, if any.
func (ss *session) environ(tty string) []string {
	term := ""
	if ss.ptyReq != nil {
		term = ss.ptyReq.Term
	}
	return sessionEnv(ss.srv.appEnv(), ss.user.acct, ss.user.shell, ss.clientEnv, term, tty,
		ss.conn.RemoteAddr(), ss.conn.LocalAddr())
}

func (ss *session) auditEvent(event string) auditEvent {
	return auditEvent{
		Event: event, User: ss.id.login, Account: ss.user.acct.Name, Fingerprint: ss.id.fingerprint,
		Remote: ss.conn.RemoteAddr().String(), Session: ss.sid,
	}
}
