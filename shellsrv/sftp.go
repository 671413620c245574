package shellsrv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/pkg/sftp"

	"github.com/holdfast-dev/holdfast/launcher"
)

// sftpHelperName is argv[0] of the sftp helper: holdfast's own binary,
// re-executed with the session user's credential, serving sftp on its
// stdin and stdout. It is chosen by argv[0], not by a subcommand, so that
// it is in no help text and no subcommand name is taken.
const sftpHelperName = "holdfast-sftp-server"

// selfExe is the binary the helper is started from. /proc/self/exe names
// holdfast's own binary even when the session's user could not reach it by
// its path, and even after the file was replaced.
var selfExe = "/proc/self/exe"

// HelperMain runs holdfast's internal helpers. It reports false when argv
// does not name one; otherwise it serves and returns the exit code. Call it
// first thing in main.
func HelperMain(argv []string) (code int, ok bool) {
	if !IsHelper(argv) {
		return 0, false
	}
	return serveSFTPStdio(), true
}

// IsHelper reports whether argv names one of holdfast's internal helpers.
func IsHelper(argv []string) bool {
	return len(argv) > 0 && filepath.Base(argv[0]) == sftpHelperName
}

// serveSFTPStdio serves the sftp client's bytes on stdin, the replies on
// stdout (sftpwire.go).
func serveSFTPStdio() int {
	// One P: pkg/sftp hands every request between several goroutines,
	// and with more Ps each hand-off wakes another thread.
	runtime.GOMAXPROCS(1)
	srv, err := sftp.NewServer(newHelperConn(os.Stdin, os.Stdout), sftp.WithMaxTxPacket(sftpMaxData))
	if err == nil {
		err = srv.Serve() // nil on the client's EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(os.Stderr, "holdfast sftp: %v\n", err)
		return 1
	}
	return 0
}

// runSFTP serves the sftp subsystem through the helper, as the session's
// user (so with --user the files reachable are the app user's, not
// root's); there may be no sftp-server binary in the image. OpenSSH 9's scp
// uses it too; legacy `scp -O` instead runs `scp -f`/`scp -t` as an exec
// command, which works only if the image has an scp binary on the app's
// PATH. holdfast relays the bytes and writes the file operations it sees
// pass (sftpaudit.go) to the audit log: the helper cannot write there.
func (ss *session) runSFTP() {
	defer close(ss.done)
	ev := ss.auditEvent("subsystem")
	ev.Subsystem = "sftp"
	ss.srv.audit.record(ev)
	aud := newSFTPAudit(ss.auditEvent("sftp"), ss.srv.audit.record)
	defer aud.finish()
	p, err := ss.spawnSFTP(aud)
	if err != nil {
		ss.log.Error("cannot start the sftp helper", "err", err)
		fmt.Fprintf(ss.ch.Stderr(), "holdfast: cannot start sftp: %v\r\n", err)
		ss.sendExit(launcher.Status{Exited: true, Code: 1})
		return
	}
	ss.mu.Lock()
	ss.pgid = p.pgid
	ss.mu.Unlock()
	st, finished := p.wait(ss.closed)
	ss.mu.Lock()
	ss.pgid = 0
	ss.mu.Unlock()
	if !finished {
		p.hangup(ss.srv.cfg.Reaper)
		return
	}
	// exit-status before close: closing first makes `ssh -s host sftp`
	// report -1 and scp exit 1 although the file arrived intact.
	ss.sendExit(st)
	p.closeFiles()
}

// spawnSFTP starts the helper with three pipes, in a session of its own,
// as the session's user.
func (ss *session) spawnSFTP(aud *sftpAudit) (*proc, error) {
	cmd := exec.Command(selfExe)
	cmd.Args = []string{sftpHelperName}
	cmd.Env = ss.environ("")
	cmd.Dir = workDir(cmd.Env, ss.user.cred)
	// The auditor sees each packet before the other side does, so a
	// request is noted before its reply can arrive, and a reply before the
	// client can end the session.
	return ss.spawnPipes(cmd, aud.fromServer(), aud.fromClient())
}
