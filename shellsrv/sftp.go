package shellsrv

import (
	"github.com/pkg/sftp"

	"github.com/holdfast-dev/holdfast/launcher"
)

// runSFTP serves the sftp subsystem in-process (there may be no
// sftp-server binary in the image). OpenSSH 9's scp uses it too; legacy
// `scp -O` instead runs `scp -f`/`scp -t` as an exec command, which works
// only if the image has an scp binary on the app's PATH.
func (ss *session) runSFTP() {
	defer close(ss.done)
	ev := ss.auditEvent("subsystem")
	ev.Subsystem = "sftp"
	ss.srv.audit.record(ev)
	code := 0
	srv, err := sftp.NewServer(ss.ch, sftp.WithServerWorkingDirectory(workDir(ss.environ(""))))
	if err == nil {
		err = srv.Serve() // nil on the client's EOF
	}
	if err != nil {
		ss.log.Info("sftp session ended with an error", "err", err)
		code = 1
	}
	// exit-status before close: the upstream example closes first, and then
	// `ssh -s host sftp` reports -1 and scp exits 1 although the file
	// arrived intact.
	ss.sendExit(launcher.Status{Exited: true, Code: code})
}
