package shellsrv

import (
	"errors"
	"fmt"
	"maps"
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

// authorize decides whether key may log in as user. Plain keys must be
// listed; certificates must be user certificates signed by a
// cert-authority line, valid now, with the login name (or one of the line's
// principals="...") among their principals (sshd(8) AUTHORIZED_KEYS).
func (s *Server) authorize(user string, key gossh.PublicKey) (*identity, map[string]string, error) {
	ring := s.keys.current()
	cert, isCert := key.(*gossh.Certificate)
	if !isCert {
		e := ring.keys[string(key.Marshal())]
		if e == nil {
			return nil, nil, errors.New("key not authorized")
		}
		return &identity{
			login: user, fingerprint: gossh.FingerprintSHA256(key), keyType: key.Type(),
			noPty: e.noPty, noForward: e.noForward,
		}, nil, nil
	}
	if cert.CertType != gossh.UserCert {
		return nil, nil, fmt.Errorf("certificate type %d is not a user certificate", cert.CertType)
	}
	ca := ring.cas[string(cert.SignatureKey.Marshal())]
	if ca == nil {
		return nil, nil, errors.New("certificate signed by an unknown authority")
	}
	principal := user
	if len(ca.principals) > 0 {
		// The line's principals replace the login name (sshd(8)
		// "principals=").
		principal = ""
		for _, p := range ca.principals {
			if slices.Contains(cert.ValidPrincipals, p) {
				principal = p
				break
			}
		}
		if principal == "" {
			return nil, nil, fmt.Errorf("certificate principals %q match none of %q (%s)", cert.ValidPrincipals, ca.principals, ca.where)
		}
	}
	checker := gossh.CertChecker{
		// source-address is enforced by x/crypto on the Permissions we
		// return; every other critical option (force-command) is refused.
		SupportedCriticalOptions: []string{"source-address"},
		IsUserAuthority:          func(auth gossh.PublicKey) bool { return ring.cas[string(auth.Marshal())] != nil },
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
		noPty: ca.noPty || !permitPty, noForward: ca.noForward || !permitFwd,
	}, cert.CriticalOptions, nil
}

// publicKeyHandler answers key queries. gliderlabs passes only its context,
// whose User() is the first name the client tried; the authoritative check
// with the final name is verifiedKeyCallback.
func (s *Server) publicKeyHandler(ctx gliderssh.Context, key gliderssh.PublicKey) bool {
	_, _, err := s.authorize(ctx.User(), key)
	if err != nil {
		s.log.Debug("ssh key refused", "user", ctx.User(), "remote", ctx.RemoteAddr().String(), "key", gossh.FingerprintSHA256(key), "err", err)
	}
	return err == nil
}

var ctxKeyVerified = &struct{ name string }{"holdfast-verified"}

// verifiedKeyCallback runs only after the client proved it holds the key.
func (s *Server) verifiedKeyCallback(ctx gliderssh.Context) func(gossh.ConnMetadata, gossh.PublicKey, *gossh.Permissions, string) (*gossh.Permissions, error) {
	return func(conn gossh.ConnMetadata, key gossh.PublicKey, _ *gossh.Permissions, _ string) (*gossh.Permissions, error) {
		id, critical, err := s.authorize(conn.User(), key)
		if err != nil {
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
			if method != "none" {
				s.log.Debug("ssh auth attempt failed", "user", conn.User(), "method", method, "remote", conn.RemoteAddr().String(), "err", err)
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
		s.audit.record(auditEvent{
			Event: "login", User: id.login, Account: s.acct.Name, Fingerprint: id.fingerprint, KeyType: id.keyType,
			CertID: id.certID, CertSerial: id.certSerial, CA: id.caFP, Remote: conn.RemoteAddr().String(),
			Session: shortID(conn.SessionID()),
		})
	}
}
