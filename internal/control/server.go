package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/subcmd"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/runrec"
)

// Backend is what the control socket serves.
type Backend interface {
	Status() state.Snapshot
	// Runs returns every kept run's record, oldest first.
	Runs() []runrec.RunRecord
	// Logs returns a run's retained output (run 0: the current or last
	// run) and, when follow is set, a channel of later output that closes
	// when the run's output ends or ctx is done.
	Logs(ctx context.Context, run int, follow bool) ([]byte, <-chan []byte, error)
	// Request asks the supervisor for restart, release, stop or hold.
	Request(kind string) error
}

// Server serves the control API on a unix socket.
type Server struct {
	uid int // holdfast's effective uid: with root, served always
	app int // the app's uid when AllowUID was called, else -1
	b   Backend
	log *slog.Logger
	// facts, when set (ServeFacts), answers GET /v1/facts.
	facts func() any
	srv   *http.Server
}

// NewServer returns a server for b.
func NewServer(b Backend, log *slog.Logger) *Server {
	s := &Server{uid: os.Geteuid(), app: -1, b: b, log: log.With("component", "control")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/runs", s.runs)
	mux.HandleFunc("GET /v1/logs", s.logs)
	mux.HandleFunc("GET /v1/probe/{which}", s.probe)
	mux.HandleFunc("GET /v1/facts", s.serveFacts)
	mux.HandleFunc("POST /v1/{action}", s.action)
	mux.HandleFunc("POST /v1/dump/{kind}", s.dump) // dump.go
	s.srv = &http.Server{
		Handler:           s.onlyTrusted(mux),
		ConnContext:       withPeer,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		// No WriteTimeout: `holdfast logs -f` streams for as long as it likes.
	}
	return s
}

// AllowUID serves uid too, with every request root may make: the app's
// uid, when the operator ran the app as its own user (--user) and so gave
// that account control over it. Call it before Serve. A negative uid, root
// and holdfast's own uid change nothing.
func (s *Server) AllowUID(uid int) {
	if uid > 0 && uid != s.uid {
		s.app = uid
	}
}

// peerKey is the context key of a connection's PeerCred.
type peerKey struct{}

func withPeer(ctx context.Context, c net.Conn) context.Context {
	p, err := peerCred(c)
	if err != nil {
		p = PeerCred{UID: -1}
	}
	return context.WithValue(ctx, peerKey{}, p)
}

// onlyTrusted serves root, holdfast's own uid and the app's uid (AllowUID)
// only. The socket's mode (0600, or 0660 with the app's group) already
// keeps most others out; this holds also when the mode does not (another
// member of the app's group, a socket whose mode was changed, a directory
// with a bind mount). Others get 403 with a message naming who may
// connect, and nothing else.
func (s *Server) onlyTrusted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(peerKey{}).(PeerCred)
		if p.UID == 0 || p.UID == s.uid || (s.app >= 0 && p.UID == s.app) {
			h.ServeHTTP(w, r)
			return
		}
		s.log.Warn("control request refused", "peer_uid", p.UID, "peer_pid", p.PID, "path", r.URL.Path)
		writeJSON(w, http.StatusForbidden, errorBody{fmt.Sprintf("uid %d may not use holdfast's control socket: only %s may", p.UID, s.whoMay())})
	})
}

// whoMay names the uids the server answers, for the 403 message.
func (s *Server) whoMay() string {
	switch {
	case s.uid != 0 && s.app >= 0:
		return fmt.Sprintf("root, uid %d and the app's uid %d", s.uid, s.app)
	case s.uid != 0:
		return fmt.Sprintf("root and uid %d", s.uid)
	case s.app >= 0:
		return fmt.Sprintf("root and the app's uid %d", s.app)
	}
	return "root"
}

// Serve serves l until Shutdown.
func (s *Server) Serve(l net.Listener) error { return s.srv.Serve(l) }

// Shutdown stops the server, ending followers.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

type errorBody struct {
	Error string `json:"error"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Status())
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	runs := s.b.Runs()
	if runs == nil {
		runs = []runrec.RunRecord{}
	}
	writeJSON(w, http.StatusOK, runs)
}

func (s *Server) probe(w http.ResponseWriter, r *http.Request) {
	snap := s.b.Status()
	switch r.PathValue("which") {
	case "live":
		// Alive while holdfast answers, held or not (docs/contract.md "HTTP").
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "phase": snap.Phase})
	case "ready":
		if snap.Ready {
			writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "phase": snap.Phase})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": snap.WithWhy(snap.NotReadyReason), "phase": snap.Phase})
	default:
		writeJSON(w, http.StatusNotFound, errorBody{"unknown probe; use live or ready"})
	}
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	if !subcmd.IsAction(action) {
		writeJSON(w, http.StatusNotFound, errorBody{fmt.Sprintf("unknown action %q", action)})
		return
	}
	s.log.Info("control request", "action", action)
	if err := s.b.Request(action); err != nil {
		writeJSON(w, http.StatusConflict, errorBody{err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "action": action, "phase": s.b.Status().Phase})
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	run, err := intParam(q.Get("run"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{"bad run: " + err.Error()})
		return
	}
	tail, err := intParam(q.Get("tail"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{"bad tail: " + err.Error()})
		return
	}
	follow := q.Get("follow") == "1"
	data, more, err := s.b.Logs(r.Context(), run, follow)
	if err != nil {
		writeJSON(w, http.StatusNotFound, errorBody{err.Error()})
		return
	}
	if tail > 0 {
		data = capture.TailLines(data, tail)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := w.Write(data); err != nil || more == nil {
		return
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for chunk := range more {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func intParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("want a whole number >= 0")
	}
	return n, nil
}
