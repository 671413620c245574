package shellsrv

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/holdfast-dev/holdfast/internal/pipes"
	"github.com/holdfast-dev/holdfast/launcher"
)

// ptyDrain is how long a pty session's output may keep flowing after its
// shell exited, while a background job still holds the terminal; then the
// master is closed, which hangs the terminal up as sshd does.
const ptyDrain = time.Second

// runCommand runs the session's shell or exec command to completion: output
// first, then exit-status, EOF and close (RFC 4254 6.10, 5.3).
func (ss *session) runCommand(isExec bool, command string) {
	defer close(ss.done)
	ev := ss.auditEvent("shell")
	if isExec {
		ev.Event, ev.Command = "exec", command
	}
	if ss.ptyReq != nil {
		ev.Pty, ev.Term = true, ss.ptyReq.Term
	}
	ss.srv.audit.record(ev)
	if !isExec {
		ss.writeBanner()
	}
	p, err := ss.spawn(isExec, command)
	if err != nil {
		ss.log.Error("cannot start ssh session command", "shell", ss.user.shell, "err", err)
		fmt.Fprintf(ss.ch.Stderr(), "holdfast: cannot start %s: %v\r\n", ss.user.shell, err)
		ss.sendExit(launcher.Status{Exited: true, Code: launcher.ExecErrorCode(err)})
		return
	}
	ss.mu.Lock()
	ss.pgid = p.pgid
	ss.mu.Unlock()
	st, finished := p.wait(ss.closed)
	ss.mu.Lock()
	ss.pgid, ss.master = 0, nil
	ss.mu.Unlock()
	if !finished {
		ss.log.Info("ssh client gone; hanging up the session", "pgid", p.pgid)
		p.hangup(ss.srv.cfg.Reaper)
		return
	}
	ss.sendExit(st)
	p.closeFiles()
	end := ss.auditEvent("exit")
	code := st.ExitCode()
	end.ExitCode, end.Signal = &code, st.SignalName()
	ss.srv.audit.record(end)
}

func (ss *session) writeBanner() {
	text := bannerText(ss.srv.store.Load(), time.Now())
	if ss.ptyReq != nil {
		_, _ = io.WriteString(ss.ch, crlf(text))
		return
	}
	// Without a pty, stdout may be a pipe into a program: use stderr.
	_, _ = io.WriteString(ss.ch.Stderr(), text)
}

// spawn starts the shell through the launcher's registry.
func (ss *session) spawn(isExec bool, command string) (*proc, error) {
	cmd := exec.Command(ss.user.shell) // an absolute path: no lookup
	cmd.Args = shellArgv(ss.user.shell, ss.srv.cfg.LoginShell, command, isExec)
	if ss.ptyReq != nil {
		return ss.spawnPTY(cmd)
	}
	cmd.Env = ss.environ("")
	cmd.Dir = workDir(cmd.Env, ss.user.cred)
	return ss.spawnPipes(cmd, nil, nil)
}

// spawnPipes starts cmd with three pipes. Their child ends are *os.File, so
// os/exec starts no copying goroutines and nobody needs cmd.Wait: the exit
// status comes from the reaper. outTap and inTap, when not nil, see each
// chunk of the command's stdout and of the client's input before the other
// side does (the sftp auditor).
func (ss *session) spawnPipes(cmd *exec.Cmd, outTap, inTap io.Writer) (*proc, error) {
	var fds [6]*os.File // inR, inW, outR, outW, errR, errW
	for i := 0; i < 6; i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(fds[:i]...)
			return nil, fmt.Errorf("cannot create pipe: %w", err)
		}
		fds[i], fds[i+1] = r, w
	}
	inR, inW, outR, outW, errR, errW := fds[0], fds[1], fds[2], fds[3], fds[4], fds[5]
	pipes.GrowFile(outW)
	pipes.GrowFile(inW)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	// A session of its own, as sshd gives every session: one group to
	// hang up, apart from holdfast's and the app's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: ss.user.cred}
	child, err := ss.srv.cfg.Reaper.Start(cmd, nil)
	closeAll(inR, outW, errW)
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, err
	}
	p := &proc{child: child, pgid: child.Pid, stdin: inW, outs: []*os.File{outR, errR}}
	p.copyOut(tapped(outTap, ss.ch), outR)
	p.copyOut(ss.ch.Stderr(), errR)
	// Detached: the command's end never waits for stdin, because many
	// clients never send EOF (golang/go#23019). It ends when the channel
	// does, or when the pipe is closed under it.
	go func() {
		_, _ = relay(tapped(inTap, inW), ss.ch)
		_ = inW.Close() // EOF for the command: echo hi | ssh host cat
	}()
	return p, nil
}

// tapped is w, seen first by tap when there is one.
func tapped(tap, w io.Writer) io.Writer {
	if tap == nil {
		return w
	}
	return io.MultiWriter(tap, w)
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		if f != nil {
			_ = f.Close()
		}
	}
}

// proc is a running session command.
type proc struct {
	child   *launcher.Child
	pgid    int
	master  *os.File   // pty sessions
	stdin   *os.File   // pipe sessions: our end of stdin
	outs    []*os.File // pipe sessions: our ends of stdout, stderr
	copying sync.WaitGroup
}

// relayBuf is the size of the reads from a command's or the sftp helper's
// pipes. io.Copy's 32 KiB makes one read, one wake-up of the writer and one
// ssh packet per 32 KiB; a larger read drains a full pipe at once and
// channel writes split it into packets of the client's maximum size.
const relayBuf = 256 << 10

func (p *proc) copyOut(w io.Writer, r *os.File) {
	p.copying.Add(1)
	go func() {
		defer p.copying.Done()
		// Straight to the channel: no LF rewriting (gliderlabs/ssh#129).
		_, _ = relay(w, r)
	}()
}

// relay copies r to w through a relayBuf buffer. The struct hides
// *os.File's WriteTo, which would copy in 32 KiB steps.
func relay(w io.Writer, r io.Reader) (int64, error) {
	return io.CopyBuffer(w, struct{ io.Reader }{r}, make([]byte, relayBuf))
}

// wait returns the command's status once it has exited and its output has
// reached the channel. finished is false when the client went away first.
func (p *proc) wait(closed <-chan struct{}) (st launcher.Status, finished bool) {
	drained := make(chan struct{})
	go func() {
		p.copying.Wait()
		close(drained)
	}()
	done := p.child.Done
	var drainC <-chan time.Time
	exited, outDone := false, false
	for {
		select {
		case st = <-done:
			exited, done = true, nil
			if outDone {
				return st, true
			}
			if p.master != nil {
				t := time.NewTimer(ptyDrain)
				defer t.Stop()
				drainC = t.C
			}
		case <-drained:
			outDone, drained = true, nil
			if exited {
				return st, true
			}
		case <-drainC:
			drainC = nil
			_ = p.master.Close() // unblocks the copier; EIO or ErrClosed ends it
		case <-closed:
			return st, false
		}
	}
}

// hangup ends a session whose client is gone: SIGHUP to its process group
// (and, for a pty, a terminal hangup by closing the master), then SIGKILL to
// whatever is left after hangupGrace. sshd only hangs up pty sessions and
// dropbear none; a held container should not collect stray debug shells.
func (p *proc) hangup(r *launcher.Reaper) {
	_ = launcher.SignalGroup(p.pgid, syscall.SIGHUP)
	p.closeFiles()
	deadline := time.NewTimer(hangupGrace)
	defer deadline.Stop()
	for {
		reaped := r.ReapedAny() // before the check, so no reap is missed
		if !launcher.GroupAlive(p.pgid) {
			return
		}
		select {
		case <-reaped:
		case <-deadline.C:
			_ = launcher.SignalGroup(p.pgid, syscall.SIGKILL)
			return
		}
	}
}

func (p *proc) closeFiles() {
	closeAll(p.outs...)
	closeAll(p.stdin, p.master)
}

// exitSignal is RFC 4254 6.10's "exit-signal" payload.
type exitSignal struct {
	Signal     string // without the "SIG" prefix
	CoreDumped bool
	Error      string
	Lang       string
}

// sendExit reports st and closes the channel. A death by signal N is sent
// as exit-signal (RFC 4254 6.10, what sshd sends) and then as exit-status
// 128+N: OpenSSH's client ignores exit-signal and, without an exit-status,
// exits 255 (measured with ssh 9.2 against sshd), which looks like a
// connection error; with both it exits 128+N as a local shell would.
func (ss *session) sendExit(st launcher.Status) {
	if !st.Exited {
		msg := exitSignal{Signal: strings.TrimPrefix(launcher.SignalName(st.Signal), "SIG"), CoreDumped: st.CoreDumped}
		_, _ = ss.ch.SendRequest("exit-signal", false, gossh.Marshal(&msg))
	}
	_, _ = ss.ch.SendRequest("exit-status", false, gossh.Marshal(&struct{ Status uint32 }{uint32(st.ExitCode())}))
	_ = ss.ch.CloseWrite()
	_ = ss.ch.Close()
}
