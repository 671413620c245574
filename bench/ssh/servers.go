package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const sshdPath = "/usr/sbin/sshd"

// server is one ssh server under test.
type server struct {
	name   string
	port   string
	key    string    // the client's private key
	cmd    *exec.Cmd // sshd, or unshare for holdfast
	pid    int       // the process measured: sshd's listener, or holdfast
	exe    string    // resolved executable of the server processes
	subset bool      // count descendants running exe (sshd's per-connection children)
	app    int       // holdfast's app (sleep), not a session
	log    *lockedBuffer
	done   chan struct{}
}

// lockedBuffer collects a server's stderr for error messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// clientOpts are the OpenSSH client options used for both servers: no config
// file, no known_hosts, one key, never a prompt.
func clientOpts(key string) []string {
	return []string{
		"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR",
		"-i", key,
	}
}

// sshArgs is `ssh [opts] -p port [extra...]`; extra ends with the host and command.
func (s *server) sshArgs(extra ...string) []string {
	return append(append(clientOpts(s.key), "-p", s.port), extra...)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

// keygen makes an ed25519 key pair at path.
func keygen(path string) error {
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", filepath.Base(path), "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot run ssh-keygen -f %s: %w\n%s", path, err, out)
	}
	return nil
}

// sessionEnv is the environment holdfast (and so its sessions) starts
// with. home is an empty directory that sshd also sets (SetEnv HOME): Debian's
// bash sources ~/.bashrc for ssh commands (it sees SSH_CLIENT), and a
// developer's ~/.bashrc (pyenv init, ...) would time the shell, not the
// server.
func sessionEnv(home string) []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "LANG=C"}
}

// startSSHD runs OpenSSH's sshd in the foreground on 127.0.0.1 with its own
// config, host key and authorized_keys under dir.
func startSSHD(cpus, dir, home, key, authorizedKeys string) (*server, error) {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation dir
		return nil, fmt.Errorf("cannot create /run/sshd: %w", err)
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := keygen(hostKey); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Debian's defaults apart from what a test server needs: no PAM (no
	// password stack to set up), no motd or lastlog (holdfast prints no
	// banner for exec sessions either), StrictModes off for the temp dir,
	// and the same HOME as holdfast's sessions.
	cfg := strings.Join([]string{
		"Port " + port,
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + authorizedKeys,
		"PidFile none",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin prohibit-password",
		"StrictModes no",
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"LogLevel ERROR",
		"Subsystem sftp internal-sftp",
		"SetEnv HOME=" + home,
		"",
	}, "\n")
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", cfgPath, err)
	}
	s := &server{name: "OpenSSH sshd", port: port, key: key, exe: sshdPath, subset: true,
		log: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = pinned(cpus, sshdPath, "-D", "-e", "-f", cfgPath)
	s.cmd.Env = sessionEnv(home)
	if err := s.start(); err != nil {
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	return s, s.waitUp()
}

// startHoldfast runs holdfast as PID 1 of a new pid namespace (as in a
// container) with an app that sleeps, ssh on 127.0.0.1; env ("" or
// KEY=VALUE) is added to its environment.
func startHoldfast(cpus, bin, env, dir, home, key, authorizedKeys string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	exe, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve %s: %w", bin, err)
	}
	s := &server{name: "holdfast", port: port, key: key, exe: exe, log: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = pinned(cpus, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
		exe, "--probe-addr=", "--state-dir="+filepath.Join(dir, "state"),
		"--ssh-authorized-keys="+authorizedKeys, "--ssh-addr=127.0.0.1:"+port,
		// Above the burst, so that only the pre-auth guard limits it.
		"--ssh-max-sessions=64",
		"--", "sleep", "infinity")
	s.cmd.Env = sessionEnv(home)
	if env != "" {
		s.cmd.Env = append(s.cmd.Env, env)
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	// The measured process is unshare's child once it has exec'd holdfast.
	deadline := time.Now().Add(20 * time.Second)
	for s.pid == 0 {
		for _, c := range children(s.cmd.Process.Pid) {
			if p, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", c)); p == exe {
				s.pid = c
			}
		}
		if s.pid == 0 && time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("cannot find holdfast under unshare (pid %d)\n%s", s.cmd.Process.Pid, s.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.waitUp(); err != nil {
		return nil, err
	}
	// The readiness check's shell is reaped by now or soon; the app stays.
	deadline = time.Now().Add(20 * time.Second)
	for {
		if kids := children(s.pid); len(kids) == 1 {
			s.app = kids[0]
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("holdfast (pid %d) does not settle to one child, its app", s.pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *server) start() error {
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s: %w", s.name, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	return nil
}

// waitUp waits until `ssh host true` succeeds.
func (s *server) waitUp() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("ssh", s.sshArgs("127.0.0.1", "true")...).CombinedOutput()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s exited before accepting logins:\n%s", s.name, s.log)
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("%s does not accept logins on port %s: %v %s\n%s", s.name, s.port, err, out, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the server's process group (unshare --kill-child takes the
// namespace down with it) and waits.
func (s *server) stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// procs lists the server's own processes: holdfast alone, or sshd's listener
// and every descendant still running sshd (the per-connection privileged
// monitor and the unprivileged session process), never the shells.
func (s *server) procs() []int {
	out := []int{s.pid}
	if !s.subset {
		return out
	}
	queue := children(s.pid)
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], children(p)...)
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); err == nil && exe == s.exe {
			out = append(out, p)
		}
	}
	return out
}

// children lists pid's children from /proc/<pid>/task/*/children.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// memKB sums VmRSS (from status) and Pss (from smaps_rollup) over pids, in kB.
func memKB(pids []int) (rss, pss int, err error) {
	for _, p := range pids {
		r, err1 := procField(fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		q, err2 := procField(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:")
		if err := errors.Join(err1, err2); err != nil {
			return 0, 0, err
		}
		rss, pss = rss+r, pss+q
	}
	return rss, pss, nil
}

// procField reads "Key:   123 kB" from a /proc file.
func procField(path, key string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", path, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, fmt.Errorf("cannot find %s in %s", key, path)
}

// clockTick is USER_HZ, the unit of the times in /proc/<pid>/stat (100 on
// every Linux architecture Go supports; proc(5)).
const clockTick = 10 * time.Millisecond

// cpu is the CPU time of the server process and of every child it has
// reaped (utime+stime+cutime+cstime, proc(5)). For sshd that is the listener
// plus its finished per-connection children; for holdfast, as PID 1, its own
// time plus its finished shells. Both include the commands the sessions ran,
// the same for both servers; sshd's children count only once reaped, so
// read it when the connections are gone (waitIdle).
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0, fmt.Errorf("cannot read %s's stat: %w", s.name, err)
	}
	st := string(b)
	f := strings.Fields(st[strings.LastIndexByte(st, ')')+1:])
	// After the comm: state(3) ppid ... utime(14) stime cutime cstime(17).
	if len(f) < 15 {
		return 0, fmt.Errorf("cannot parse %s's stat %q", s.name, st)
	}
	var ticks int64
	for _, v := range f[11:15] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse %s's stat %q: %w", s.name, st, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// waitIdle waits (up to 30 s) until the server has no per-connection
// processes left and its sessions' processes are reaped.
func (s *server) waitIdle() {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if len(s.procs()) == 1 && len(nonApp(s)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nonApp lists the server's children other than holdfast's app: sessions
// still running (for sshd, every child).
func nonApp(s *server) []int {
	var out []int
	for _, c := range children(s.pid) {
		if c != s.app {
			out = append(out, c)
		}
	}
	return out
}

// pinned is the command name with args, under `taskset -c cpus` when cpus
// is not "" (what it starts inherits the CPUs).
func pinned(cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
}
