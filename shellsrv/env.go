package shellsrv

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// account is a passwd entry a login maps to: the app's --user, or the user
// holdfast runs as (users.go). Any name the client types maps to it; the
// authorized keys are the gate.
type account struct {
	UID   int
	Name  string
	Home  string
	Shell string
}

// lookupAccount reads /etc/passwd (passwd(5)); os/user has no shell field
// and, without cgo, reads the same file anyway.
func lookupAccount(uid int) account {
	acct := account{UID: uid, Name: strconv.Itoa(uid), Home: "/"}
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return acct
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// name:password:UID:GID:GECOS:directory:shell
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 7 || fields[2] != strconv.Itoa(uid) {
			continue
		}
		acct.Name = fields[0]
		if fields[5] != "" {
			acct.Home = fields[5]
		}
		acct.Shell = fields[6]
		break
	}
	return acct
}

// chooseShell picks the passwd shell, else bash, else sh. A nologin or
// false shell is skipped: the account is a service account in an image, and
// refusing a shell would defeat the point of the server.
func chooseShell(passwdShell, pathEnv string) string {
	if passwdShell != "" {
		base := filepath.Base(passwdShell)
		if base != "nologin" && base != "false" && isExecutable(passwdShell) {
			return passwdShell
		}
	}
	for _, name := range []string{"bash", "sh"} {
		if p := lookPath(name, pathEnv); p != "" {
			return p
		}
		for _, dir := range []string{"/bin", "/usr/bin"} {
			if p := filepath.Join(dir, name); isExecutable(p) {
				return p
			}
		}
	}
	return ""
}

func lookPath(name, pathEnv string) string {
	for _, dir := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(dir) {
			continue
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Client-sent variables: only the locale and the time zone, as the usual
// sshd AcceptEnv. Never PATH, LD_*, JAVA_*, BASH_ENV and the like: they
// would change what the app's tools do or run code.
const (
	maxClientEnv      = 32
	maxClientEnvValue = 4096
)

func allowedClientEnv(name, value string) bool {
	if len(value) > maxClientEnvValue || strings.ContainsRune(value, 0) {
		return false
	}
	if name == "LANG" || name == "TZ" {
		return true
	}
	rest, ok := strings.CutPrefix(name, "LC_")
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if (r < 'A' || r > 'Z') && r != '_' {
			return false
		}
	}
	return true
}

// sessionEnv builds a session's environment: exactly the app's, then the
// accepted client variables, TERM from the pty request, the SSH_* variables,
// and USER, LOGNAME, HOME and SHELL only where the app had none (the way
// docker exec and kubectl exec inherit the container's env: moby
// daemon/exec.go). sshd instead builds a fresh env and a login shell's
// /etc/profile assigns PATH outright, which loses the image's PATH.
func sessionEnv(app []string, acct account, shell string, client []string, term, tty string, remote, local net.Addr) []string {
	env := append([]string(nil), app...)
	for _, kv := range client {
		k, v, _ := strings.Cut(kv, "=")
		env = setEnv(env, k, v)
	}
	if term != "" {
		env = setEnv(env, "TERM", term)
	}
	rh, rp := splitAddr(remote)
	lh, lp := splitAddr(local)
	env = setEnv(env, "SSH_CLIENT", rh+" "+rp+" "+lp)
	env = setEnv(env, "SSH_CONNECTION", rh+" "+rp+" "+lh+" "+lp)
	if tty != "" {
		env = setEnv(env, "SSH_TTY", tty)
	} else {
		env = unsetEnv(env, "SSH_TTY")
	}
	env = defaultEnv(env, "USER", acct.Name)
	env = defaultEnv(env, "LOGNAME", acct.Name)
	env = defaultEnv(env, "HOME", acct.Home)
	env = defaultEnv(env, "SHELL", shell)
	return env
}

func splitAddr(a net.Addr) (host, port string) {
	if a == nil {
		return "", ""
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), ""
	}
	return host, port
}

// setEnv removes every k= entry and appends k=v: os/exec keeps the last of
// duplicates, so replacing only the first would not stick.
func setEnv(env []string, k, v string) []string {
	return append(unsetEnv(env, k), k+"="+v)
}

func unsetEnv(env []string, k string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, k+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func defaultEnv(env []string, k, v string) []string {
	if envValue(env, k) != "" || v == "" {
		return env
	}
	return setEnv(env, k, v)
}

// envValue returns the last k= value, as os/exec and getenv(3) see it.
func envValue(env []string, k string) string {
	v := ""
	for _, kv := range env {
		if val, ok := strings.CutPrefix(kv, k+"="); ok {
			v = val
		}
	}
	return v
}

// workDir is where a session starts: $HOME if it is a directory the
// session's user (cred; nil = holdfast's own) may enter, else /. The app's
// HOME may be root's (/root, mode 0700) when only --user changed the uid:
// the session then starts in / rather than failing to start.
func workDir(env []string, cred *syscall.Credential) string {
	if h := envValue(env, "HOME"); filepath.IsAbs(h) {
		if fi, err := os.Stat(h); err == nil && fi.IsDir() && mayReach(h, cred) {
			return h
		}
	}
	return "/"
}

// mayReach reports whether cred may enter dir and every directory above it.
func mayReach(dir string, cred *syscall.Credential) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || !mayEnter(fi, cred) {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

// mayEnter reports whether cred may search the directory fi by its mode
// bits (the owner's, the group's, or the others'), as the kernel decides
// without ACLs.
func mayEnter(fi os.FileInfo, cred *syscall.Credential) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if cred == nil || cred.Uid == 0 || !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == cred.Uid:
		return perm&0o100 != 0
	case st.Gid == cred.Gid || slices.Contains(cred.Groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// shellArgv is a shell's argv: "-bash" style argv[0] for a login shell
// (bash(1) INVOCATION), "-c" and the raw command for exec, as sshd does.
func shellArgv(shell string, login bool, command string, isExec bool) []string {
	arg0 := filepath.Base(shell)
	if login {
		arg0 = "-" + arg0
	}
	if isExec {
		return []string{arg0, "-c", command}
	}
	return []string{arg0}
}
