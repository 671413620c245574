package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/rundir"
)

// ErrPermission means a control socket exists but the caller may not use
// it.
var ErrPermission = errors.New("permission denied")

// dialError carries the client's own reason a connection was not made, so
// that it reaches the user without the HTTP client's wrapping.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// candidates are the places the socket may be, in the order the server
// tries them: the state dir, then its fallback directories.
func candidates(stateDir string) []string {
	out := []string{filepath.Join(stateDir, SocketName)}
	for _, d := range rundir.Fallbacks(stateDir) {
		out = append(out, filepath.Join(d, SocketName))
	}
	return out
}

// dial connects to the holdfast serving stateDir, and trusts it only when
// (1) the socket file is a socket owned by root or by the caller's uid and
// not writable by others (its group may connect: rundir.CheckSocket), (2) a
// fallback directory is owned likewise and writable by neither group nor
// others (rundir.Check), and (3) the process that answers runs as the
// socket file's owner (SO_PEERCRED). It connects through the descriptor it checked, so the
// name cannot be swapped between the check and the connect.
func dial(ctx context.Context, stateDir string) (net.Conn, error) {
	uid := os.Getuid()
	var firstErr error // a socket that is there but did not answer
	for i, path := range candidates(stateDir) {
		if i > 0 {
			if err := rundir.Check(filepath.Dir(path), uid); errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return nil, permissionOr(err, filepath.Dir(path), uid)
			}
		}
		c, err := dialOne(ctx, path, uid)
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, unix.ENOTDIR):
		case errors.Is(err, unix.ECONNREFUSED):
			// Stale: left by a holdfast that is gone.
			if firstErr == nil {
				firstErr = fmt.Errorf("%w (%s is stale: nothing listens on it)", ErrNotRunning, path)
			}
		default:
			return nil, err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("%w (no control socket at %s)", ErrNotRunning, filepath.Join(stateDir, SocketName))
}

func dialOne(ctx context.Context, path string, uid int) (net.Conn, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, rundir.Refuse("%s: it is a symlink", path)
	}
	if err != nil {
		return nil, permissionOr(&fs.PathError{Op: "open", Path: path, Err: err}, filepath.Dir(path), uid)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, rundir.Refuse("%s: not a socket", path)
	}
	if err := rundir.CheckSocket(path, int(st.Uid), fs.FileMode(st.Mode&0o7777), uid); err != nil {
		return nil, err
	}
	target := procFD(fd)
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		target = path // no /proc: the name, checked just above
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", target)
	if err != nil {
		if errors.Is(err, unix.EACCES) {
			return nil, accessError(path, int(st.Uid), sharedGID(st.Mode, st.Gid), uid)
		}
		if errors.Is(err, unix.ECONNREFUSED) {
			return nil, unix.ECONNREFUSED
		}
		return nil, fmt.Errorf("cannot connect to %s: %w", path, err)
	}
	peer, err := peerCred(c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("cannot tell who serves %s: %w", path, err)
	}
	if peer.UID != int(st.Uid) {
		c.Close()
		return nil, rundir.Refuse("%s: the process serving it (pid %d) runs as uid %d, not as the socket's owner, uid %d",
			path, peer.PID, peer.UID, st.Uid)
	}
	return c, nil
}

// permissionOr turns EACCES into a message that says who may connect.
func permissionOr(err error, dir string, uid int) error {
	if !errors.Is(err, unix.EACCES) {
		return err
	}
	owner, gid := -1, -1
	if fi, serr := os.Stat(filepath.Join(dir, SocketName)); serr == nil {
		st := fi.Sys().(*syscall.Stat_t)
		owner, gid = int(st.Uid), sharedGID(st.Mode, st.Gid)
	} else if fi, serr := os.Stat(dir); serr == nil {
		owner = int(fi.Sys().(*syscall.Stat_t).Uid)
	}
	return accessError(dir, owner, gid, uid)
}

// sharedGID is the socket's group when its group may connect (the app's,
// see ListenShared), else -1.
func sharedGID(mode, gid uint32) int {
	if mode&0o020 == 0 {
		return -1
	}
	return int(gid)
}

// accessError says who may connect: root, holdfast's uid (the socket's
// owner; -1 unknown) and, when the socket is shared with the app's group
// (gid >= 0), the app's user.
func accessError(path string, owner, gid, uid int) error {
	who := "root and the uid holdfast runs as"
	switch {
	case owner == 0:
		who = "root"
	case owner > 0:
		who = fmt.Sprintf("root and uid %d (holdfast's)", owner)
	}
	if gid >= 0 {
		who += fmt.Sprintf(" and the app's user (the socket's group is gid %d)", gid)
	}
	return fmt.Errorf("%w on %s: only %s may use holdfast's control socket; you are uid %d", ErrPermission, path, who, uid)
}
