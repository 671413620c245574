package authkeys

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseLine: no line makes the parser panic, and every accepted line
// formats (Entry.String) into a line that parses back to an equal entry
// whose from= list decides every address the same way.
//
// Run longer with: go test ./internal/authkeys -run '^$' -fuzz FuzzParseLine -fuzztime 10m
func FuzzParseLine(f *testing.F) {
	k := testKey(f, 2)
	for _, s := range []string{
		k, k + " me@laptop", "restrict,pty " + k, `cert-authority,principals="ops,dev" ` + k,
		`from="10.0.0.0/8,!10.1.2.3,192.168.*,::1" ` + k, `from="*" no-pty ` + k,
		`from="fd00::/8,!fd00::1" ` + k, `principals="x\"y" cert-authority ` + k,
		`command="id" ` + k, `from="10.0.0.1/8" ` + k, `"` + k,
	} {
		f.Add(s)
	}
	addrs := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.168.0.1"),
		netip.MustParseAddr("::1"), netip.MustParseAddr("fd00::1"), netip.MustParseAddr("::ffff:10.0.0.1"),
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseLine(line)
		if err != nil {
			return
		}
		again, err := ParseLine(e.String())
		if err != nil {
			t.Fatalf("ParseLine(%q) ok, but its String %q does not parse: %v", line, e.String(), err)
		}
		if again.String() != e.String() || !reflect.DeepEqual(again.Key.Marshal(), e.Key.Marshal()) ||
			!reflect.DeepEqual(again.Principals, e.Principals) || again.CertAuthority != e.CertAuthority ||
			again.NoPty != e.NoPty || again.NoPortForwarding != e.NoPortForwarding || again.Comment != e.Comment {
			t.Fatalf("round trip of %q: %q != %q", line, again, e)
		}
		if (e.From == nil) != (again.From == nil) {
			t.Fatalf("round trip of %q lost or made up from=", line)
		}
		if e.From != nil {
			for _, a := range addrs {
				if e.From.Match(a) != again.From.Match(a) {
					t.Fatalf("from=%q and its round trip disagree on %s", e.From, a)
				}
				// A negated entry that matches the address wins over any other.
				for _, p := range e.From.entries {
					if p.negated && !p.network.IsValid() && wildcard(strings.ToLower(p.text), a.Unmap().String()) && e.From.Match(a) {
						t.Fatalf("from=%q matches %s, which its !%s excludes", e.From, a, p.text)
					}
				}
			}
		}
	})
}

// FuzzPatternList: no from= value makes the parser or matcher panic, and a
// list and its String agree on every address.
func FuzzPatternList(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8,!10.1.2.3", "*", "192.168.1.?", "::1,fd00::/8", "!*", "a,,b", "1.2.3.4/40"} {
		f.Add(s, []byte{127, 0, 0, 1})
	}
	f.Fuzz(func(t *testing.T, list string, raw []byte) {
		l, err := ParsePatternList(list)
		if err != nil {
			return
		}
		again, err := ParsePatternList(l.String())
		if err != nil || again.String() != l.String() {
			t.Fatalf("ParsePatternList(%q).String() = %q does not parse back: %v", list, l.String(), err)
		}
		a, ok := netip.AddrFromSlice(raw)
		if !ok {
			return
		}
		if l.Match(a) != again.Match(a) {
			t.Fatalf("%q and its round trip disagree on %s", list, a)
		}
	})
}
