package config

import (
	"fmt"
	"strings"

	"github.com/holdfast-dev/holdfast/internal/authkeys"
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

// checkInlineKeys parses the keys with the ssh server's own parser
// (internal/authkeys), so a mangled Secret fails at start (exit 2) rather
// than as a refused login later, and a line the server would refuse is
// refused here too. Blank lines and # comments are skipped as sshd does.
func checkInlineKeys(v string) error {
	entries, err := authkeys.Parse([]byte(v), "")
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("no key found")
	}
	return nil
}
