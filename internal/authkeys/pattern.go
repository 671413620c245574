package authkeys

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// PatternList is the value of from="...": a comma-separated list of
// patterns, each an address with the wildcards * and ?, a CIDR network
// (10.0.0.0/8, fd00::/8), or a host name pattern, and each negated by a
// leading !. As in sshd (match_host_and_ip, with UseDNS no), a client
// matches the list when some pattern matches its address and no negated
// one does. Host name patterns are matched against the address text only:
// holdfast never resolves names, so "*.example.com" matches no client.
type PatternList struct {
	entries []pattern
}

type pattern struct {
	negated bool
	text    string       // as written, without the "!"
	network netip.Prefix // valid for a CIDR entry
}

// ParsePatternList parses a from= value (without its quotes). Unlike sshd,
// which treats a broken entry as one that never matches, it refuses empty
// entries, white space, and a CIDR entry that does not parse or has bits
// set past its mask ("10.0.0.1/8"), which sshd rejects at login time.
func ParsePatternList(s string) (*PatternList, error) {
	if s == "" {
		return nil, errors.New("empty pattern list")
	}
	l := &PatternList{}
	for _, raw := range strings.Split(s, ",") {
		p := pattern{text: raw}
		if t, ok := strings.CutPrefix(raw, "!"); ok {
			p.negated, p.text = true, t
		}
		if p.text == "" {
			return nil, fmt.Errorf("empty pattern in %q", s)
		}
		for _, r := range p.text {
			if unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\\' || r == '!' {
				return nil, fmt.Errorf("pattern %q: white space, control characters, quotes, backslashes and a ! inside are not allowed", raw)
			}
		}
		if strings.Contains(p.text, "/") {
			n, err := netip.ParsePrefix(p.text)
			if err != nil {
				return nil, fmt.Errorf("pattern %q is not a network address/bits: %w", raw, err)
			}
			if n.Masked() != n {
				return nil, fmt.Errorf("pattern %q has bits set past its /%d mask (did you mean %s?)", raw, n.Bits(), n.Masked())
			}
			p.network = n
		}
		l.entries = append(l.entries, p)
	}
	return l, nil
}

// Match reports whether a client at addr may use the line.
func (l *PatternList) Match(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	text := addr.String()
	matched := false
	for _, p := range l.entries {
		var m bool
		if p.network.IsValid() {
			m = p.network.Contains(addr)
		} else {
			m = wildcard(strings.ToLower(p.text), text)
		}
		if m && p.negated {
			return false
		}
		matched = matched || m
	}
	return matched
}

// String is the list as from= takes it.
func (l *PatternList) String() string {
	parts := make([]string, len(l.entries))
	for i, p := range l.entries {
		if p.negated {
			parts[i] = "!" + p.text
		} else {
			parts[i] = p.text
		}
	}
	return strings.Join(parts, ",")
}

// wildcard matches s against pat, where * stands for any run of bytes and ?
// for one byte (sshd's match_pattern). It backtracks to the last * only, so
// it runs in O(len(s)*len(pat)).
func wildcard(pat, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			pi++
			si++
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}
