package attach

import (
	"bufio"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Jcmd("Thread.print -l"), "1\x00jcmd\x00Thread.print -l\x00\x00\x00"},
		{ThreadDump(false), "1\x00threaddump\x00\x00\x00\x00"},
		{HeapDump("/tmp/h.hprof", true), "1\x00dumpheap\x00/tmp/h.hprof\x00-live\x00\x00"},
		{ClassHistogram(false), "1\x00inspectheap\x00-all\x00\x00\x00"},
	} {
		if got := string(tc.req.encode()); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.req, got, tc.want)
		}
	}
}

func TestReadStatus(t *testing.T) {
	for _, tc := range []struct {
		in     string
		status int
		err    string
	}{
		{"0\nout", 0, ""},
		{"-1\njava.lang.IllegalArgumentException", -1, ""},
		{"101\n", 101, ""},
		{"", 0, errNoStatus.Error()},
		{"0", 0, "EOF"},
		{"zero\n", 0, "not a number"},
		{strings.Repeat("1", 40) + "\n", 0, "longer than"},
	} {
		got, err := readStatus(bufio.NewReader(strings.NewReader(tc.in)))
		switch {
		case tc.err == "" && (err != nil || got != tc.status):
			t.Errorf("%q: %d, %v; want %d", tc.in, got, err, tc.status)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
}

// perfFile builds an hsperfdata image with string counters, in the byte
// order given.
func perfFile(order binary.ByteOrder, counters map[string]string) []byte {
	b := make([]byte, perfPrologueSize)
	binary.BigEndian.PutUint32(b, perfMagic)
	if order == binary.LittleEndian {
		b[4] = 1
	}
	order.PutUint32(b[24:], perfPrologueSize)
	order.PutUint32(b[28:], uint32(len(counters)))
	for name, value := range counters {
		e := make([]byte, perfEntrySize)
		nameOff := perfEntrySize
		dataOff := nameOff + len(name) + 1
		vec := len(value) + 1
		length := (dataOff + vec + 7) &^ 7
		order.PutUint32(e[0:], uint32(length))
		order.PutUint32(e[4:], uint32(nameOff))
		order.PutUint32(e[8:], uint32(vec))
		e[12] = perfTypeByte
		order.PutUint32(e[16:], uint32(dataOff))
		e = append(e, name...)
		e = append(e, 0)
		e = append(e, value...)
		e = append(e, make([]byte, length-len(e))...)
		b = append(b, e...)
	}
	order.PutUint32(b[8:], uint32(len(b)))
	return b
}

func TestPerfString(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b := perfFile(order, map[string]string{"sun.rt.jvmCapabilities": "1000"})
		if got, err := perfString(b, "sun.rt.jvmCapabilities"); err != nil || got != "1000" {
			t.Errorf("%v: %q, %v", order, got, err)
		}
		if _, err := perfString(b, "java.property.nope"); err == nil {
			t.Errorf("%v: a missing counter found", order)
		}
		// Truncated or corrupt files are errors, never a panic.
		for n := 0; n < len(b); n++ {
			perfString(b[:n], "sun.rt.jvmCapabilities")
		}
		bad := append([]byte(nil), b...)
		order.PutUint32(bad[perfPrologueSize:], 1<<31)
		if _, err := perfString(bad, "sun.rt.jvmCapabilities"); !errors.Is(err, errPerfFormat) {
			t.Errorf("%v: a corrupt entry length: %v", order, err)
		}
	}
	if _, err := perfString([]byte("not perfdata at all, not at all"), "x"); !errors.Is(err, errPerfFormat) {
		t.Errorf("garbage: %v", err)
	}
}

func TestDisabledByFlags(t *testing.T) {
	nul := func(s ...string) []byte { return []byte(strings.Join(s, "\x00")) }
	for _, tc := range []struct {
		cmdline, environ []byte
		want             bool
	}{
		{nul("java", "-jar", "app.jar"), nul("PATH=/bin"), false},
		{nul("java", "-XX:+DisableAttachMechanism", "-jar", "app.jar"), nil, true},
		{nul("java", "-XX:+DisableAttachMechanism", "-XX:-DisableAttachMechanism"), nil, false},
		{nul("java", "-jar", "app.jar"), nul("JAVA_TOOL_OPTIONS=-Xmx1g -XX:+DisableAttachMechanism"), true},
		// The command line comes after JAVA_TOOL_OPTIONS, _JAVA_OPTIONS
		// after the command line.
		{nul("java", "-XX:-DisableAttachMechanism"), nul("JAVA_TOOL_OPTIONS=-XX:+DisableAttachMechanism"), false},
		{nul("java", "-XX:-DisableAttachMechanism"), nul("_JAVA_OPTIONS=-XX:+DisableAttachMechanism"), true},
		// An application argument that merely names the flag.
		{nul("java", "-jar", "app.jar", "--note=-XX:+DisableAttachMechanism"), nil, false},
	} {
		if got := disabledByFlags(tc.cmdline, tc.environ); got != tc.want {
			t.Errorf("%q %q: %v, want %v", tc.cmdline, tc.environ, got, tc.want)
		}
	}
}
