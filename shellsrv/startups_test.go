package shellsrv

import (
	"net"
	"testing"
	"time"
)

func pendingConn(ip string, since time.Time, read int64) *trackedConn {
	c := &trackedConn{ip: ip, since: since}
	c.read.Store(read)
	return c
}

func TestPendingPerAddressEvictsIdle(t *testing.T) {
	p := newPendingSet(MaxStartups{Start: 100, Rate: 30, Full: 200}, 2)
	t0 := time.Unix(1000, 0)
	old := pendingConn("127.0.0.1", t0, 0)
	talking := pendingConn("127.0.0.1", t0.Add(-time.Second), 40) // older, but it has sent bytes
	for _, c := range []*trackedConn{old, talking} {
		if ev, why := p.admit(c, t0); ev != nil || why != "" {
			t.Fatalf("admit under the limit: evicted %v, refused %q", ev, why)
		}
	}
	// Full address, everyone younger than evictAge: the new one is refused.
	if ev, why := p.admit(pendingConn("127.0.0.1", t0, 0), t0.Add(evictAge/4)); ev != nil || why == "" {
		t.Fatalf("full address, nothing old: evicted %v, refused %q; want refused", ev, why)
	}
	// Another address is not affected by this one's limit.
	if _, why := p.admit(pendingConn("127.0.0.2", t0, 0), t0); why != "" {
		t.Fatalf("another address refused: %q", why)
	}
	// Later, the silent connection gives way (before the older one that talks).
	ev, why := p.admit(pendingConn("127.0.0.1", t0, 0), t0.Add(evictAge))
	if why != "" || ev != old {
		t.Fatalf("full address after evictAge: evicted %v, refused %q; want the silent one evicted", ev, why)
	}
	if n := p.len(); n != 3 {
		t.Fatalf("%d pending, want 3", n)
	}
	p.remove(old) // its Close after eviction: no double count
	if n := p.len(); n != 3 || p.byIP["127.0.0.1"] != 2 {
		t.Fatalf("after the evicted one closed: %d pending, %d from 127.0.0.1; want 3 and 2", n, p.byIP["127.0.0.1"])
	}
}

func TestPendingMaxStartups(t *testing.T) {
	p := newPendingSet(MaxStartups{Start: 2, Rate: 50, Full: 4}, 100)
	t0 := time.Unix(1000, 0)
	roll := 0
	p.rand = func(int) int { return roll }
	for i := range 2 {
		if _, why := p.admit(pendingConn(net.IPv4(10, 0, 0, byte(i)).String(), t0, 0), t0); why != "" {
			t.Fatalf("below start: refused %q", why)
		}
	}
	if got := []int{p.dropPercent(2), p.dropPercent(3)}; got[0] != 50 || got[1] != 75 {
		t.Fatalf("drop percent at 2, 3 of 2:50:4 = %v, want [50 75] (sshd's line)", got)
	}
	roll = 49 // < 50: drop, and nothing is old enough to give way
	if _, why := p.admit(pendingConn("10.0.1.1", t0, 0), t0); why == "" {
		t.Fatal("random early drop: admitted, want refused")
	}
	roll = 50 // >= 50: admitted
	if _, why := p.admit(pendingConn("10.0.1.2", t0, 0), t0); why != "" {
		t.Fatalf("random early drop not drawn: refused %q", why)
	}
	roll = 99
	if _, why := p.admit(pendingConn("10.0.1.3", t0, 0), t0); why != "" {
		t.Fatalf("at 3 of full 4 with roll 99: refused %q", why)
	}
	if _, why := p.admit(pendingConn("10.0.1.4", t0, 0), t0); why == "" {
		t.Fatal("at full: admitted, want refused")
	}
	// At full, a connection pending for evictAge gives way to a new one.
	ev, why := p.admit(pendingConn("10.0.1.5", t0, 0), t0.Add(evictAge))
	if why != "" || ev == nil || p.len() != 4 {
		t.Fatalf("at full after evictAge: evicted %v, refused %q, %d pending; want one evicted and 4 pending", ev, why, p.len())
	}
}

// len is how many connections hold a pending slot.
func (p *pendingSet) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}
