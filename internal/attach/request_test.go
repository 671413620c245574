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

func TestCheckHotSpot(t *testing.T) {
	line := func(path string) string {
		return "7f0000000000-7f0000001000 r-xp 00000000 fe:00 1234    " + path + "\n"
	}
	for _, tc := range []struct {
		maps string
		want error
	}{
		{line("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so") + line("[heap]"), nil},
		{line("/opt/java/openjdk/lib/default/libj9vm29.so") + line("/opt/java/openjdk/lib/server/libjvm.so"), ErrNotHotSpot},
		{line("/usr/bin/sleep") + line("/usr/lib/x86_64-linux-gnu/libc.so.6"), ErrNotJVM},
		{line("/tmp/not-libjvm.so.txt"), ErrNotJVM},
		{"", ErrNotJVM},
	} {
		err := checkHotSpot(1, []byte(tc.maps))
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%q: %v, want %v", tc.maps, err, tc.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tjava\nState:\tS (sleeping)\nPid:\t4242\nUid:\t1000\t1001\t1002\t1003\n" +
		"Gid:\t2000\t2001\t2002\t2003\nNSpid:\t4242\t17\t1\nSigCgt:\t2000000181005ccf\n"
	tg := &Target{PID: 4242}
	if err := tg.parseStatus([]byte(status)); err != nil {
		t.Fatal(err)
	}
	want := Target{PID: 4242, NSPid: 1, UID: 1001, GID: 2001, State: 'S', CatchesQuit: true}
	if *tg != want {
		t.Errorf("%+v, want %+v", *tg, want)
	}
	// SIGQUIT (3) is bit 2 of SigCgt.
	tg = &Target{PID: 1}
	if err := tg.parseStatus([]byte(strings.Replace(status, "2000000181005ccf", "2000000181005cc8", 1))); err != nil || tg.CatchesQuit {
		t.Errorf("SigCgt without bit 2: catches %v, %v", tg.CatchesQuit, err)
	}
	// No NSpid (a kernel before 4.1): the pid is the JVM's own.
	tg = &Target{PID: 4242}
	if err := tg.parseStatus([]byte(strings.Replace(status, "NSpid:\t4242\t17\t1\n", "", 1))); err != nil || tg.NSPid != 4242 {
		t.Errorf("without NSpid: %d, %v", tg.NSPid, err)
	}
	if err := (&Target{}).parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("a status without its fields parsed")
	}
}
