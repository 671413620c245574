package shellsrv

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

const forwardDialTimeout = 10 * time.Second

// directTCPIP is the "direct-tcpip" channel payload, RFC 4254 7.2.
type directTCPIP struct {
	DestAddr   string
	DestPort   uint32
	OriginAddr string
	OriginPort uint32
}

// handleDirectTCPIP serves ssh -L and -W to loopback only: to reach the
// app's own ports (JMX, actuator, a debugger) without exposing them. Any
// other destination is refused before anything is dialled or resolved.
func (s *Server) handleDirectTCPIP(_ *gliderssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx gliderssh.Context) {
	s.channels.Add()
	defer s.channels.Done()
	id, ok := identityOf(conn)
	if !ok {
		_ = nc.Reject(gossh.Prohibited, "not authenticated")
		return
	}
	var d directTCPIP
	if err := gossh.Unmarshal(nc.ExtraData(), &d); err != nil {
		_ = nc.Reject(gossh.ConnectionFailed, "cannot parse direct-tcpip request")
		return
	}
	dest := net.JoinHostPort(d.DestAddr, strconv.FormatUint(uint64(d.DestPort), 10))
	if id.noForward {
		s.log.Info("ssh forward refused: not permitted for this key", "user", id.login, "dest", dest)
		_ = nc.Reject(gossh.Prohibited, "port forwarding is not permitted for this key")
		return
	}
	hosts, ok := loopbackHosts(d.DestAddr)
	if !ok || d.DestPort == 0 || d.DestPort > 65535 {
		s.log.Warn("ssh forward refused: not a loopback destination", "user", id.login, "dest", dest)
		_ = nc.Reject(gossh.Prohibited, "holdfast forwards to loopback only (127.0.0.0/8, ::1, localhost)")
		return
	}
	acct, _ := s.accountFor(id.login)
	s.audit.record(auditEvent{
		Event: "forward", User: id.login, Account: acct.Name, Fingerprint: id.fingerprint,
		Remote: conn.RemoteAddr().String(), Session: shortID(conn.SessionID()), Dest: dest,
	})
	dialer := net.Dialer{Timeout: forwardDialTimeout}
	var c net.Conn
	var err error
	for _, h := range hosts {
		if c, err = dialer.DialContext(ctx, "tcp", net.JoinHostPort(h, strconv.FormatUint(uint64(d.DestPort), 10))); err == nil {
			break
		}
	}
	if err != nil {
		_ = nc.Reject(gossh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		_ = c.Close()
		return
	}
	go func() {
		gossh.DiscardRequests(reqs) // returns when the channel is closed
		_ = c.Close()
	}()
	pipe(ch, c)
}

// pipe copies both ways, passing each side's EOF on as a half-close.
func pipe(ch gossh.Channel, c net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(c, ch)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(ch, c)
		_ = ch.CloseWrite()
	}()
	wg.Wait()
	_ = ch.Close()
	_ = c.Close()
}

// loopbackHosts returns the addresses to dial for a loopback destination,
// and false for anything else. Names other than localhost are refused
// rather than resolved: resolving could be steered elsewhere.
func loopbackHosts(dest string) ([]string, bool) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(dest)), ".")
	if h == "localhost" {
		return []string{"127.0.0.1", "::1"}, true
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	addr, err := netip.ParseAddr(h)
	if err != nil {
		return nil, false
	}
	addr = addr.Unmap().WithZone("")
	if !addr.IsLoopback() {
		return nil, false
	}
	return []string{addr.String()}, true
}
