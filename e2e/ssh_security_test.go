package e2e

// Attacks on the embedded ssh server, each performed with the real OpenSSH client
// against holdfast as PID 1 (docs/security/ssh.md): what a key holder could do
// beyond what the operator gave (a root session with --user, a certificate for another
// principal, a revoked key surviving a bad reload), what anyone who can reach the port
// could do (hold every pre-auth slot), and the SHA-1 algorithms OpenSSH 8.8 dropped.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// sshRootServer is holdfast as root (no --user) holding a crashed app, with its keys
// in an authorized_keys file the test may rewrite.
type sshRootServer struct {
	h     *hf
	cl    sshClient
	keys  string // a directory of client keys
	ak    string // the authorized_keys file
	audit string
}

func startSSHRoot(t *testing.T, authorized string, extra ...string) *sshRootServer {
	t.Helper()
	s := &sshRootServer{keys: t.TempDir()}
	s.ak = filepath.Join(s.keys, "authorized_keys")
	if err := os.WriteFile(s.ak, []byte(authorized), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cl.port = strconv.Itoa(hfrun.Port(t))
	stateDir := t.TempDir()
	s.audit = filepath.Join(stateDir, "audit.log")
	args := append([]string{"--hold=true", "--max-restarts=0", "--ssh-authorized-keys=" + s.ak,
		"--ssh-addr=127.0.0.1:" + s.cl.port}, extra...)
	s.h = start(t, spec{pid1: true, stateDir: stateDir, env: []string{fakeEnv + "=exit"},
		args: append(args, "--", selfExe, "3")})
	s.h.waitOutput(t, "ssh listening", hfrun.WaitLong)
	s.h.waitPhase(t, "held", 0)
	return s
}

// writeKeys replaces the authorized_keys file the way a Secret update does (a rename).
func (s *sshRootServer) writeKeys(t *testing.T, text string) {
	t.Helper()
	tmp := s.ak + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.ak); err != nil {
		t.Fatal(err)
	}
}

// login runs `ssh [opts] user@127.0.0.1 echo in` with key and reports whether it got in.
func (s *sshRootServer) login(t *testing.T, key, user string, opts ...string) (bool, sshResult) {
	t.Helper()
	args := append(s.cl.args(key, opts...), user+"@127.0.0.1", "echo in")
	r := sshRun(t, "", "ssh", args...)
	return r.rc == 0 && r.stdout == "in\n", r
}

func readPub(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// sshCert signs key's public half with ca for principals and returns key (ssh loads
// key-cert.pub next to it).
func sshCert(t *testing.T, ca, key, id, principals string) string {
	t.Helper()
	if r := sshRun(t, "", "ssh-keygen", "-q", "-s", ca, "-I", id, "-n", principals, "-V", "-5m:+1h", key+".pub"); r.rc != 0 {
		t.Fatalf("ssh-keygen -s: %v", r)
	}
	return key
}

// auditHas reports whether some audit event has every given field value.
func auditHas(t *testing.T, path string, want map[string]string) bool {
	t.Helper()
	for _, ev := range sshAuditEvents(t, path) {
		ok := true
		for k, v := range want {
			if got, _ := ev[k].(string); got != v && !(strings.HasPrefix(v, "~") && strings.Contains(got, v[1:])) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestSSHCertificatePrincipal: a cert-authority line without principals= accepts a
// certificate only for the account the login maps to (root here), not for whatever
// name the client typed: a certificate for mallory logging in as mallory@ got in.
func TestSSHCertificatePrincipal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := sshKeygen(t, dir, "ca")
	s := startSSHRoot(t, "cert-authority "+readPub(t, ca)+"\n")
	mallory := sshCert(t, ca, sshKeygen(t, dir, "mallory"), "mallory-id", "mallory")
	if in, r := s.login(t, mallory, "mallory"); in {
		t.Errorf("a certificate for principal mallory logged in as mallory@ (the account is root): %v", r)
	}
	if !auditHas(t, s.audit, map[string]string{"event": "login-failed", "cert_id": "mallory-id", "user": "mallory", "reason": "~do not include the account"}) {
		t.Errorf("audit.log has no login-failed for mallory's certificate:\n%v", sshAuditEvents(t, s.audit))
	}
	// Negative control: a certificate for the account itself gets in, whatever the
	// typed name (every name maps to the one account).
	ops := sshCert(t, ca, sshKeygen(t, dir, "ops"), "ops-id", "ops,root")
	if in, r := s.login(t, ops, "mallory"); !in {
		t.Errorf("a certificate for root: %v, want a login", r)
	}
}

// TestSSHBadReloadFailsClosed: an authorized_keys edit that revokes a key and leaves one
// line holdfast cannot parse must refuse every login until the file is fixed; the old
// code kept the previous keys, so the revoked key still logged in. And from=, which
// sshd files carry, is understood rather than a reason for the reload to fail.
func TestSSHBadReloadFailsClosed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keep, revoked, scoped, denied := sshKeygen(t, dir, "keep"), sshKeygen(t, dir, "revoked"),
		sshKeygen(t, dir, "scoped"), sshKeygen(t, dir, "denied")
	s := startSSHRoot(t, readPub(t, keep)+"\n"+readPub(t, revoked)+"\n")
	if in, r := s.login(t, revoked, "root"); !in {
		t.Fatalf("the key before it is revoked: %v", r)
	}

	t.Run("bad line", func(t *testing.T) {
		s.writeKeys(t, readPub(t, keep)+"\nssh-ed25519 AAAA-this-is-not-base64 broken\n")
		if in, r := s.login(t, revoked, "root"); in {
			t.Errorf("the revoked key logged in after a reload with a bad line: %v", r)
		}
		if in, r := s.login(t, keep, "root"); in {
			t.Errorf("a listed key logged in while the file is broken (want fail closed): %v", r)
		}
		if !auditHas(t, s.audit, map[string]string{"event": "keys-invalid", "reason": "~line 2"}) {
			t.Errorf("audit.log has no keys-invalid event naming line 2:\n%v", sshAuditEvents(t, s.audit))
		}
		if !strings.Contains(s.h.output(), "ssh refuses every login") {
			t.Errorf("holdfast did not say loudly that it refuses every login:\n%s", s.h.output())
		}
		// Fixed: the listed key is back, the revoked one stays out.
		s.writeKeys(t, readPub(t, keep)+"\n")
		if in, r := s.login(t, keep, "root"); !in {
			t.Errorf("the listed key after the file was fixed: %v", r)
		}
		if in, r := s.login(t, revoked, "root"); in {
			t.Errorf("the revoked key after the file was fixed: %v", r)
		}
	})

	t.Run("from=", func(t *testing.T) {
		s.writeKeys(t, readPub(t, keep)+"\n"+
			`from="!127.0.0.2,127.0.0.0/8" `+readPub(t, scoped)+"\n"+
			`from="10.0.0.0/8,*.example.com" `+readPub(t, denied)+"\n")
		if in, r := s.login(t, scoped, "root", "-b", "127.0.0.3"); !in {
			t.Errorf("from=\"!127.0.0.2,127.0.0.0/8\" key from 127.0.0.3: %v, want a login", r)
		}
		if in, r := s.login(t, scoped, "root", "-b", "127.0.0.2"); in {
			t.Errorf("from=\"!127.0.0.2,...\" key from 127.0.0.2 logged in: %v", r)
		}
		// A host name pattern matches the address text only: nothing is resolved.
		if in, r := s.login(t, denied, "root"); in {
			t.Errorf("from=\"10.0.0.0/8,*.example.com\" key from 127.0.0.1 logged in: %v", r)
		}
		if !auditHas(t, s.audit, map[string]string{"event": "login-failed", "fingerprint": sshFingerprint(t, denied+".pub"), "reason": "~not authorized from 127.0.0.1"}) {
			t.Errorf("audit.log has no login-failed for the from= refusal:\n%v", sshAuditEvents(t, s.audit))
		}
	})
}

// TestSSHNoSHA1: the SHA-1 key exchange, MAC and ssh-rsa signatures are refused, as by
// OpenSSH since 8.8; the SHA-2 ones work.
func TestSSHNoSHA1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ed := sshKeygen(t, dir, "ed")
	rsa := filepath.Join(dir, "rsa")
	if r := sshRun(t, "", "ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "rsa", "-f", rsa); r.rc != 0 {
		t.Fatalf("ssh-keygen -t rsa: %v", r)
	}
	stranger := sshKeygen(t, dir, "stranger")
	s := startSSHRoot(t, readPub(t, ed)+"\n"+readPub(t, rsa)+"\n")
	for _, tc := range []struct {
		name string
		key  string
		opts []string
		want bool
	}{
		{"kex diffie-hellman-group14-sha1", ed, []string{"-o", "KexAlgorithms=diffie-hellman-group14-sha1"}, false},
		{"mac hmac-sha1", ed, []string{"-o", "MACs=hmac-sha1", "-o", "Ciphers=aes128-ctr"}, false},
		{"ssh-rsa signature", rsa, []string{"-o", "PubkeyAcceptedAlgorithms=ssh-rsa"}, false},
		// Negative controls: the same key and the SHA-2 algorithms.
		{"rsa-sha2-256 signature", rsa, []string{"-o", "PubkeyAcceptedAlgorithms=rsa-sha2-256"}, true},
		{"rsa-sha2-512 signature", rsa, []string{"-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512"}, true},
		{"kex diffie-hellman-group14-sha256", ed, []string{"-o", "KexAlgorithms=diffie-hellman-group14-sha256"}, true},
		{"kex curve25519-sha256", ed, []string{"-o", "KexAlgorithms=curve25519-sha256"}, true},
		{"mac hmac-sha2-256-etm", ed, []string{"-o", "MACs=hmac-sha2-256-etm@openssh.com", "-o", "Ciphers=aes128-ctr"}, true},
		{"cipher aes256-gcm", ed, []string{"-o", "Ciphers=aes256-gcm@openssh.com"}, true},
		{"cipher chacha20-poly1305", ed, []string{"-o", "Ciphers=chacha20-poly1305@openssh.com"}, true},
	} {
		if in, r := s.login(t, tc.key, "root", tc.opts...); in != tc.want {
			t.Errorf("%s: logged in %v, want %v: %v", tc.name, in, tc.want, r)
		}
	}
	// Failed logins are in the audit log: a key that is not listed, with its
	// fingerprint and the reason. (The ssh-rsa attempt above leaves none: the client
	// sees ssh-rsa missing from the server's server-sig-algs and never signs.)
	if in, r := s.login(t, stranger, "intruder"); in {
		t.Fatalf("an unlisted key logged in: %v", r)
	}
	if !auditHas(t, s.audit, map[string]string{"event": "login-failed", "user": "intruder", "fingerprint": sshFingerprint(t, stranger+".pub"),
		"reason": "key not authorized", "remote": "~127.0.0.1:"}) {
		t.Errorf("audit.log has no login-failed for the unlisted key:\n%v", sshAuditEvents(t, s.audit))
	}
}

// TestSSHPreauthFlood: connections that never authenticate, from 127.0.0.1 (where
// every kubectl port-forward user comes from) or from many addresses, cannot keep a
// real login out or all be held.
func TestSSHPreauthFlood(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := sshKeygen(t, dir, "key")
	s := startSSHRoot(t, readPub(t, key)+"\n")
	addr := "127.0.0.1:" + s.cl.port

	t.Run("idle connections from 127.0.0.1", func(t *testing.T) {
		// 30 connections that connect and then say nothing, as stuck clients would
		// (the per-address limit is 10).
		const idle = 30
		var held []net.Conn
		for range idle {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		// Negative control: they are pending connections, 10 of them held (the
		// per-address limit), so a login has to get past them.
		if n := sshHeld(held); n != 10 {
			t.Fatalf("%d of %d idle connections held, want 10 (the per-address limit)", n, idle)
		}
		// A real login must get in within a bound well under the 20 s handshake
		// timeout, which is what freed a slot before.
		const bound = 12 * time.Second
		begin := time.Now()
		var r sshResult
		in := false
		for time.Since(begin) < bound && !in {
			in, r = s.login(t, key, "root", "-o", "ConnectTimeout=5")
		}
		if !in {
			t.Fatalf("no login within %v while %d idle connections from 127.0.0.1 are held: %v", bound, idle, r)
		}
		t.Logf("logged in after %v with %d idle connections held", time.Since(begin).Round(time.Millisecond), idle)
	})

	t.Run("1000 pending from 100 addresses", func(t *testing.T) {
		const sources, each = 100, 10
		var mu sync.Mutex
		var conns []net.Conn
		var wg sync.WaitGroup
		for i := range sources {
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i+2))} // 127.0.0.2 to .101
			for range each {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
					c, err := d.Dial("tcp", addr)
					if err != nil {
						return
					}
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		held := func() int { return sshHeld(conns) }
		// Well under the 20 s handshake timeout, after which the old code let go too.
		var n int
		hfrun.WaitFor(t, 8*time.Second, "at most MaxStartups' 100 pending connections held", func() bool {
			n = held()
			return n <= 100
		}, func() string { return fmt.Sprintf("%d of %d connected still held", n, len(conns)) })
		t.Logf("%d connections made, %d held", len(conns), n)
		if len(conns) < 500 {
			t.Errorf("only %d of %d connections were made: the test did not flood", len(conns), sources*each)
		}
		// And a real login still gets in.
		hfrun.WaitFor(t, hfrun.WaitLong, "a login after the flood", func() bool { in, _ := s.login(t, key, "root"); return in })
	})
}

// sshHeld counts the connections the server still holds open: a read times out
// instead of ending.
func sshHeld(conns []net.Conn) int {
	var wg sync.WaitGroup
	var n atomic.Int64
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			r := bufio.NewReader(c)
			for {
				if _, err := r.ReadByte(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						n.Add(1)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	return int(n.Load())
}

// sshUserServer is holdfast as PID 1 with --user hfapp: a user (uid 4242) in a
// supplementary group (4343), in a mount namespace whose /etc/passwd and /etc/group
// list them.
type sshUserServer struct {
	h        *hf
	cl       sshClient
	home     string
	stateDir string
}

const (
	appUID, appGID, appExtraGID = 4242, 4242, 4343
)

func startSSHUser(t *testing.T, extra ...string) *sshUserServer {
	t.Helper()
	etc := t.TempDir()
	passwd, group := filepath.Join(etc, "passwd"), filepath.Join(etc, "group")
	pw, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	gr, err := os.ReadFile("/etc/group")
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("/tmp", "hfapp-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chown(home, appUID, appGID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	pw = append(pw, fmt.Sprintf("hfapp:x:%d:%d::%s:/bin/sh\n", appUID, appGID, home)...)
	gr = append(gr, fmt.Sprintf("hfapp:x:%d:\nhfextra:x:%d:hfapp\n", appGID, appExtraGID)...)
	if err := os.WriteFile(passwd, pw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(group, gr, 0o644); err != nil {
		t.Fatal(err)
	}
	key := sshKeygen(t, t.TempDir(), "client")
	s := &sshUserServer{home: home, stateDir: t.TempDir()}
	s.cl = sshClient{port: strconv.Itoa(hfrun.Port(t)), key: key}
	args := append([]string{holdfastBin, "--probe-addr=", "--state-dir=" + s.stateDir, "--hold=true", "--max-restarts=0",
		"--user=hfapp", "--ssh-addr=127.0.0.1:" + s.cl.port}, extra...)
	args = append(args, "--", "/bin/sh", "-c", "exit 3")
	// The bind mounts stay in holdfast's mount namespace (unshare makes it private).
	script := fmt.Sprintf(`mount --bind %s /etc/passwd && mount --bind %s /etc/group && exec "$@"`, passwd, group)
	s.h = start(t, spec{pid1: true, stateDir: s.stateDir,
		env:  []string{"HOLDFAST_SSH_AUTHORIZED_KEYS=" + readPub(t, key), "HOME=" + home},
		prog: append([]string{"sh", "-c", script, "sh"}, args...)})
	s.h.waitOutput(t, "ssh listening", hfrun.WaitLong)
	s.h.waitPhase(t, "held", 0)
	return s
}

func (s *sshUserServer) run(t *testing.T, user, command string) sshResult {
	t.Helper()
	return sshRun(t, "", "ssh", s.cl.args(s.cl.key, user+"@127.0.0.1", command)...)
}

func (s *sshUserServer) sftp(t *testing.T, batch string) sshResult {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(f, []byte(batch), 0o644); err != nil {
		t.Fatal(err)
	}
	return sshRun(t, "", "sftp", append(s.cl.opts(s.cl.key), "-P", s.cl.port, "-b", f, "hfapp@127.0.0.1")...)
}

// TestSSHRunsAsAppUser: with --user, ssh sessions (exec, pty, sftp, scp) run as that
// user, with its groups and HOME; they ran as root, so a key holder could read
// /etc/shadow while the operator had dropped the app's privileges.
func TestSSHRunsAsAppUser(t *testing.T) {
	t.Parallel()
	s := startSSHUser(t)
	want := fmt.Sprintf("%d %d %d,%d %s", appUID, appGID, appGID, appExtraGID, s.home)
	for _, user := range []string{"hfapp", "root"} {
		r := s.run(t, user, `printf '%s %s %s %s\n' "$(id -u)" "$(id -g)" "$(id -G | tr ' ' ,)" "$HOME"`)
		if r.rc != 0 || strings.TrimSpace(r.stdout) != want {
			t.Errorf("ssh %s@ uid gid groups HOME: %v, want %q", user, r, want)
		}
	}
	if r := sshRun(t, "", "ssh", s.cl.args(s.cl.key, "-tt", "hfapp@127.0.0.1", "id -u; tty")...); r.rc != 0 || !strings.Contains(r.stdout, strconv.Itoa(appUID)+"\r\n/dev/pts/") {
		t.Errorf("ssh -tt id -u: %v, want %d", r, appUID)
	}
	if r := s.run(t, "hfapp", "cat /etc/shadow"); r.rc == 0 {
		t.Errorf("cat /etc/shadow as the app user: %v, want a refusal", r)
	}

	local := t.TempDir()
	r := s.sftp(t, fmt.Sprintf("get /etc/shadow %s/shadow\n", local))
	if r.rc == 0 {
		t.Errorf("sftp get /etc/shadow: %v, want a refusal", r)
	}
	if _, err := os.Stat(filepath.Join(local, "shadow")); err == nil {
		t.Errorf("sftp fetched /etc/shadow")
	}
	// Negative control: sftp itself works, as the user, in its home.
	up := filepath.Join(local, "up.txt")
	if err := os.WriteFile(up, []byte("hello from sftp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = s.sftp(t, fmt.Sprintf("put %s %s/up.txt\nrename %s/up.txt %s/moved.txt\nget %s/moved.txt %s/back.txt\nrm %s/moved.txt\n",
		up, s.home, s.home, s.home, s.home, local, s.home))
	if r.rc != 0 {
		t.Fatalf("sftp put, rename, get, rm in the user's home: %v", r)
	}
	if b, err := os.ReadFile(filepath.Join(local, "back.txt")); err != nil || string(b) != "hello from sftp\n" {
		t.Errorf("sftp round trip: %q, %v", b, err)
	}
	// scp (sftp mode) runs as the user too.
	if r := sshRun(t, "", "scp", append(s.cl.opts(s.cl.key), "-P", s.cl.port, "hfapp@127.0.0.1:/etc/shadow", local+"/scp-shadow")...); r.rc == 0 {
		t.Errorf("scp of /etc/shadow: %v, want a refusal", r)
	}

	// The file operations are in the audit log, with their results.
	audit := filepath.Join(s.stateDir, "audit.log")
	for _, w := range []map[string]string{
		{"event": "sftp", "op": "open", "path": "/etc/shadow", "flags": "read", "result": "~permission denied"},
		{"event": "sftp", "op": "open", "path": s.home + "/up.txt", "flags": "~write", "result": "ok"},
		{"event": "sftp", "op": "rename", "path": s.home + "/up.txt", "target": s.home + "/moved.txt", "result": "ok"},
		{"event": "sftp", "op": "remove", "path": s.home + "/moved.txt", "result": "ok"},
		{"event": "sftp", "op": "close", "path": s.home + "/moved.txt", "result": "ok", "account": "hfapp"},
	} {
		if !auditHas(t, audit, w) {
			t.Errorf("audit.log lacks %v:\n%v", w, sshAuditEvents(t, audit))
		}
	}
	var wrote bool
	for _, ev := range sshAuditEvents(t, audit) {
		if ev["op"] == "close" && ev["path"] == s.home+"/up.txt" && ev["bytes_written"] == float64(16) {
			wrote = true
		}
	}
	if !wrote {
		t.Errorf("audit.log has no close of up.txt with bytes_written 16:\n%v", sshAuditEvents(t, audit))
	}

	// Forwarding stays loopback-only; holdfast dials (as its own uid: a TCP peer
	// cannot see it).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			fmt.Fprintln(c, "forwarded")
			c.Close()
		}
	}()
	if r := sshRun(t, "", "ssh", s.cl.args(s.cl.key, "-W", l.Addr().String(), "hfapp@127.0.0.1")...); r.stdout != "forwarded\n" {
		t.Errorf("ssh -W to a loopback port: %v, want forwarded", r)
	}
	if r := sshRun(t, "", "ssh", s.cl.args(s.cl.key, "-W", "192.0.2.1:80", "hfapp@127.0.0.1")...); r.rc == 0 {
		t.Errorf("ssh -W to 192.0.2.1:80: %v, want a refusal", r)
	}
}

// TestSSHAllowRoot: --ssh-allow-root lets a login as root have a root session; every
// other name is still the app's user.
func TestSSHAllowRoot(t *testing.T) {
	t.Parallel()
	s := startSSHUser(t, "--ssh-allow-root")
	if r := s.run(t, "root", "id -u"); r.rc != 0 || strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("ssh root@ with --ssh-allow-root: %v, want uid 0", r)
	}
	if r := s.run(t, "hfapp", "id -u"); r.rc != 0 || strings.TrimSpace(r.stdout) != strconv.Itoa(appUID) {
		t.Errorf("ssh hfapp@ with --ssh-allow-root: %v, want uid %d", r, appUID)
	}
}
