package shellsrv

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPublicKeyLogin(t *testing.T) {
	h := newHarness(t, nil)
	if r := h.ssh("", "127.0.0.1", "echo logged-in"); r.rc != 0 || r.stdout != "logged-in\n" {
		t.Fatalf("authorized key: %v", r)
	}
	// Any login name maps to the container user.
	if r := h.ssh("", "someone@127.0.0.1", "id -u"); r.rc != 0 || strings.TrimSpace(r.stdout) != strconv.Itoa(os.Getuid()) {
		t.Fatalf("other login name: %v", r)
	}
	// Negative control: a key that is not listed.
	other, _ := newKey(t, h.dir, "stranger")
	r := run(t, "", nil, "ssh", h.sshArgs(other, "127.0.0.1", "echo logged-in")...)
	if r.rc != 255 || strings.Contains(r.stdout, "logged-in") || !strings.Contains(r.stderr, "Permission denied") {
		t.Fatalf("unlisted key: want rc 255 and Permission denied, got %v", r)
	}
	// No password or keyboard-interactive method is offered.
	r = run(t, "", nil, "ssh", h.sshArgs(other, "-v", "127.0.0.1", "true")...)
	if !regexp.MustCompile(`Authentications that can continue: publickey\r?\n`).MatchString(r.stderr) {
		t.Fatalf("want publickey as the only method, got %s", r.stderr)
	}
}

func TestCertificateAuthority(t *testing.T) {
	dir := t.TempDir()
	ca, caPub := newKey(t, dir, "ca")
	h := newHarness(t, func(c *Config) {
		c.AuthorizedKeysFile = ""
		c.AuthorizedKeysInline = "cert-authority " + caPub + "\n"
	})
	sign := func(name, principals, validity string) string {
		key, _ := newKey(t, dir, name)
		if r := run(t, "", nil, "ssh-keygen", "-q", "-s", ca, "-I", name+"-id", "-n", principals, "-V", validity, key+".pub"); r.rc != 0 {
			t.Fatalf("ssh-keygen -s: %v", r)
		}
		return key // ssh loads key-cert.pub next to it
	}
	// Every login name maps to the account the server runs sessions as;
	// the certificate must name that account (sshd(8)), whatever name the
	// client typed.
	acct := lookupAccount(os.Getuid()).Name
	good := sign("alice", "ops,"+acct, "-5m:+1h")
	expired := sign("old", acct, "20200101:20200102")
	mallory := sign("mallory", "mallory", "-5m:+1h")
	bare, _ := newKey(t, dir, "bare")

	if r := run(t, "", nil, "ssh", h.sshArgs(good, "alice@127.0.0.1", "echo cert-ok")...); r.rc != 0 || r.stdout != "cert-ok\n" {
		t.Fatalf("certificate for %s: %v", acct, r)
	}
	for name, args := range map[string][]string{
		// The attack: a principal chosen to equal the typed login name.
		"principal = login name": h.sshArgs(mallory, "mallory@127.0.0.1", "echo cert-ok"),
		"expired":                h.sshArgs(expired, "alice@127.0.0.1", "echo cert-ok"),
		"bare key":               h.sshArgs(bare, "alice@127.0.0.1", "echo cert-ok"),
		"CA key itself":          h.sshArgs(ca, "alice@127.0.0.1", "echo cert-ok"),
	} {
		if r := run(t, "", nil, "ssh", args...); r.rc != 255 || strings.Contains(r.stdout, "cert-ok") {
			t.Errorf("%s: want rc 255, got %v", name, r)
		}
	}
	// The login records the certificate's id and the certified key.
	events := readAudit(t, h.audit)
	found := false
	for _, ev := range events {
		if ev["event"] == "login" && ev["cert_id"] == "alice-id" && ev["user"] == "alice" &&
			ev["fingerprint"] == fingerprint(t, good+".pub") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no login with cert id in audit log: %v", events)
	}
	// The refused certificate is in the audit log with its reason.
	found = false
	for _, ev := range events {
		if ev["event"] == "login-failed" && ev["cert_id"] == "mallory-id" && ev["user"] == "mallory" &&
			strings.Contains(ev["reason"].(string), "do not include the account") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no login-failed for mallory's certificate in the audit log: %v", events)
	}
}

func TestCertificatePrincipalsOption(t *testing.T) {
	dir := t.TempDir()
	ca, caPub := newKey(t, dir, "ca")
	h := newHarness(t, func(c *Config) {
		c.AuthorizedKeysFile = ""
		c.AuthorizedKeysInline = `cert-authority,principals="oncall" ` + caPub
	})
	key, _ := newKey(t, dir, "user")
	if r := run(t, "", nil, "ssh-keygen", "-q", "-s", ca, "-I", "u", "-n", "oncall", key+".pub"); r.rc != 0 {
		t.Fatalf("ssh-keygen -s: %v", r)
	}
	// principals= replaces the login name: any name works with "oncall".
	if r := run(t, "", nil, "ssh", h.sshArgs(key, "root@127.0.0.1", "true")...); r.rc != 0 {
		t.Fatalf("principal from the option: %v", r)
	}
	other, _ := newKey(t, dir, "user2")
	if r := run(t, "", nil, "ssh-keygen", "-q", "-s", ca, "-I", "u2", "-n", "root", other+".pub"); r.rc != 0 {
		t.Fatalf("ssh-keygen -s: %v", r)
	}
	if r := run(t, "", nil, "ssh", h.sshArgs(other, "root@127.0.0.1", "true")...); r.rc != 255 {
		t.Fatalf("principal not in the option: want 255, got %v", r)
	}
}

func TestAuthorizedKeysErrors(t *testing.T) {
	dir := t.TempDir()
	_, pub := newKey(t, dir, "k")
	for name, tc := range map[string]struct {
		file, inline string
		want         []string
	}{
		"garbage line": {file: "# c\n" + pub + "\nssh-ed25519 not-base64!!\n", want: []string{"authorized_keys line 3:"}},
		"command=":     {file: `command="/bin/true" ` + pub + "\n", want: []string{"authorized_keys line 1:", `"command"`}},
		"inline":       {inline: pub + "\nnonsense\n", want: []string{"cannot parse HOLDFAST_SSH_AUTHORIZED_KEYS line 2:"}},
		"bad from=":    {file: `from="10.0.0.1/8" ` + pub + "\n", want: []string{"authorized_keys line 1:", "did you mean 10.0.0.0/8"}},
		"empty":        {file: "# nothing\n", want: []string{"no keys"}},
	} {
		t.Run(name, func(t *testing.T) {
			ak := filepath.Join(t.TempDir(), "authorized_keys")
			if err := os.WriteFile(ak, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{AuthorizedKeysFile: ak, AuthorizedKeysInline: tc.inline, HostKeyPath: filepath.Join(dir, "hk"), Reaper: testReaper})
			if err == nil {
				t.Fatal("New accepted a bad key file")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.file != "" && tc.inline == "" && !strings.Contains(err.Error(), ak) && name != "empty" {
				t.Errorf("error %q does not name %s", err, ak)
			}
		})
	}
	// Negative control: the good key alone is accepted.
	ak := filepath.Join(dir, "ok")
	os.WriteFile(ak, []byte(pub+"\n"), 0o600)
	if _, err := New(Config{AuthorizedKeysFile: ak, HostKeyPath: filepath.Join(dir, "hk"), Reaper: testReaper}); err != nil {
		t.Fatalf("good file: %v", err)
	}
}

func TestEnabled(t *testing.T) {
	dir := t.TempDir()
	ak := filepath.Join(dir, "authorized_keys")
	if (Config{AuthorizedKeysFile: ak}).Enabled() {
		t.Error("enabled with a missing file")
	}
	if (Config{AuthorizedKeysInline: "  \n"}).Enabled() {
		t.Error("enabled with blank inline keys")
	}
	if !(Config{AuthorizedKeysFile: ak, AuthorizedKeysInline: "ssh-ed25519 AAAA"}).Enabled() {
		t.Error("not enabled with inline keys")
	}
	os.WriteFile(ak, nil, 0o600)
	if !(Config{AuthorizedKeysFile: ak}).Enabled() {
		t.Error("not enabled with an existing file")
	}
}

func TestAuthorizedKeysReload(t *testing.T) {
	h := newHarness(t, nil)
	late, latePub := newKey(t, h.dir, "late")
	if r := run(t, "", nil, "ssh", h.sshArgs(late, "127.0.0.1", "true")...); r.rc != 255 {
		t.Fatalf("key not yet listed: want 255, got %v", r)
	}
	ak := filepath.Join(h.dir, "authorized_keys")
	tmp := ak + ".new"
	os.WriteFile(tmp, []byte(latePub+"\n"), 0o600)
	if err := os.Rename(tmp, ak); err != nil { // as a Secret update swaps the file
		t.Fatal(err)
	}
	if r := run(t, "", nil, "ssh", h.sshArgs(late, "127.0.0.1", "true")...); r.rc != 0 {
		t.Fatalf("key added to the file: %v", r)
	}
	if r := h.ssh("", "127.0.0.1", "true"); r.rc != 255 {
		t.Fatalf("key removed from the file: want 255, got %v", r)
	}
	// A reload that does not parse refuses everyone, even the key the new
	// file lists, until it is fixed.
	os.WriteFile(tmp, []byte(latePub+"\n"+`from="10.0.0.1/8" `+latePub+"\n"), 0o600)
	if err := os.Rename(tmp, ak); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "", nil, "ssh", h.sshArgs(late, "127.0.0.1", "true")...); r.rc != 255 {
		t.Fatalf("login while the file is broken: want 255, got %v", r)
	}
	found := false
	for _, ev := range readAudit(t, h.audit) {
		if ev["event"] == "keys-invalid" && strings.Contains(ev["reason"].(string), "line 2") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no keys-invalid event naming line 2: %v", readAudit(t, h.audit))
	}
	os.WriteFile(tmp, []byte(`from="127.0.0.0/8" `+latePub+"\n"), 0o600)
	if err := os.Rename(tmp, ak); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "", nil, "ssh", h.sshArgs(late, "127.0.0.1", "true")...); r.rc != 0 {
		t.Fatalf("login after the file was fixed (with from=): %v", r)
	}
}

func TestHostKeyPersists(t *testing.T) {
	dir := t.TempDir()
	_, pub := newKey(t, dir, "k")
	hk := filepath.Join(dir, "state", "ssh_host_ed25519_key")
	newServer := func(path string) *Server {
		s, err := New(Config{AuthorizedKeysInline: pub, HostKeyPath: path, Reaper: testReaper})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := newServer(hk), newServer(hk)
	if a.HostKeyFingerprint() != b.HostKeyFingerprint() || !strings.HasPrefix(a.HostKeyFingerprint(), "SHA256:") {
		t.Fatalf("host key changed between starts: %s vs %s", a.HostKeyFingerprint(), b.HostKeyFingerprint())
	}
	fi, err := os.Stat(hk)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v, want 0600", fi.Mode().Perm())
	}
	if got := fingerprint(t, hk); got != a.HostKeyFingerprint() {
		t.Fatalf("ssh-keygen reads %s, server uses %s", got, a.HostKeyFingerprint())
	}
	// Negative control: another path gets another key.
	if c := newServer(filepath.Join(dir, "other_key")); c.HostKeyFingerprint() == a.HostKeyFingerprint() {
		t.Fatal("two paths, one key: the fingerprint check cannot fail")
	}
	// An unreadable key is an error naming the file, not a silent new key.
	bad := filepath.Join(dir, "bad_key")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := New(Config{AuthorizedKeysInline: pub, HostKeyPath: bad, Reaper: testReaper}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad host key: %v", err)
	}
}

func TestAuditLog(t *testing.T) {
	h := newHarness(t, nil)
	if r := h.ssh("", "auditor@127.0.0.1", "echo audited-command"); r.rc != 0 {
		t.Fatalf("ssh: %v", r)
	}
	fi, err := os.Stat(h.audit)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("audit.log mode %v, want 0600", fi.Mode().Perm())
	}
	var login, exec bool
	for _, ev := range readAudit(t, h.audit) {
		if ev["event"] == "login" && ev["fingerprint"] == h.fp && ev["user"] == "auditor" && strings.HasPrefix(ev["remote"].(string), "127.0.0.1:") {
			login = true
		}
		if ev["event"] == "exec" && ev["command"] == "echo audited-command" && ev["fingerprint"] == h.fp {
			exec = true
		}
	}
	if !login || !exec {
		t.Fatalf("audit log lacks login (%v) or exec (%v) with fingerprint %s", login, exec, h.fp)
	}
}

func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		events = append(events, ev)
	}
	return events
}

func TestUnauthenticatedLimits(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.MaxUnauthPerIP = 2
		c.HandshakeTimeout = 2 * time.Second
	})
	dial := func() (net.Conn, string) {
		c, err := net.Dial("tcp", "127.0.0.1:"+h.port)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line
	}
	a, va := dial()
	b, vb := dial()
	defer a.Close()
	defer b.Close()
	if !strings.HasPrefix(va, "SSH-2.0-holdfast") || !strings.HasPrefix(vb, "SSH-2.0-holdfast") {
		t.Fatalf("server version lines %q %q, want SSH-2.0-holdfast", va, vb)
	}
	c, vc := dial()
	c.Close()
	if vc != "" {
		t.Fatalf("third unauthenticated connection got %q, want it closed", vc)
	}
	// The two silent connections are cut by the handshake timeout, which
	// frees their slots (and is the negative control of the refusal).
	start := time.Now()
	buf := make([]byte, 4096)
	for {
		if _, err := a.Read(buf); err != nil {
			break
		}
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("silent connection closed after %v, want about 2s", d)
	}
	waitFor(t, 10*time.Second, "a free unauthenticated slot", func() bool {
		c, v := dial()
		c.Close()
		return strings.HasPrefix(v, "SSH-2.0-")
	})
	if r := h.ssh("", "127.0.0.1", "true"); r.rc != 0 {
		t.Fatalf("login after the limit cleared: %v", r)
	}
}
