package hfrun

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
)

// Test ports come from below the kernel's ephemeral range (Linux's
// ip_local_port_range starts at 32768): a port found by binding :0 and
// closing it can be taken, before the process under test binds it, by any
// parallel test's outgoing connection, which draws its local port from the
// ephemeral range ("bind: address already in use", seen in CI). Each test
// binary starts at its own offset so concurrent binaries rarely meet, and a
// port is never handed out twice in one binary.
const (
	testPortLow  = 20000
	testPortHigh = 32000
)

var nextTestPort atomic.Int32

func init() {
	nextTestPort.Store(int32(testPortLow + (os.Getpid()%120)*100))
}

// Port returns a loopback TCP port that is free now and outside the
// ephemeral range.
func Port(t testing.TB) int {
	t.Helper()
	for range testPortHigh - testPortLow {
		p := int(nextTestPort.Add(1))
		if p >= testPortHigh {
			nextTestPort.CompareAndSwap(int32(p), testPortLow)
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatalf("no free loopback port in %d-%d", testPortLow, testPortHigh)
	return 0
}

// Addr is Port as a "127.0.0.1:N" address.
func Addr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", Port(t))
}
