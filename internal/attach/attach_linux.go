package attach

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Polling for the listener's socket after SIGQUIT: the first check soon
// (a responsive JVM starts its listener in a few milliseconds), then less
// often.
const (
	pollFirst = 1 * time.Millisecond
	pollMax   = 100 * time.Millisecond
)

// DefaultTimeout bounds a Run whose context has no deadline. A caller that
// expects a longer command (the heap dump of a large heap) gives its own.
const DefaultTimeout = time.Minute

// Run attaches to the JVM pid, sends req, and copies the command's output
// to w. Every step is bounded by ctx, or DefaultTimeout if ctx has no
// deadline.
func Run(ctx context.Context, pid int, req Request, w io.Writer) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if err := req.check(); err != nil {
		return newError(pid, ErrBadRequest, nil, "%v", err)
	}
	// The pidfd pins the process Inspect looks at: if pid exits and is
	// reused before the signal, the signal fails instead of reaching
	// the new process.
	pidfd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EINVAL):
		return newError(pid, ErrNoProcess, nil, "")
	case errors.Is(err, unix.ENOSYS):
		pidfd = -1 // before Linux 5.3: kill(2) by pid
	case err != nil:
		return newError(pid, ErrProtocol, err, "pidfd_open")
	}
	if pidfd >= 0 {
		defer unix.Close(pidfd)
	}
	t, err := inspectStatus(pid)
	if err != nil {
		return err
	}
	p := &proc{Target: t, pidfd: pidfd}
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return p.exchange(ctx, conn, req, w)
}

// proc is a target pinned by its pidfd.
type proc struct {
	*Target
	pidfd int
}

func (p *proc) signal(sig unix.Signal) error {
	if p.pidfd < 0 {
		return unix.Kill(p.PID, sig)
	}
	return unix.PidfdSendSignal(p.pidfd, sig, nil, 0)
}

// alive: the process exists and has not exited (a zombie still takes
// signals).
func (p *proc) alive() bool { return p.signal(0) == nil && p.state() != 'Z' }

// connect returns a connection to the JVM's attach listener, starting the
// listener first if need be. A switch of credentials happens on a thread
// of its own that dies afterwards (see the package doc).
func (p *proc) connect(ctx context.Context) (net.Conn, error) {
	id := switchTo(p.Target)
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	if id != nil {
		beginSwitch()
		defer endSwitch()
	}
	onSpareThread(func() (changed bool) {
		conn, changed, err := p.connectOnThread(ctx, id)
		done <- result{conn, err}
		return changed
	})
	r := <-done
	return r.conn, r.err
}

// connectOnThread runs on a locked thread. It checks that the target is a
// HotSpot JVM with attach on, switches to id if given, and connects.
//
// The JVM's memory maps, working directory and root are behind a ptrace
// access check: root without CAP_SYS_PTRACE (a container's default) may
// not read them, the JVM's own user may. They are read with the caller's
// credentials first, and what failed again after the switch.
func (p *proc) connectOnThread(ctx context.Context, id *identity) (conn net.Conn, changed bool, err error) {
	maps, mapsErr := os.ReadFile(p.procPath("maps"))
	tmp, tmpErr := openDir(p.tmpDir())
	cwd, cwdErr := openDir(p.procPath("cwd"))
	if id != nil {
		changed, err = switchThread(*id)
		if err != nil && changed {
			return nil, true, newError(p.PID, ErrPermission, err, "switching to uid %d gid %d", id.uid, id.gid)
		}
		// Not permitted at all (err, !changed): go on as the caller,
		// root, which HotSpot 9 and later accept.
	}
	if changed {
		if mapsErr != nil {
			maps, mapsErr = os.ReadFile(p.procPath("maps"))
		}
		if tmpErr != nil {
			tmp, tmpErr = openDir(p.tmpDir())
		}
		if cwdErr != nil {
			cwd, cwdErr = openDir(p.procPath("cwd"))
		}
	}
	if tmpErr == nil {
		defer unix.Close(tmp)
	}
	if cwdErr == nil {
		defer unix.Close(cwd)
	}
	if err := p.checkMaps(maps, mapsErr); err != nil {
		return nil, changed, err
	}
	// Still the process the pidfd holds: what was read is its.
	if !p.alive() {
		return nil, changed, newError(p.PID, ErrNoProcess, nil, "it exited")
	}
	if tmpErr != nil {
		if !p.alive() {
			return nil, changed, newError(p.PID, ErrNoProcess, nil, "it exited")
		}
		return nil, changed, newError(p.PID, ErrPermission, tmpErr, "opening its /tmp")
	}
	tmpPath := fmt.Sprintf("/proc/self/fd/%d", tmp)
	if err := p.checkCapabilities(tmpPath); err != nil {
		return nil, changed, err
	}
	socket := tmpPath + "/" + p.socketName()
	conn, err = p.dialChecked(ctx, tmp, socket)
	switch {
	case err == nil:
		return conn, changed, nil
	case isErrno(err, unix.EAGAIN):
		// The listener is up and its backlog is full: wait for room.
		conn, err = p.awaitListener(ctx, tmp, socket)
		return conn, changed, err
	case !listenerMissing(err):
		return nil, changed, p.dialError(ctx, err, "connecting to its attach socket")
	}
	if !p.CatchesQuit {
		return nil, changed, newError(p.PID, ErrDisabled, nil,
			"no attach socket in its /tmp, and it does not handle SIGQUIT (-Xrs), so its listener cannot be started")
	}
	dirs := []int{tmp}
	if cwdErr == nil {
		dirs = []int{cwd, tmp}
	}
	remove, err := p.createTrigger(dirs)
	if err != nil {
		return nil, changed, err
	}
	defer remove()
	if err := p.signal(unix.SIGQUIT); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil, changed, newError(p.PID, ErrNoProcess, nil, "it exited")
		}
		return nil, changed, newError(p.PID, ErrPermission, err, "sending SIGQUIT")
	}
	conn, err = p.awaitListener(ctx, tmp, socket)
	return conn, changed, err
}

func openDir(path string) (int, error) {
	return unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// triggerExists, when set (tests), runs when createTrigger found the
// trigger file there already, before it looks at it.
var triggerExists func()

// createTrigger creates .attach_pid<nspid> in the first of dirs where that
// works and returns how to remove it again. A trigger file that is there
// already and that the JVM accepts (its owner is root or the JVM's user)
// is used and left in place; one of another owner is not.
func (p *proc) createTrigger(dirs []int) (remove func(), err error) {
	name := p.triggerName()
	for _, dir := range dirs {
		// Another attach to the same JVM (holdfast's own, or jcmd's) may
		// remove its trigger file between our create and our look at it:
		// then create it again, a few times.
		for try := 0; try < 3; try++ {
			fd, e := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			if e == nil {
				unix.Close(fd)
				return func() { _ = unix.Unlinkat(dir, name, 0) }, nil
			}
			err = e
			if e != unix.EEXIST {
				break
			}
			if triggerExists != nil {
				triggerExists()
			}
			var st unix.Stat_t
			se := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if se == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && (st.Uid == 0 || st.Uid == p.UID) {
				return func() {}, nil
			}
			if se != unix.ENOENT {
				break // a file the JVM would not accept
			}
		}
	}
	return nil, newError(p.PID, ErrPermission, err, "creating %s in its working directory or /tmp", name)
}

// awaitListener polls for the listener's socket, or for room in its
// backlog, until ctx ends.
func (p *proc) awaitListener(ctx context.Context, tmp int, socket string) (net.Conn, error) {
	delay := pollFirst
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			doing := "waiting for its attach listener"
			if p.Capabilities == "" {
				doing += " (it keeps no hsperfdata to say whether attach is on)"
			}
			return nil, p.timeout(doing)
		case <-timer.C:
		}
		conn, err := p.dialChecked(ctx, tmp, socket)
		if err == nil {
			return conn, nil
		}
		var planted *Error
		if errors.As(err, &planted) {
			return nil, err
		}
		if !listenerMissing(err) && !isErrno(err, unix.EAGAIN) {
			return nil, p.dialError(ctx, err, "connecting to its attach socket")
		}
		if !p.alive() {
			return nil, newError(p.PID, ErrNoProcess, nil, "it exited while attaching")
		}
		delay = min(delay*3/2, pollMax)
		timer.Reset(delay)
	}
}

// dialChecked connects to the socket named socket in the directory tmp
// once it is sure the JVM made it: the JVM's listener binds it with mode
// 0600 and gives it the JVM's euid, and in a sticky /tmp nobody else can
// replace a file once it is there. A socket of another owner (planted by
// another user before the JVM made its own) is refused with an *Error; a
// missing one gives the dial's ENOENT.
func (p *proc) dialChecked(ctx context.Context, tmp int, socket string) (net.Conn, error) {
	var st unix.Stat_t
	err := unix.Fstatat(tmp, p.socketName(), &st, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return nil, &net.OpError{Op: "stat", Net: "unix", Err: os.NewSyscallError("fstatat", err)}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || st.Uid != p.UID || st.Mode&0o077 != 0 {
		return nil, newError(p.PID, ErrPermission, nil,
			"%s in its /tmp is not the JVM's (a socket of uid %d, mode 600): it has uid %d, mode %o"+
				" (planted, or left by a killed process of another user with the same pid, which the JVM cannot remove)",
			p.socketName(), p.UID, st.Uid, st.Mode&0o7777)
	}
	conn, err := dial(ctx, socket)
	if err != nil {
		return nil, err
	}
	if err := p.checkListener(conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// checkListener checks that the JVM itself listens on conn's other end
// (SO_PEERCRED gives the listener's pid, as seen from here). The socket's
// name holds the JVM's namespace pid, and JVMs in sibling pid namespaces
// that share a /tmp (pods sharing a volume there, containers without a
// private /tmp) can have the same one: the name alone may lead to
// another JVM.
func (p *proc) checkListener(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return newError(p.PID, ErrProtocol, err, "reading the listener's credentials")
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return newError(p.PID, ErrProtocol, errors.Join(err, credErr), "reading the listener's credentials")
	}
	if int(cred.Pid) != p.PID {
		who := fmt.Sprintf("pid %d", cred.Pid)
		if cred.Pid == 0 {
			who = "a process outside this pid namespace"
		}
		return newError(p.PID, ErrPermission, nil,
			"%s in its /tmp is served by %s, another JVM with the same namespace pid that shares its /tmp",
			p.socketName(), who)
	}
	return nil
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}

// listenerMissing: no socket file yet, or a stale one nobody listens on.
func listenerMissing(err error) bool {
	return isErrno(err, unix.ENOENT, unix.ECONNREFUSED)
}

func (p *proc) dialError(ctx context.Context, err error, doing string) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return e
	case ctx.Err() != nil:
		return p.timeout(doing)
	case isErrno(err, unix.EACCES, unix.EPERM):
		return newError(p.PID, ErrPermission, err, "%s", doing)
	}
	return newError(p.PID, ErrRefused, err, "%s", doing)
}

// timeout says what was being waited for, and that the process is stopped
// when it is.
func (p *proc) timeout(doing string) error {
	detail := doing
	if !p.alive() {
		return newError(p.PID, ErrNoProcess, nil, "it exited while %s", doing)
	}
	if s := p.state(); s == 'T' || s == 't' {
		detail += " (the process is stopped)"
	}
	return newError(p.PID, ErrTimeout, nil, "%s", detail)
}

func (p *proc) state() byte {
	b, err := os.ReadFile(p.procPath("stat"))
	if err != nil {
		return 0
	}
	// pid (comm) state …: comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}

// exchange sends req on conn and copies the answer's output to w.
func (p *proc) exchange(ctx context.Context, conn net.Conn, req Request, w io.Writer) error {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(req.encode()); err != nil {
		if ctx.Err() != nil {
			return p.timeout("sending the request")
		}
		return p.refused(err)
	}
	br := bufio.NewReader(conn)
	status, err := readStatus(br)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return p.timeout("waiting for the answer to " + req.Command)
		}
		if errors.Is(err, errNoStatus) || isErrno(err, unix.ECONNRESET, unix.EPIPE) {
			return p.refused(err)
		}
		return newError(p.PID, ErrProtocol, err, "reading the status")
	}
	if status != 0 {
		msg, _ := io.ReadAll(io.LimitReader(br, 64<<10))
		if status == statusBadVersion {
			return newError(p.PID, ErrProtocol, nil, "the JVM does not speak attach protocol version %s", protocolVersion)
		}
		return &CommandError{PID: p.PID, Status: status, Message: strings.TrimSpace(string(msg))}
	}
	readErr, writeErr := copyOutput(w, br)
	switch {
	case writeErr != nil:
		return newError(p.PID, ErrOutput, writeErr, "%s", req.Command)
	case readErr != nil && (ctx.Err() != nil || errors.Is(readErr, os.ErrDeadlineExceeded)):
		return p.timeout("reading the output of " + req.Command)
	case readErr != nil:
		return newError(p.PID, ErrProtocol, readErr, "reading the output of %s", req.Command)
	}
	return nil
}

// refused explains a connection the listener closed unanswered: it checks
// the peer's credentials and says nothing when they do not fit.
func (p *proc) refused(err error) error {
	return newError(p.PID, ErrRefused, err,
		"its listener accepts root, or uid %d with gid %d", p.UID, p.GID)
}

// copyOutput copies r to w up to EOF and tells a failed read from a
// failed write.
func copyOutput(w io.Writer, r io.Reader) (readErr, writeErr error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
	}
}
