package authkeys

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// Entry is one authorized_keys line.
type Entry struct {
	Key     ssh.PublicKey
	Comment string
	Line    int // 1-based line number in its text; 0 for ParseLine

	CertAuthority    bool         // cert-authority: accepts user certificates signed by Key
	Principals       []string     // principals="a,b" (cert-authority lines only)
	From             *PatternList // from="pattern-list"; nil = from anywhere
	NoPty            bool         // no-pty, restrict (undone by pty)
	NoPortForwarding bool         // no-port-forwarding, restrict (undone by port-forwarding)
}

// maxLine bounds one line, as sshd's reader does (it allows 16 KiB lines; a
// large RSA certificate authority is under 2 KiB).
const maxLine = 1 << 20

// Parse parses every line of data. Blank lines and lines starting with #
// are skipped. The first bad line ends it with an error that names name and
// the line: "HOLDFAST_SSH_AUTHORIZED_KEYS line 3: ..." ("line 3: ..." when
// name is empty).
func Parse(data []byte, name string) ([]*Entry, error) {
	var out []*Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := ParseLine(line)
		if err != nil {
			if name == "" {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		e.Line = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return out, nil
}

// ParseLine parses one line: options (optional), key type, base64 key,
// comment (optional).
func ParseLine(line string) (*Entry, error) {
	if strings.ContainsAny(line, "\n\r") {
		return nil, errors.New("a key line cannot contain a line break")
	}
	key, comment, opts, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("trailing data after the key")
	}
	if _, isCert := key.(*ssh.Certificate); isCert {
		return nil, errors.New("a certificate cannot be an authorized key; list its CA with cert-authority")
	}
	e := &Entry{Key: key, Comment: comment}
	for _, o := range opts {
		if err := e.applyOption(o); err != nil {
			return nil, err
		}
	}
	if len(e.Principals) > 0 && !e.CertAuthority {
		return nil, errors.New("option principals is only valid with cert-authority")
	}
	return e, nil
}

func (e *Entry) applyOption(o string) error {
	name, value, hasValue := strings.Cut(o, "=")
	lname := strings.ToLower(name)
	switch lname {
	case "principals", "from":
		if !hasValue {
			return fmt.Errorf(`option %s needs a value: %s="..."`, lname, lname)
		}
		v, err := dequote(value)
		if err != nil {
			return fmt.Errorf("option %s: %w", lname, err)
		}
		if lname == "from" {
			if e.From != nil {
				return errors.New("option from is given twice")
			}
			e.From, err = ParsePatternList(v)
			if err != nil {
				return fmt.Errorf("option from: %w", err)
			}
			return nil
		}
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if err := checkName(p); err != nil {
				return fmt.Errorf("option principals: %w", err)
			}
			e.Principals = append(e.Principals, p)
		}
		if len(e.Principals) == 0 {
			return errors.New("option principals lists no principal")
		}
		return nil
	}
	if hasValue {
		return fmt.Errorf("option %q is not supported by holdfast", name)
	}
	switch lname {
	case "cert-authority":
		e.CertAuthority = true
	case "restrict":
		e.NoPty, e.NoPortForwarding = true, true
	case "no-pty":
		e.NoPty = true
	case "pty":
		e.NoPty = false
	case "no-port-forwarding":
		e.NoPortForwarding = true
	case "port-forwarding":
		e.NoPortForwarding = false
	case "no-agent-forwarding", "agent-forwarding", "no-x11-forwarding", "x11-forwarding",
		"no-user-rc", "user-rc", "no-touch-required", "verify-required":
		// Agent and X11 forwarding and ~/.ssh/rc do not exist in holdfast;
		// the FIDO flags are checked by x/crypto.
	default:
		return fmt.Errorf("option %q is not supported by holdfast", name)
	}
	return nil
}

// dequote strips the double quotes around an option value, as sshd's
// opt_dequote does; \" stands for a quote inside.
func dequote(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New(`the value must be in double quotes`)
	}
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == '"':
			b.WriteByte('"')
			i++
		case v[i] == '"':
			return "", errors.New(`an unescaped " inside the value`)
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String(), nil
}

// checkName refuses principal names that cannot be written back into a
// quoted option: white space, control characters, quotes and backslashes.
func checkName(p string) error {
	for _, r := range p {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\\' || r == utf8.RuneError {
			return fmt.Errorf("principal %q: white space, control characters, quotes and backslashes are not allowed", p)
		}
	}
	return nil
}

// String formats e as one authorized_keys line that ParseLine reads back
// as an equal entry (options in a fixed order, then the key and comment).
func (e *Entry) String() string {
	var opts []string
	if e.CertAuthority {
		opts = append(opts, "cert-authority")
	}
	if len(e.Principals) > 0 {
		opts = append(opts, `principals="`+strings.Join(e.Principals, ",")+`"`)
	}
	if e.From != nil {
		opts = append(opts, `from="`+e.From.String()+`"`)
	}
	if e.NoPty {
		opts = append(opts, "no-pty")
	}
	if e.NoPortForwarding {
		opts = append(opts, "no-port-forwarding")
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.Key)))
	if len(opts) > 0 {
		line = strings.Join(opts, ",") + " " + line
	}
	if e.Comment != "" {
		line += " " + e.Comment
	}
	return line
}
