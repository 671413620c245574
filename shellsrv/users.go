package shellsrv

import (
	"errors"
	"os"
	"syscall"

	gossh "golang.org/x/crypto/ssh"
)

// sessionUser is an account sessions run as: its passwd entry, the
// credential to start its processes with (nil = holdfast's own), and its
// shell.
type sessionUser struct {
	acct  account
	cred  *syscall.Credential
	shell string
}

// setUsers decides what logins map to. With Credential (--user), every
// login is the app's user, with the app's uid, gid and supplementary
// groups; with AllowRoot too, a login as holdfast's own account (root)
// stays holdfast's uid. Without Credential, every login is holdfast's own
// uid, as the app is.
func (s *Server) setUsers() error {
	path := envValue(s.appEnv(), "PATH")
	own := &sessionUser{acct: lookupAccount(os.Getuid())}
	own.shell = chooseShell(own.acct.Shell, path)
	s.user = own
	// The same uid without root (the non-root image: holdfast and the app
	// share one user) changes nothing and could not: setgroups needs root.
	if c := s.cfg.Credential; c != nil && !sameUser(c) {
		cred := *c
		cred.Groups = append([]uint32(nil), c.Groups...)
		app := &sessionUser{acct: lookupAccount(int(c.Uid)), cred: &cred}
		app.shell = chooseShell(app.acct.Shell, path)
		s.user = app
		if s.cfg.AllowRoot && int(c.Uid) != os.Getuid() {
			s.root = own
		}
	}
	if s.user.shell == "" || (s.root != nil && s.root.shell == "") {
		return errors.New("cannot start ssh server: no shell found (looked for the passwd shell, bash, sh)")
	}
	return nil
}

func sameUser(c *syscall.Credential) bool {
	if int(c.Uid) != os.Getuid() {
		return false
	}
	return os.Getuid() != 0 || (int(c.Gid) == os.Getgid() && len(c.Groups) == 0)
}

// accountFor is the account a login name maps to.
func (s *Server) accountFor(login string) (account, *sessionUser) {
	if s.root != nil && login == s.root.acct.Name {
		return s.root.acct, s.root
	}
	return s.user.acct, s.user
}

// algorithms are OpenSSH 9's defaults that x/crypto implements, without
// SHA-1 (as OpenSSH 8.8 dropped ssh-rsa signatures): no
// diffie-hellman-group14-sha1, no hmac-sha1, no ssh-rsa (SHA-1) signatures
// on user keys. RSA keys still log in with rsa-sha2-256 and rsa-sha2-512.
// The host key is ed25519.
var algorithms = struct {
	gossh.Config
	PublicKeyAuths []string
}{
	Config: gossh.Config{
		KeyExchanges: []string{
			gossh.KeyExchangeMLKEM768X25519, gossh.KeyExchangeCurve25519,
			gossh.KeyExchangeECDHP256, gossh.KeyExchangeECDHP384, gossh.KeyExchangeECDHP521,
			gossh.KeyExchangeDHGEXSHA256, gossh.KeyExchangeDH16SHA512, gossh.KeyExchangeDH14SHA256,
		},
		Ciphers: []string{
			gossh.CipherChaCha20Poly1305, gossh.CipherAES128CTR, gossh.CipherAES192CTR, gossh.CipherAES256CTR,
			gossh.CipherAES128GCM, gossh.CipherAES256GCM,
		},
		MACs: []string{gossh.HMACSHA256ETM, gossh.HMACSHA512ETM, gossh.HMACSHA256, gossh.HMACSHA512},
	},
	PublicKeyAuths: []string{
		gossh.KeyAlgoED25519, gossh.KeyAlgoSKED25519, gossh.KeyAlgoSKECDSA256,
		gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521,
		gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSASHA512,
	},
}
