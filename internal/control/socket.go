package control

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/rundir"
)

// SocketName is the control socket's file name inside the state dir (or
// its fallback directory, see package rundir).
const SocketName = "holdfast.sock"

// maxSocketPath is the longest path bind(2) takes: sun_path is 108 bytes
// with its terminating NUL.
const maxSocketPath = 107

// Listener is the control socket. Closing it removes the socket file.
type Listener struct {
	net.Listener
	// Path is where the socket is; FallbackReason says why it is not in
	// the state dir ("" when it is).
	Path           string
	FallbackReason string
}

// Close stops listening and removes the socket file, and a fallback
// directory it leaves empty (one that still holds the lock stays).
func (l *Listener) Close() error {
	err := l.Listener.Close()
	_ = os.Remove(l.Path)
	if l.FallbackReason != "" {
		_ = os.Remove(filepath.Dir(l.Path))
	}
	return err
}

// Listen creates the control socket, mode 0600, at <stateDir>/holdfast.sock
// or, when the state dir cannot hold it, in stateDir's fallback directory
// (rundir.Make). A socket file already there is stale and replaced: the
// caller holds the state dir's lock (rundir.Acquire), so no other holdfast
// serves it.
func Listen(stateDir string) (*Listener, error) { return listen(stateDir, -1) }

// ListenShared is Listen for a holdfast whose app runs as another user: the
// socket's group is the app's gid and its mode 0660, so that the app's user
// can connect (the server answers it only when told to, see
// Server.AllowUID), and a fallback directory is rundir.Reachable. Changing
// the group needs privilege (CAP_CHOWN); without it ListenShared fails and
// the caller may fall back to Listen.
func ListenShared(stateDir string, gid int) (*Listener, error) {
	if gid < 0 {
		return nil, fmt.Errorf("cannot share the control socket with gid %d", gid)
	}
	return listen(stateDir, gid)
}

// listen makes the socket private (gid < 0) or shared with group gid.
func listen(stateDir string, gid int) (*Listener, error) {
	l, err := listenIn(stateDir, gid)
	if err == nil {
		return l, nil
	}
	mode := rundir.Private
	if gid >= 0 {
		mode = rundir.Reachable
	}
	dir, ferr := rundir.Make(stateDir, mode)
	if ferr != nil {
		return nil, fmt.Errorf("%v; no fallback directory either: %v", err, ferr)
	}
	fl, ferr := listenIn(dir, gid)
	if ferr != nil {
		return nil, fmt.Errorf("%v; nor in %s: %v", err, dir, ferr)
	}
	fl.FallbackReason = err.Error()
	return fl, nil
}

// listenIn binds under a temporary name, restricts it (secureSocket), then
// renames it into place, so the socket is never reachable with a wider mode.
func listenIn(dir string, gid int) (*Listener, error) {
	path := filepath.Join(dir, SocketName)
	tmp := path + ".new"
	if len(tmp) > maxSocketPath {
		return nil, fmt.Errorf("cannot listen on %s: the path is longer than a unix socket's %d bytes", path, maxSocketPath)
	}
	_ = os.Remove(tmp)
	nl, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", path, err)
	}
	ul := nl.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (*Listener, error) {
		ul.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	if err := secureSocket(tmp, gid); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("cannot rename %s to %s: %w", tmp, path, err))
	}
	return &Listener{Listener: ul, Path: path}, nil
}

// secureSocket sets the socket file at path to mode 0600 or, with gid >= 0,
// to group gid and mode 0660, without following a symlink put there since
// the bind: it opens the name with O_PATH|O_NOFOLLOW, checks that it is a
// socket holdfast's uid owns, and changes the group and mode of that very
// inode through the descriptor (fchownat(AT_EMPTY_PATH), and chmod of
// /proc/self/fd/N).
func secureSocket(path string, gid int) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("cannot stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("refusing %s: not the socket holdfast just bound", path)
	}
	mode := os.FileMode(0o600)
	if gid >= 0 {
		mode = 0o660
		if err := unix.Fchownat(fd, "", -1, gid, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("cannot give %s to the app's group %d: %w", path, gid, err)
		}
	}
	err = os.Chmod(procFD(fd), mode)
	if errors.Is(err, os.ErrNotExist) {
		// No /proc: the path, checked just above, is the best there is.
		err = os.Chmod(path, mode)
	}
	if err != nil {
		return fmt.Errorf("cannot chmod %s: %w", path, err)
	}
	return nil
}

func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// PeerCred is the peer of a unix socket connection as the kernel saw it at
// connect(2) (the server's: at listen(2)).
type PeerCred struct{ PID, UID, GID int }

func peerCred(c net.Conn) (PeerCred, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return PeerCred{}, errors.New("not a unix socket connection")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return PeerCred{}, err
	}
	var ucred *unix.Ucred
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		ucred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return PeerCred{}, err
	}
	if gerr != nil {
		return PeerCred{}, gerr
	}
	return PeerCred{PID: int(ucred.Pid), UID: int(ucred.Uid), GID: int(ucred.Gid)}, nil
}
