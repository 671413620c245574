package shellsrv

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// MaxStartups is sshd_config(5)'s MaxStartups start:rate:full for the
// connections that have not authenticated yet: from Start pending on, a new
// one is dropped with a probability of Rate percent, rising linearly to 100
// at Full.
type MaxStartups struct {
	Start, Rate, Full int
}

// DefaultMaxStartups is sshd's default.
var DefaultMaxStartups = MaxStartups{Start: 10, Rate: 30, Full: 100}

// evictAge is how long a connection must have been pending before a new
// one may take its place. A real login over loopback authenticates within a
// fraction of a second; a connection that has sat silent this long is more
// likely one of many idle ones (a port scanner, a stuck kubectl
// port-forward) than a person.
const evictAge = 2 * time.Second

// pendingSet is every connection that has not authenticated yet. The drop
// decisions are sshd's, with one difference: where sshd always drops the
// new connection, holdfast first looks for a pending one at least evictAge
// old, preferring those that have sent nothing, and closes that instead. So
// idle connections, from one address (every kubectl port-forward user is
// 127.0.0.1) or from many, cannot keep a real login out; a flood of new
// ones still can, for as long as it lasts, as with sshd.
type pendingSet struct {
	limits MaxStartups
	perIP  int

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
	byIP  map[string]int
	rand  func(n int) int
}

func newPendingSet(limits MaxStartups, perIP int) *pendingSet {
	return &pendingSet{limits: limits, perIP: perIP, conns: map[*trackedConn]struct{}{}, byIP: map[string]int{}, rand: rand.IntN}
}

// admit adds c, or says why not. A connection it evicts to make room is
// returned for the caller to close outside the lock.
func (p *pendingSet) admit(c *trackedConn, now time.Time) (evicted *trackedConn, refused string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	switch {
	case p.byIP[c.ip] >= p.perIP:
		if evicted = p.victim(now, c.ip); evicted == nil {
			return nil, "too many unauthenticated connections from this address"
		}
	case n >= p.limits.Full:
		if evicted = p.victim(now, ""); evicted == nil {
			return nil, "too many unauthenticated connections (MaxStartups full)"
		}
	case n >= p.limits.Start && p.rand(100) < p.dropPercent(n):
		if evicted = p.victim(now, ""); evicted == nil {
			return nil, "too many unauthenticated connections (MaxStartups random early drop)"
		}
	}
	if evicted != nil {
		p.removeLocked(evicted)
	}
	p.conns[c] = struct{}{}
	p.byIP[c.ip]++
	return evicted, ""
}

// dropPercent is sshd's drop probability at n pending (sshd.c drop_connection).
func (p *pendingSet) dropPercent(n int) int {
	l := p.limits
	if l.Full <= l.Start {
		return 100
	}
	return l.Rate + (100-l.Rate)*(n-l.Start)/(l.Full-l.Start)
}

// victim is the pending connection (from ip, if not "") to close for a new
// one: pending at least evictAge, silent ones first, then the oldest.
func (p *pendingSet) victim(now time.Time, ip string) *trackedConn {
	var best *trackedConn
	for c := range p.conns {
		if (ip != "" && c.ip != ip) || now.Sub(c.since) < evictAge {
			continue
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	return best
}

func better(a, b *trackedConn) bool {
	aSilent, bSilent := a.read.Load() == 0, b.read.Load() == 0
	if aSilent != bSilent {
		return aSilent
	}
	return a.since.Before(b.since)
}

// remove drops c; it reports whether c was still there (an evicted
// connection was removed when it was chosen).
func (p *pendingSet) remove(c *trackedConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(c)
}

func (p *pendingSet) removeLocked(c *trackedConn) {
	if _, ok := p.conns[c]; !ok {
		return
	}
	delete(p.conns, c)
	if p.byIP[c.ip]--; p.byIP[c.ip] <= 0 {
		delete(p.byIP, c.ip)
	}
}

// trackedConn holds one pending slot until authentication succeeds or the
// connection closes.
type trackedConn struct {
	net.Conn
	srv    *Server
	ip     string
	since  time.Time
	read   atomic.Int64 // bytes received, to tell silent connections apart
	timer  *time.Timer
	once   sync.Once
	authed atomic.Bool
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.authed.Load() {
		c.read.Add(int64(n))
	}
	return n, err
}

func (c *trackedConn) release() {
	c.once.Do(func() {
		c.timer.Stop()
		c.srv.pending.remove(c)
	})
}

func (c *trackedConn) authenticated() {
	c.authed.Store(true)
	c.release()
}

func (c *trackedConn) Close() error {
	c.release()
	return c.Conn.Close()
}

func (c *trackedConn) handshakeExpired() {
	if c.authed.Load() {
		return
	}
	c.srv.log.Info("ssh connection closed: not authenticated in time", "remote", c.RemoteAddr().String(), "timeout", c.srv.hsTime)
	_ = c.Conn.Close()
}
