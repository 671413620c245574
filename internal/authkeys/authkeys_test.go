package authkeys

import (
	"crypto/ed25519"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func testKey(t testing.TB, seed byte) string {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	priv[0] ^= seed
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func TestParseLineOptions(t *testing.T) {
	k := testKey(t, 0)
	for _, tc := range []struct {
		line string
		want string // Entry.String(), or "error: <substring>"
	}{
		{k + " me@laptop", k + " me@laptop"},
		{"restrict,pty " + k, "no-port-forwarding " + k},
		{`cert-authority,principals="ops, dev" ` + k, `cert-authority,principals="ops,dev" ` + k},
		{`from="10.0.0.0/8,!10.1.2.3,192.168.*" ` + k, `from="10.0.0.0/8,!10.1.2.3,192.168.*" ` + k},
		{`FROM="::1" ` + k, `from="::1" ` + k},
		{`from=10.0.0.1 ` + k, "error: double quotes"},
		{`from="10.0.0.1/8" ` + k, "error: did you mean 10.0.0.0/8"},
		{`from="10.0.0.0/33" ` + k, "error: not a network"},
		{`from="a,,b" ` + k, "error: empty pattern"},
		{`from="" ` + k, "error: empty pattern list"},
		{`from="!" ` + k, "error: empty pattern"},
		{`from="1.2.3.4",from="5.6.7.8" ` + k, "error: twice"},
		{`principals="ops" ` + k, "error: only valid with cert-authority"},
		{`command="id" ` + k, `error: option "command" is not supported`},
		{`permitopen="localhost:80" ` + k, `error: not supported`},
		{`no-pty=1 ` + k, `error: not supported`},
		{`cert-authority,principals="a b" ` + k, "error: white space"},
		{"ssh-ed25519 AAAAnotbase64", "error: "},
		{k + " trailing\n" + k, "error: line break"},
	} {
		e, err := ParseLine(tc.line)
		if want, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ParseLine(%q) = %v, %v; want an error containing %q", tc.line, e, err, want)
			}
			continue
		}
		if err != nil || e.String() != tc.want {
			t.Errorf("ParseLine(%q) = %v, %v; want %q", tc.line, e, err, tc.want)
		}
	}
}

func TestParseNamesTheLine(t *testing.T) {
	k := testKey(t, 1)
	_, err := Parse([]byte("# keys\n\n"+k+"\nfrom=\"x y\" "+k+"\n"), "keys.txt")
	if err == nil || !strings.HasPrefix(err.Error(), "keys.txt line 4: option from:") {
		t.Errorf("Parse: %v, want an error naming keys.txt line 4", err)
	}
	es, err := Parse([]byte("# keys\n"+k+" a\n  \n"+k+" b\n"), "keys.txt")
	if err != nil || len(es) != 2 || es[0].Line != 2 || es[1].Line != 4 || es[1].Comment != "b" {
		t.Errorf("Parse: %v, %v; want lines 2 and 4", es, err)
	}
}

func TestPatternListMatch(t *testing.T) {
	for _, tc := range []struct {
		list string
		yes  []string
		no   []string
	}{
		{"10.0.0.0/8", []string{"10.1.2.3", "::ffff:10.0.0.1"}, []string{"11.0.0.1", "::1"}},
		{"10.0.0.0/8,!10.1.2.3", []string{"10.1.2.4"}, []string{"10.1.2.3", "192.168.0.1"}},
		{"!10.1.2.3,10.0.0.0/8", []string{"10.1.2.4"}, []string{"10.1.2.3"}},
		{"192.168.1.?", []string{"192.168.1.7"}, []string{"192.168.1.17", "192.168.10.1"}},
		{"192.168.*", []string{"192.168.1.17"}, []string{"10.192.168.1"}},
		{"*", []string{"1.2.3.4", "::1"}, nil},
		{"*,!127.0.0.1", []string{"127.0.0.2"}, []string{"127.0.0.1"}},
		{"::1,fd00::/8", []string{"::1", "fd12::5"}, []string{"fe80::1", "127.0.0.1"}},
		{"FD12::*", []string{"fd12::5"}, []string{"fd13::5"}},
		// Host names never match: holdfast does not resolve (sshd with UseDNS no).
		{"localhost,*.example.com", nil, []string{"127.0.0.1", "::1"}},
		{"!10.0.0.1", nil, []string{"10.0.0.1", "10.0.0.2"}}, // only negations: nothing matches
	} {
		l, err := ParsePatternList(tc.list)
		if err != nil {
			t.Fatalf("ParsePatternList(%q): %v", tc.list, err)
		}
		for _, a := range tc.yes {
			if !l.Match(netip.MustParseAddr(a)) {
				t.Errorf("from=%q does not match %s, want a match", tc.list, a)
			}
		}
		for _, a := range tc.no {
			if l.Match(netip.MustParseAddr(a)) {
				t.Errorf("from=%q matches %s, want none", tc.list, a)
			}
		}
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"", "", true}, {"*", "", true}, {"?", "", false}, {"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false}, {"*a", "bbba", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"**", "x", true}, {"*x*", strings.Repeat("y", 1000), false},
	} {
		if got := wildcard(tc.pat, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}
