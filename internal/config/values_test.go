package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"maps"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "1048576": 1 << 20, "512KiB": 512 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30,
		"4K": 4096, "64M": 64 << 20, "1G": 1 << 30, "64mb": 64 << 20, "2Gi": 2 << 30, "8192B": 8192, " 1M ": 1 << 20,
		"8589934591G": 8589934591 << 30,
	} {
		got, err := parseSize(in, 4096)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K", "1.5G", "1T", "1 M", "0x10", "-4096", "+4096", "4095", "3K", "8589934592G", "99999999999999999999"} {
		if got, err := parseSize(in, 4096); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseSignalMap(t *testing.T) {
	type m = map[syscall.Signal]syscall.Signal
	for in, want := range map[string]m{
		"":                          {},
		" ":                         {},
		"TERM:QUIT":                 {syscall.SIGTERM: syscall.SIGQUIT},
		"SIGTERM:SIGQUIT, hup:usr1": {syscall.SIGTERM: syscall.SIGQUIT, syscall.SIGHUP: syscall.SIGUSR1},
		"15:3":                      {syscall.SIGTERM: syscall.SIGQUIT},
		"TERM:KILL":                 {syscall.SIGTERM: syscall.SIGKILL},
		"INT:INT":                   {syscall.SIGINT: syscall.SIGINT},
		"64:1":                      {syscall.Signal(64): syscall.SIGHUP}, // SIGRTMAX
	} {
		got, err := parseSignalMap(in)
		if err != nil || !maps.Equal(got, want) || got == nil {
			t.Errorf("parseSignalMap(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"TERM", "TERM:", ":QUIT", "TERM:QUIT:HUP", "TERM:QUIT,,HUP:USR1", "9:TERM", "URG:TERM", "TERM:QUIT,term:HUP", "65:1"} {
		if got, err := parseSignalMap(in); err == nil {
			t.Errorf("parseSignalMap(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseAddrAndURL(t *testing.T) {
	for _, ok := range []string{"", ":8558", "0.0.0.0:0", "127.0.0.1:65535", "[::1]:22", "localhost:80"} {
		if _, err := parseAddr(ok); err != nil {
			t.Errorf("parseAddr(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"8558", ":", ":-1", ":65536", ":+80", "::1:22", "host", ":ssh"} {
		if _, err := parseAddr(bad); err == nil {
			t.Errorf("parseAddr(%q): no error", bad)
		}
	}
	for _, ok := range []string{"", "http://h/", "HTTPS://h:8443/ready?x=1", "http://[::1]:80"} {
		if _, err := parseURL(ok); err != nil {
			t.Errorf("parseURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"h/ready", "/ready", "ftp://h/", "http://", "http://:80/", "http://h:x/", "://h"} {
		if _, err := parseURL(bad); err == nil {
			t.Errorf("parseURL(%q): no error", bad)
		}
	}
}

func newAuthorizedKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

func TestLooksLikeInlineKeys(t *testing.T) {
	for v, want := range map[string]bool{
		"/etc/holdfast/authorized_keys":                   false,
		"/run/secrets/ssh-keys":                           false,
		"keys":                                            false,
		"ssh-ed25519 AAAA me@host":                        true,
		"  ecdsa-sha2-nistp256 AAAA":                      true,
		"sk-ssh-ed25519@openssh.com AAAA":                 true,
		`cert-authority,principals="ops" ssh-ed25519 AAA`: true,
		`no-pty,command="echo hi" ssh-rsa AAAA`:           true,
		"/a/file\n":                                       true,
	} {
		if got := looksLikeInlineKeys(v); got != want {
			t.Errorf("looksLikeInlineKeys(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestInlineAuthorizedKeys(t *testing.T) {
	k1, k2 := newAuthorizedKey(t), newAuthorizedKey(t)
	for _, v := range []string{
		k1,
		k1 + "\n" + k2 + "\n",
		"# ops team\n\n" + k1 + "\n",
		`no-pty,from="10.0.0.0/8,!10.1.2.3" ` + k1,
		"cert-authority " + k2,
	} {
		c := mustParse(t, []string{"app"}, map[string]string{"HOLDFAST_SSH_AUTHORIZED_KEYS": v})
		if c.SSHAuthorizedKeysInline != v || c.SSHAuthorizedKeysFile != "/etc/holdfast/authorized_keys" {
			t.Errorf("%q: inline %q, file %q", v, c.SSHAuthorizedKeysInline, c.SSHAuthorizedKeysFile)
		}
		// The flag wins over its twin, whatever form the twin has.
		c = mustParse(t, []string{"--ssh-authorized-keys", "/k", "app"}, map[string]string{"HOLDFAST_SSH_AUTHORIZED_KEYS": v})
		if c.SSHAuthorizedKeysInline != "" || c.SSHAuthorizedKeysFile != "/k" {
			t.Errorf("flag over %q: inline %q, file %q", v, c.SSHAuthorizedKeysInline, c.SSHAuthorizedKeysFile)
		}
	}
	c := mustParse(t, []string{"app"}, map[string]string{"HOLDFAST_SSH_AUTHORIZED_KEYS": "/run/secrets/keys"})
	if c.SSHAuthorizedKeysInline != "" || c.SSHAuthorizedKeysFile != "/run/secrets/keys" {
		t.Errorf("path twin: inline %q, file %q", c.SSHAuthorizedKeysInline, c.SSHAuthorizedKeysFile)
	}
	for v, want := range map[string]string{
		"ssh-ed25519 AAAAnotbase64": "line 1",
		k1 + "\nssh-rsa broken":     "line 2",
		"# only a comment\n\n":      "no key found",
		k1[:len(k1)-4] + "\n" + k2:  "line 1",
		// What the ssh server refuses is refused here too (one parser).
		k1 + "\n" + `no-pty,command="uptime" ` + k2: `line 2: option "command" is not supported`,
		`from="10.0.0.1/8" ` + k1:                   "did you mean 10.0.0.0/8",
	} {
		msg := usageError(t, []string{"app"}, map[string]string{"HOLDFAST_SSH_AUTHORIZED_KEYS": v})
		if !strings.Contains(msg, "HOLDFAST_SSH_AUTHORIZED_KEYS") || !strings.Contains(msg, want) {
			t.Errorf("%q: %q does not name the variable and %q", v, msg, want)
		}
	}
}
