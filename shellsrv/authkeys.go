package shellsrv

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/holdfast-dev/holdfast/internal/authkeys"
)

// inlineKeysName names the inline keys in errors, as the contract's
// environment twin of --ssh-authorized-keys.
const inlineKeysName = "HOLDFAST_SSH_AUTHORIZED_KEYS"

// keyEntry is one authorized_keys line and where it came from.
type keyEntry struct {
	*authkeys.Entry
	where string // "file line N", for logs
}

// permits reports whether the line's from= lets a client at remote use it.
func (e *keyEntry) permits(remote netip.Addr) bool {
	return e.From == nil || (remote.IsValid() && e.From.Match(remote))
}

// keyring is one parsed generation of the authorized keys. A key may be
// listed on several lines (say, with different from=); the first line that
// permits the client is used, as sshd does.
type keyring struct {
	keys map[string][]*keyEntry // plain keys, by wire encoding
	cas  map[string][]*keyEntry // cert authorities, by wire encoding
}

func (r *keyring) size() int { return len(r.keys) + len(r.cas) }

// add puts entries parsed from name into r.
func (r *keyring) add(entries []*authkeys.Entry, name string) {
	for _, e := range entries {
		ke := &keyEntry{Entry: e, where: fmt.Sprintf("%s line %d", name, e.Line)}
		m := r.keys
		if e.CertAuthority {
			m = r.cas
		}
		k := string(e.Key.Marshal())
		m[k] = append(m[k], ke)
	}
}

// find returns the first of lines that permits remote, or why none does.
func find(lines []*keyEntry, remote netip.Addr) (*keyEntry, error) {
	if len(lines) == 0 {
		return nil, errors.New("key not authorized")
	}
	for _, e := range lines {
		if e.permits(remote) {
			return e, nil
		}
	}
	return nil, fmt.Errorf("key not authorized from %s (from=%q, %s)", remote, lines[0].From, lines[0].where)
}

// keySource loads the authorized keys from the file and the inline text, and
// reloads the file when it changes (a Kubernetes Secret update), as sshd
// reads authorized_keys at each login. A reload that fails fails closed:
// every login is refused until the file is fixed (or removed), because
// keeping the previous keys would keep a key the edit meant to revoke. A
// file that disappears revokes its keys.
type keySource struct {
	path   string
	inline string
	log    *slog.Logger
	// onBroken is called once per change of the file that leaves it
	// unusable; the server records it in the audit log.
	onBroken func(error)

	mu     sync.Mutex
	ring   *keyring
	broken error // the last reload's error; while set, ring is nil
	stamp  fileStamp
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
	r := &keyring{keys: map[string][]*keyEntry{}, cas: map[string][]*keyEntry{}}
	if ks.path != "" && st.exists {
		data, err := os.ReadFile(ks.path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", ks.path, err)
		}
		entries, err := authkeys.Parse(data, ks.path)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %w", err)
		}
		r.add(entries, ks.path)
	}
	entries, err := authkeys.Parse([]byte(ks.inline), inlineKeysName)
	if err != nil {
		return nil, fmt.Errorf("cannot parse %w", err)
	}
	r.add(entries, inlineKeysName)
	return r, nil
}

// current returns the keys, reloading the file first if it changed, or the
// error that makes every login fail while the file is broken.
func (ks *keySource) current() (*keyring, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.path == "" {
		return ks.ring, nil
	}
	st := stampOf(ks.path)
	if st == ks.stamp {
		if ks.broken != nil {
			return nil, ks.broken
		}
		return ks.ring, nil
	}
	ks.stamp = st
	ring, err := ks.load(st)
	if err != nil {
		ks.ring, ks.broken = nil, fmt.Errorf("authorized keys unusable, every login is refused until the file is fixed: %w", err)
		ks.log.Error("ssh refuses every login: the authorized keys file does not parse", "file", ks.path, "err", err)
		if ks.onBroken != nil {
			ks.onBroken(err)
		}
		return nil, ks.broken
	}
	if ks.broken != nil {
		ks.log.Warn("ssh authorized keys fixed; logins accepted again", "file", ks.path, "keys", ring.size())
	} else {
		ks.log.Info("ssh authorized keys reloaded", "file", ks.path, "exists", st.exists, "keys", ring.size())
	}
	ks.ring, ks.broken = ring, nil
	return ring, nil
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

// remoteAddr is a connection's client address for from= matching; the zero
// Addr (which no from= list matches) when it is not an IP.
func remoteAddr(s string) netip.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		host := s
		if i := strings.LastIndex(s, ":"); i > 0 {
			host = s[:i]
		}
		a, _ := netip.ParseAddr(strings.Trim(host, "[]"))
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}
