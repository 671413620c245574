package config

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// keyTypePrefixes start every public key type sshd(8) accepts in
// authorized_keys: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256,
// sk-ssh-ed25519@openssh.com, and their -cert-v01 forms.
var keyTypePrefixes = []string{"ssh-", "ecdsa-", "sk-"}

// looksLikeInlineKeys tells keys from a path in HOLDFAST_SSH_AUTHORIZED_KEYS.
// A path has no newline and no word that starts like a key type; a key line
// has one, after any options (sshd(8) "AUTHORIZED_KEYS FILE FORMAT"), e.g.
// `cert-authority,principals="ops" ssh-ed25519 AAAA...`.
func looksLikeInlineKeys(v string) bool {
	if strings.Contains(v, "\n") {
		return true
	}
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "cert-authority") {
		return true
	}
	for _, w := range strings.Fields(t) {
		for _, p := range keyTypePrefixes {
			if strings.HasPrefix(w, p) {
				return true
			}
		}
	}
	return false
}

// checkInlineKeys parses every key line, so a mangled Secret fails at start
// (exit 2) rather than as a refused login later. Blank lines and # comments
// are skipped as sshd does.
func checkInlineKeys(v string) error {
	n := 0
	for i, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
			return fmt.Errorf("line %d %q: %w", i+1, shorten(line, 40), err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no key found")
	}
	return nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
