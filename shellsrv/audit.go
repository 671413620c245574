package shellsrv

import (
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/holdfast-dev/holdfast/internal/safefs"
)

// auditEvent is one line of <state-dir>/audit.log.
type auditEvent struct {
	Time        time.Time `json:"time"`
	Event       string    `json:"event"` // login, login-failed, keys-invalid, shell, exec, subsystem, sftp, forward, exit
	User        string    `json:"user,omitempty"`
	Account     string    `json:"account,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	KeyType     string    `json:"key_type,omitempty"`
	CertID      string    `json:"cert_id,omitempty"`
	CertSerial  string    `json:"cert_serial,omitempty"`
	CA          string    `json:"ca,omitempty"`
	Remote      string    `json:"remote,omitempty"`
	Session     string    `json:"session,omitempty"`
	Command     string    `json:"command,omitempty"`
	Pty         bool      `json:"pty,omitempty"`
	Term        string    `json:"term,omitempty"`
	Subsystem   string    `json:"subsystem,omitempty"`
	Dest        string    `json:"dest,omitempty"`
	ExitCode    *int      `json:"exit_code,omitempty"`
	Signal      string    `json:"signal,omitempty"`

	Method     string `json:"method,omitempty"`     // login-failed: publickey, password, keyboard-interactive
	Reason     string `json:"reason,omitempty"`     // login-failed, keys-invalid: why
	Suppressed int    `json:"suppressed,omitempty"` // login-failed: lines left out before this one (rate limit)

	Op      string `json:"op,omitempty"`     // sftp: open, close, remove, rename, setstat, mkdir, rmdir, symlink, hardlink
	Path    string `json:"path,omitempty"`   // sftp: the file
	Target  string `json:"target,omitempty"` // sftp rename, symlink, hardlink: the new name
	Flags   string `json:"flags,omitempty"`  // sftp open: read, write, append, create, truncate, excl
	Read    *int64 `json:"bytes_read,omitempty"`
	Written *int64 `json:"bytes_written,omitempty"`
	Result  string `json:"result,omitempty"` // sftp: "ok" or the server's error
}

// auditLog appends one JSON line per event to a file (mode 0600) and logs
// the same event through slog.
type auditLog struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex

	failMu    sync.Mutex
	failBurst float64   // tokens for login-failed lines
	failLast  time.Time // when failBurst was last refilled
	failLeft  int       // login-failed lines left out since the last one written
}

// Failed logins are recorded at up to failRate lines a second after a burst
// of failBurst: anyone who can reach the port can cause them, and the audit
// log must not grow without bound. The next line written says how many were
// left out.
const (
	failBurst = 100
	failRate  = 2
)

// recordFailure records a login-failed event unless the rate limit says
// otherwise.
func (a *auditLog) recordFailure(ev auditEvent) {
	a.failMu.Lock()
	now := time.Now()
	if a.failLast.IsZero() {
		a.failBurst = failBurst
	} else {
		a.failBurst = min(failBurst, a.failBurst+now.Sub(a.failLast).Seconds()*failRate)
	}
	a.failLast = now
	if a.failBurst < 1 {
		a.failLeft++
		a.failMu.Unlock()
		return
	}
	a.failBurst--
	ev.Suppressed, a.failLeft = a.failLeft, 0
	a.failMu.Unlock()
	a.record(ev)
}

func (a *auditLog) record(ev auditEvent) {
	ev.Time = time.Now().UTC()
	attrs := []any{"event", ev.Event, "user", ev.User, "remote", ev.Remote, "session", ev.Session}
	switch {
	case ev.Fingerprint != "" && ev.Event == "login":
		attrs = append(attrs, "fingerprint", ev.Fingerprint, "key_type", ev.KeyType)
		if ev.CertID != "" {
			attrs = append(attrs, "cert_id", ev.CertID, "cert_serial", ev.CertSerial, "ca", ev.CA)
		}
	case ev.Command != "":
		attrs = append(attrs, "command", ev.Command)
	case ev.Subsystem != "":
		attrs = append(attrs, "subsystem", ev.Subsystem)
	case ev.Dest != "":
		attrs = append(attrs, "dest", ev.Dest)
	case ev.Event == "login-failed":
		attrs = append(attrs, "method", ev.Method, "fingerprint", ev.Fingerprint, "reason", ev.Reason)
	case ev.Event == "keys-invalid":
		attrs = append(attrs, "reason", ev.Reason)
	case ev.Op != "":
		attrs = append(attrs, "op", ev.Op, "path", ev.Path, "result", ev.Result)
	}
	if ev.ExitCode != nil {
		attrs = append(attrs, "exit_code", *ev.ExitCode, "signal", ev.Signal)
	}
	a.log.Info("ssh "+ev.Event, attrs...)
	if a.path == "" {
		return
	}
	line, err := json.Marshal(ev)
	if err != nil {
		a.log.Error("cannot encode audit event", "err", err)
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	// Opened per event: cheap at login rates, and a rotated or deleted
	// file is simply recreated. One write(2) per line with O_APPEND keeps
	// lines whole.
	f, err := openAuditLog(a.path)
	if err != nil {
		a.log.Error("cannot open audit log", "path", a.path, "err", err)
		return
	}
	if _, err := f.Write(line); err != nil {
		a.log.Error("cannot write audit log", "path", a.path, "err", err)
	}
	if err := f.Close(); err != nil {
		a.log.Error("cannot write audit log", "path", a.path, "err", err)
	}
}

// openAuditLog opens path for appending, creating it (0600) when missing.
// The last component is never followed: a link planted at audit.log is an
// error, not a way to append to another file.
func openAuditLog(path string) (*os.File, error) {
	d, name, err := safefs.OpenParent(path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// shortID is a connection's name in logs: the first bytes of the ssh
// session hash, enough to correlate one connection's lines.
func shortID(sessionID []byte) string {
	if len(sessionID) > 6 {
		sessionID = sessionID[:6]
	}
	return hex.EncodeToString(sessionID)
}
