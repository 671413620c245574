// Package shellsrv is holdfast's embedded ssh server, for diagnosing a held
// app from inside its container: a shell with exactly the app's environment,
// exec, sftp (and OpenSSH 9's sftp-based scp), and local port forwarding to
// loopback.
//
// It owns: authentication (authorized_keys public keys and OpenSSH
// cert-authority lines, parsed by internal/authkeys; no passwords), the
// limits on unauthenticated connections (MaxStartups), the algorithms
// offered (no SHA-1), which account a login maps to and the credential its
// processes run with (the app's --user), the persistent ed25519 host key,
// the ssh "session" channel, the sftp helper (holdfast re-executed as the
// session's user), direct-tcpip, the audit log, the interactive banner and
// the ssh session counters. The session handler is its own: gliderlabs'
// rewrites pty output (gliderlabs/ssh#129), can lose output in flight, can
// deadlock on an early window-change and never cleans up on disconnect.
//
// It must not: wait for children itself (every shell starts through
// launcher.Reaper.Start with *os.File stdio and its exit status arrives on
// Child.Done; nothing here calls cmd.Wait or wait4), signal the app or change
// the app's state (the banner only reads the state store), accept passwords,
// forward agents, open remote (-R) forwards, dial anything but loopback, or
// run anything for a session as a uid other than the account the login
// maps to (with --user, never root unless --ssh-allow-root and a login as
// root).
//
// Behaviour worth knowing:
//   - A death by signal N is sent as exit-signal and then exit-status 128+N,
//     so OpenSSH's ssh exits 128+N (with exit-signal alone, as sshd sends it,
//     ssh exits 255).
//   - Without a pty, a session ends when its output pipes close, as with
//     sshd: `ssh host 'daemon &'` waits while daemon holds stdout.
//   - IdleTimeout counts traffic, not activity: a silent command is cut
//     after it unless the client sets ServerAliveInterval.
//   - A reload of authorized_keys that fails refuses every login until the
//     file parses again (fail closed), rather than keeping the old keys.
//   - direct-tcpip is dialled by holdfast itself (its uid), not as the
//     session's user: to a loopback TCP port the dialling uid is invisible
//     (TCP carries no credentials); only uid-owner firewall or routing rules
//     inside the container's network namespace could tell.
//   - The sftp helper adds limits@openssh.com to pkg/sftp (sftpwire.go), so
//     OpenSSH's client reads and writes 255 KiB per request, as with sshd,
//     and answers a file opened for reading only itself (sftpread.go), as
//     the session's user: pkg/sftp copied every read twice.
//   - Legacy `scp -O` runs `scp -f`/`scp -t` as an exec command and so needs
//     an scp binary on the app's PATH; default (sftp-mode) scp does not.
//
// The server is built on github.com/gliderlabs/ssh v0.3.8 for the listener,
// connection tracking and Serve/Shutdown, and on golang.org/x/crypto/ssh
// (with holdfast's one patch, third_party/README.md) for the protocol.
// Linux-only code lives in the _linux.go files.
package shellsrv
