package shellsrv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// inlineKeysName names the inline keys in errors, as the contract's
// environment twin of --ssh-authorized-keys.
const inlineKeysName = "HOLDFAST_SSH_AUTHORIZED_KEYS"

// keyEntry is one authorized_keys line.
type keyEntry struct {
	key        gossh.PublicKey
	comment    string
	where      string   // "file line N", for logs
	ca         bool     // cert-authority: accepts user certificates signed by key
	principals []string // principals="..." on a cert-authority line
	noPty      bool
	noForward  bool
}

// keyring is one parsed generation of the authorized keys.
type keyring struct {
	keys map[string]*keyEntry // plain keys, by wire encoding
	cas  map[string]*keyEntry // cert authorities, by wire encoding
}

func (r *keyring) size() int { return len(r.keys) + len(r.cas) }

// parseAuthorizedKeys adds every line of data to r. Comments and blank lines
// are skipped, as sshd(8) "AUTHORIZED_KEYS FILE FORMAT" describes.
func parseAuthorizedKeys(r *keyring, data []byte, name string) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseKeyLine(line)
		if err != nil {
			return fmt.Errorf("cannot parse %s line %d: %w", name, n, err)
		}
		e.where = fmt.Sprintf("%s line %d", name, n)
		if e.ca {
			r.cas[string(e.key.Marshal())] = e
		} else {
			r.keys[string(e.key.Marshal())] = e
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %w", name, err)
	}
	return nil
}

// parseKeyLine parses one line and its options. Options that would restrict
// a key in ways holdfast does not enforce (command=, from=, permitopen=, ...)
// are errors: silently ignoring them would grant more than the line says.
func parseKeyLine(line string) (*keyEntry, error) {
	key, comment, opts, rest, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("trailing data after the key")
	}
	e := &keyEntry{key: key, comment: comment}
	for _, o := range opts {
		name, value, hasValue := strings.Cut(o, "=")
		switch strings.ToLower(name) {
		case "cert-authority":
			e.ca = true
		case "principals":
			if !hasValue {
				return nil, errors.New(`option principals needs a value: principals="name,..."`)
			}
			for _, p := range strings.Split(strings.Trim(value, `"`), ",") {
				if p = strings.TrimSpace(p); p != "" {
					e.principals = append(e.principals, p)
				}
			}
		case "restrict":
			e.noPty, e.noForward = true, true
		case "no-pty":
			e.noPty = true
		case "pty":
			e.noPty = false
		case "no-port-forwarding":
			e.noForward = true
		case "port-forwarding":
			e.noForward = false
		case "no-agent-forwarding", "agent-forwarding", "no-x11-forwarding", "x11-forwarding",
			"no-user-rc", "user-rc", "no-touch-required", "verify-required":
			// Agent and X11 forwarding and ~/.ssh/rc do not exist here; the
			// FIDO flags are checked by x/crypto.
		default:
			return nil, fmt.Errorf("option %q is not supported by holdfast", name)
		}
	}
	if len(e.principals) > 0 && !e.ca {
		return nil, errors.New("option principals is only valid with cert-authority")
	}
	if _, isCert := key.(*gossh.Certificate); isCert {
		return nil, errors.New("a certificate cannot be an authorized key; list its CA with cert-authority")
	}
	return e, nil
}

// keySource loads the authorized keys from the file and the inline text, and
// reloads the file when it changes (a Kubernetes Secret update), as sshd
// reads authorized_keys at each login. A reload that fails keeps the last
// good keys; a file that disappears revokes its keys.
type keySource struct {
	path   string
	inline string
	log    *slog.Logger

	mu    sync.Mutex
	ring  *keyring
	stamp fileStamp
}

type fileStamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
}

func newKeySource(path, inline string, log *slog.Logger) (*keySource, error) {
	ks := &keySource{path: path, inline: inline, log: log}
	st := stampOf(path)
	ring, err := ks.load(st)
	if err != nil {
		return nil, err
	}
	if ring.size() == 0 {
		where := inlineKeysName
		if path != "" {
			where = path + " or " + inlineKeysName
		}
		return nil, fmt.Errorf("cannot start ssh server: no keys in %s", where)
	}
	ks.ring, ks.stamp = ring, st
	return ks, nil
}

func (ks *keySource) load(st fileStamp) (*keyring, error) {
	r := &keyring{keys: map[string]*keyEntry{}, cas: map[string]*keyEntry{}}
	if ks.path != "" && st.exists {
		data, err := os.ReadFile(ks.path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", ks.path, err)
		}
		if err := parseAuthorizedKeys(r, data, ks.path); err != nil {
			return nil, err
		}
	}
	if err := parseAuthorizedKeys(r, []byte(ks.inline), inlineKeysName); err != nil {
		return nil, err
	}
	return r, nil
}

// current returns the keys, reloading the file first if it changed.
func (ks *keySource) current() *keyring {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.path == "" {
		return ks.ring
	}
	st := stampOf(ks.path)
	if st == ks.stamp {
		return ks.ring
	}
	ks.stamp = st
	ring, err := ks.load(st)
	if err != nil {
		ks.log.Error("ssh keeps its previous authorized keys", "err", err)
		return ks.ring
	}
	ks.log.Info("ssh authorized keys reloaded", "file", ks.path, "exists", st.exists, "keys", ring.size())
	ks.ring = ring
	return ring
}

func stampOf(path string) fileStamp {
	if path == "" {
		return fileStamp{}
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}
	}
	if err != nil {
		// Exists but cannot be read (EACCES): load reports it clearly.
		return fileStamp{exists: true}
	}
	return fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime(), ino: inode(fi)}
}
