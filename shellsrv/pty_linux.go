package shellsrv

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// spawnPTY starts cmd on a new pty. It opens the pty itself rather than
// through pty.StartWithAttrs because SSH_TTY must name the terminal in the
// environment before the command starts; the rest is what StartWithAttrs
// does (slave as stdio, Setsid+Setctty). No Setpgid: with Setsid it fails
// with EPERM (creack/pty#35).
func (ss *session) spawnPTY(cmd *exec.Cmd) (*proc, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot open a pty: %w", err)
	}
	defer tty.Close() // the child has its copy
	if err := applyModes(tty, ss.ptyReq.Modes); err != nil {
		ss.log.Debug("cannot apply terminal modes", "err", err)
	}
	master, err := pollableDup(ptmx)
	_ = ptmx.Close()
	if err != nil {
		return nil, err
	}
	if c := ss.user.cred; c != nil {
		// The terminal belongs to the session's user, as sshd makes it
		// (mode 0620 stays), so that programs reopening it can write to it.
		if err := tty.Chown(int(c.Uid), -1); err != nil {
			ss.log.Debug("cannot hand the pty to the session's user", "tty", tty.Name(), "err", err)
		}
	}
	cmd.Env = ss.environ(tty.Name())
	cmd.Dir = workDir(cmd.Env, ss.user.cred)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// A new session with the pty as its controlling terminal (Ctty is the
	// child's fd 0): ^C arrives as byte 0x03 and the line discipline turns
	// it into SIGINT for the foreground job.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Credential: ss.user.cred}
	ss.mu.Lock()
	if err := setWinsize(master, ss.win); err != nil {
		ss.log.Debug("cannot size pty", "err", err)
	}
	ss.master = master
	ss.mu.Unlock()
	child, err := ss.srv.cfg.Reaper.Start(cmd, nil)
	if err != nil {
		ss.mu.Lock()
		ss.master = nil
		ss.mu.Unlock()
		_ = master.Close()
		return nil, err
	}
	p := &proc{child: child, pgid: child.Pid, master: master}
	p.copyOut(ss.ch, master)
	go func() { _, _ = io.Copy(master, ss.ch) }() // a pty has no half-close: client EOF just ends the copy
	return p, nil
}

// pollableDup returns a non-blocking duplicate of the pty master that Go's
// poller manages. creack/pty's master is in blocking mode (it calls Fd()),
// and a read blocked in the kernel is not interrupted by Close, so a
// hangup could never unblock the output copier.
func pollableDup(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("cannot duplicate pty master: %w", err)
	}
	nfd, derr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, fmt.Errorf("cannot duplicate pty master: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("cannot duplicate pty master: %w", derr)
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		_ = unix.Close(nfd)
		return nil, fmt.Errorf("cannot make pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(nfd), "/dev/ptmx"), nil // non-blocking: NewFile registers it with the poller
}

// setWinsize sets the terminal size (TIOCSWINSZ, ioctl_tty(2)); the kernel
// sends SIGWINCH to the foreground group. Not pty.Setsize: it calls Fd(),
// which would put the master back into blocking mode.
func setWinsize(master *os.File, w windowChange) error {
	rc, err := master.SyscallConn()
	if err != nil {
		return err
	}
	ws := &unix.Winsize{Row: clamp16(w.Rows), Col: clamp16(w.Cols), Xpixel: clamp16(w.WidthPx), Ypixel: clamp16(w.HeightPx)}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return err
	}
	return ierr
}

func clamp16(v uint32) uint16 {
	if v > 0xffff {
		return 0xffff
	}
	return uint16(v)
}

// Terminal mode opcodes, RFC 4254 section 8 (and RFC 8160 for IUTF8).
var (
	modeChars = map[byte]int{
		1: unix.VINTR, 2: unix.VQUIT, 3: unix.VERASE, 4: unix.VKILL, 5: unix.VEOF, 6: unix.VEOL,
		7: unix.VEOL2, 8: unix.VSTART, 9: unix.VSTOP, 10: unix.VSUSP, 12: unix.VREPRINT,
		13: unix.VWERASE, 14: unix.VLNEXT, 18: unix.VDISCARD,
	}
	modeIflag = map[byte]uint32{
		30: unix.IGNPAR, 31: unix.PARMRK, 32: unix.INPCK, 33: unix.ISTRIP, 34: unix.INLCR,
		35: unix.IGNCR, 36: unix.ICRNL, 37: unix.IUCLC, 38: unix.IXON, 39: unix.IXANY,
		40: unix.IXOFF, 41: unix.IMAXBEL, 42: unix.IUTF8,
	}
	modeLflag = map[byte]uint32{
		50: unix.ISIG, 51: unix.ICANON, 52: unix.XCASE, 53: unix.ECHO, 54: unix.ECHOE,
		55: unix.ECHOK, 56: unix.ECHONL, 57: unix.NOFLSH, 58: unix.TOSTOP, 59: unix.IEXTEN,
		60: unix.ECHOCTL, 61: unix.ECHOKE, 62: unix.PENDIN,
	}
	modeOflag = map[byte]uint32{
		70: unix.OPOST, 71: unix.OLCUC, 72: unix.ONLCR, 73: unix.OCRNL, 74: unix.ONOCR, 75: unix.ONLRET,
	}
)

// applyModes sets the client's terminal modes on the new terminal, as sshd
// does (tty_parse_modes), so erase, interrupt and the echo flags match the
// user's own terminal. Baud rates and character size mean nothing on a pty
// and are skipped.
func applyModes(tty *os.File, modes string) error {
	if modes == "" {
		return nil
	}
	rc, err := tty.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = rc.Control(func(fd uintptr) {
		var t *unix.Termios
		if t, ierr = unix.IoctlGetTermios(int(fd), unix.TCGETS); ierr != nil {
			return
		}
		b := []byte(modes)
		for len(b) >= 5 && b[0] != 0 && b[0] < 160 {
			op, v := b[0], binary.BigEndian.Uint32(b[1:5])
			b = b[5:]
			if idx, ok := modeChars[op]; ok {
				if v == 255 { // the wire's "disabled" (sshd ttymodes.c)
					v = 0 // Linux's _POSIX_VDISABLE
				}
				t.Cc[idx] = byte(v)
			}
			setFlag(&t.Iflag, modeIflag[op], v)
			setFlag(&t.Lflag, modeLflag[op], v)
			setFlag(&t.Oflag, modeOflag[op], v)
		}
		ierr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return ierr
}

func setFlag(field *uint32, bit, v uint32) {
	if bit == 0 {
		return
	}
	if v != 0 {
		*field |= bit
	} else {
		*field &^= bit
	}
}
