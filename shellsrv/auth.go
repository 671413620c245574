package shellsrv

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	gliderssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// identity is who a connection authenticated as. It travels in the
// connection's final Permissions, which only VerifiedPublicKeyCallback
// writes: gliderlabs' PublicKeyHandler also runs for keys that are merely
// offered, and what it stores in the context can leak into the session
// (CVE-2024-45337 follow-up, gliderlabs/ssh#242).
type identity struct {
	login       string // the name the client logged in with; every name maps to the container user
	fingerprint string // "SHA256:..." of the user's key (the certified key, for a certificate)
	keyType     string
	certID      string // certificate key id, "" for a plain key
	certSerial  string
	caFP        string
	noPty       bool
	noForward   bool
}

// Permissions extension names. Clients never see them.
const (
	extLogin   = "holdfast-login"
	extFP      = "holdfast-fingerprint"
	extType    = "holdfast-key-type"
	extCertID  = "holdfast-cert-id"
	extSerial  = "holdfast-cert-serial"
	extCA      = "holdfast-ca"
	extNoPty   = "holdfast-no-pty"
	extNoFwd   = "holdfast-no-forward"
	extPresent = "1"
)

func (id *identity) permissions(critical map[string]string) *gossh.Permissions {
	ext := map[string]string{
		extLogin: id.login, extFP: id.fingerprint, extType: id.keyType,
		extCertID: id.certID, extSerial: id.certSerial, extCA: id.caFP,
	}
	if id.noPty {
		ext[extNoPty] = extPresent
	}
	if id.noForward {
		ext[extNoFwd] = extPresent
	}
	// x/crypto enforces the certificate's source-address critical option
	// on these final Permissions.
	return &gossh.Permissions{CriticalOptions: maps.Clone(critical), Extensions: ext}
}

// identityOf re-checks, at the start of every channel, that the connection
// was authenticated by us for the user it now names.
func identityOf(conn *gossh.ServerConn) (identity, bool) {
	if conn == nil || conn.Permissions == nil {
		return identity{}, false
	}
	ext := conn.Permissions.Extensions
	if ext[extFP] == "" || ext[extLogin] != conn.User() {
		return identity{}, false
	}
	return identity{
		login: ext[extLogin], fingerprint: ext[extFP], keyType: ext[extType],
		certID: ext[extCertID], certSerial: ext[extSerial], caFP: ext[extCA],
		noPty: ext[extNoPty] != "", noForward: ext[extNoFwd] != "",
	}, true
}

// authorize decides whether key may log in as user from remote. Plain keys
// must be listed on a line whose from= admits remote; certificates must be
// user certificates signed by such a cert-authority line, valid now, naming
// among their principals the account the login maps to, or one of the
// line's principals="..." (sshd(8) AUTHORIZED_KEYS). The name the client
// typed is not a principal: every name maps to one account.
func (s *Server) authorize(user string, remote netip.Addr, key gossh.PublicKey) (*identity, map[string]string, error) {
	ring, err := s.keys.current()
	if err != nil {
		return nil, nil, err
	}
	acct, _ := s.accountFor(user)
	cert, isCert := key.(*gossh.Certificate)
	if !isCert {
		e, err := find(ring.keys[string(key.Marshal())], remote)
		if err != nil {
			return nil, nil, err
		}
		return &identity{
			login: user, fingerprint: gossh.FingerprintSHA256(key), keyType: key.Type(),
			noPty: e.NoPty, noForward: e.NoPortForwarding,
		}, nil, nil
	}
	if cert.CertType != gossh.UserCert {
		return nil, nil, fmt.Errorf("certificate type %d is not a user certificate", cert.CertType)
	}
	lines := ring.cas[string(cert.SignatureKey.Marshal())]
	if len(lines) == 0 {
		return nil, nil, errors.New("certificate signed by an unknown authority")
	}
	ca, err := find(lines, remote)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate authority: %w", err)
	}
	principal := acct.Name
	if len(ca.Principals) > 0 {
		// The line's principals replace the account name (sshd(8)
		// "principals=").
		principal = ""
		for _, p := range ca.Principals {
			if slices.Contains(cert.ValidPrincipals, p) {
				principal = p
				break
			}
		}
		if principal == "" {
			return nil, nil, fmt.Errorf("certificate principals %q match none of %q (%s)", cert.ValidPrincipals, ca.Principals, ca.where)
		}
	} else if !slices.Contains(cert.ValidPrincipals, principal) {
		return nil, nil, fmt.Errorf("certificate principals %q do not include the account %q the login maps to", cert.ValidPrincipals, principal)
	}
	checker := gossh.CertChecker{
		// source-address is enforced by x/crypto on the Permissions we
		// return; every other critical option (force-command) is refused.
		SupportedCriticalOptions: []string{"source-address"},
		IsUserAuthority: func(auth gossh.PublicKey) bool {
			return bytes.Equal(auth.Marshal(), cert.SignatureKey.Marshal())
		},
	}
	// CheckCert verifies the CA signature, the validity window, the
	// principal (an empty principal list is refused) and critical options.
	if err := checker.CheckCert(principal, cert); err != nil {
		return nil, nil, err
	}
	_, permitPty := cert.Extensions["permit-pty"]
	_, permitFwd := cert.Extensions["permit-port-forwarding"]
	return &identity{
		login: user, fingerprint: gossh.FingerprintSHA256(cert.Key), keyType: cert.Type(),
		certID: cert.KeyId, certSerial: strconv.FormatUint(cert.Serial, 10),
		caFP:  gossh.FingerprintSHA256(cert.SignatureKey),
		noPty: ca.NoPty || !permitPty, noForward: ca.NoPortForwarding || !permitFwd,
	}, cert.CriticalOptions, nil
}

// publicKeyHandler answers key queries. gliderlabs passes only its context,
// whose User() is the first name the client tried; the authoritative check
// with the final name is verifiedKeyCallback.
// A refused key is recorded here, with its fingerprint and the reason:
// x/crypto asks once per key and login name on a connection.
func (s *Server) publicKeyHandler(ctx gliderssh.Context, key gliderssh.PublicKey) bool {
	_, _, err := s.authorize(ctx.User(), remoteAddr(ctx.RemoteAddr().String()), key)
	if err != nil {
		s.loginFailed(ctx.User(), "publickey", key, ctx.RemoteAddr().String(), err)
	}
	return err == nil
}

// loginFailed records one refused login attempt in the audit log.
func (s *Server) loginFailed(user, method string, key gossh.PublicKey, remote string, err error) {
	acct, _ := s.accountFor(user)
	ev := auditEvent{Event: "login-failed", User: user, Account: acct.Name, Method: method, Remote: remote, Reason: err.Error()}
	if key != nil {
		ev.KeyType = key.Type()
		ev.Fingerprint = gossh.FingerprintSHA256(key)
		if cert, ok := key.(*gossh.Certificate); ok {
			ev.Fingerprint = gossh.FingerprintSHA256(cert.Key)
			ev.CertID, ev.CertSerial = cert.KeyId, strconv.FormatUint(cert.Serial, 10)
			ev.CA = gossh.FingerprintSHA256(cert.SignatureKey)
		}
	}
	s.audit.recordFailure(ev)
}

var ctxKeyVerified = &struct{ name string }{"holdfast-verified"}

// verifiedKeyCallback runs only after the client proved it holds the key.
func (s *Server) verifiedKeyCallback(ctx gliderssh.Context) func(gossh.ConnMetadata, gossh.PublicKey, *gossh.Permissions, string) (*gossh.Permissions, error) {
	return func(conn gossh.ConnMetadata, key gossh.PublicKey, _ *gossh.Permissions, _ string) (*gossh.Permissions, error) {
		id, critical, err := s.authorize(conn.User(), remoteAddr(conn.RemoteAddr().String()), key)
		if err != nil {
			// The keys changed between the client's query and its
			// signature.
			s.loginFailed(conn.User(), "publickey", key, conn.RemoteAddr().String(), err)
			return nil, err
		}
		ctx.SetValue(ctxKeyVerified, id)
		return id.permissions(critical), nil
	}
}

// authLogCallback sees the final verdict of each attempt, after x/crypto's
// own checks (source-address), so a login is recorded only once it stands.
func (s *Server) authLogCallback(ctx gliderssh.Context) func(gossh.ConnMetadata, string, error) {
	return func(conn gossh.ConnMetadata, method string, err error) {
		if err != nil {
			// "none" is every client's first question, not an attempt;
			// publickey refusals by authorize are recorded where they
			// happen, with the key (gliderlabs turns them into "permission
			// denied"). What is left: password and keyboard-interactive,
			// and what x/crypto refuses itself (an ssh-rsa SHA-1
			// signature, a certificate's source-address).
			if method != "none" && !(method == "publickey" && err.Error() == "permission denied") {
				s.loginFailed(conn.User(), method, nil, conn.RemoteAddr().String(), err)
			}
			return
		}
		if tc, ok := ctx.Value(ctxKeyConn).(*trackedConn); ok {
			tc.authenticated()
		}
		id, _ := ctx.Value(ctxKeyVerified).(*identity)
		if id == nil {
			return
		}
		acct, _ := s.accountFor(id.login)
		s.audit.record(auditEvent{
			Event: "login", User: id.login, Account: acct.Name, Fingerprint: id.fingerprint, KeyType: id.keyType,
			CertID: id.certID, CertSerial: id.certSerial, CA: id.caFP, Remote: conn.RemoteAddr().String(),
			Session: shortID(conn.SessionID()),
		})
	}
}
