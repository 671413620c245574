package shellsrv

import (
	"encoding/binary"
	"io"
	"strings"
	"sync"
)

// sftpAudit turns the sftp packets passing between a client and the helper
// (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks) into audit
// events: one per open, close, remove, rename, setstat, mkdir, rmdir,
// symlink and hardlink, each written when the helper's reply arrives, with
// its result. Reads and writes are summed per open file and written with
// its close, rather than one line per 32 KiB packet. Listing and stat
// requests are not recorded.
//
// It sees only copies of the bytes: a malformed packet is skipped, never
// answered, and the relay goes on.
type sftpAudit struct {
	base   auditEvent // the session's fields
	record func(auditEvent)

	client, server packetSplitter

	mu      sync.Mutex
	done    bool
	pending map[uint32]*sftpOp   // requests awaiting their reply
	handles map[string]*sftpOpen // open files by handle
}

// sftpOp is one request in flight.
type sftpOp struct {
	op, path, target, flags string
	handle                  string // close, fsetstat, read, write
	n                       int64  // write: bytes
	quiet                   bool   // read, write: counted, not recorded
}

// sftpOpen is one open file.
type sftpOpen struct {
	path, flags   string
	read, written int64
}

// Bounds on what one session may make holdfast track; past them a request
// is recorded without waiting for its result.
const (
	sftpMaxPending = 4096
	sftpMaxHandles = 1024
	sftpPrefix     = 8 << 10 // bytes kept of each packet: type, id and names
)

// sftp packet types (filexfer-02 section 3).
const (
	fxpOpen     = 3
	fxpClose    = 4
	fxpRead     = 5
	fxpWrite    = 6
	fxpStat     = 17
	fxpSetstat  = 9
	fxpFsetstat = 10
	fxpRemove   = 13
	fxpMkdir    = 14
	fxpRmdir    = 15
	fxpRename   = 18
	fxpSymlink  = 20
	fxpStatus   = 101
	fxpHandle   = 102
	fxpData     = 103
	fxpExtended = 200
)

func newSFTPAudit(base auditEvent, record func(auditEvent)) *sftpAudit {
	a := &sftpAudit{base: base, record: record, pending: map[uint32]*sftpOp{}, handles: map[string]*sftpOpen{}}
	a.client.onPacket = a.request
	a.server.onPacket = a.reply
	return a
}

func (a *sftpAudit) fromClient() io.Writer { return &a.client }
func (a *sftpAudit) fromServer() io.Writer { return &a.server }

// request notes one client packet.
func (a *sftpAudit) request(b []byte) {
	r := newWire(b)
	typ := r.byte()
	id := r.uint32()
	if !r.ok {
		return
	}
	var op *sftpOp
	switch typ {
	case fxpOpen:
		path := r.string()
		op = &sftpOp{op: "open", path: path, flags: openFlags(r.uint32())}
	case fxpClose:
		op = &sftpOp{op: "close", handle: r.string()}
	case fxpRead:
		op = &sftpOp{op: "read", handle: r.string(), quiet: true}
	case fxpWrite:
		h := r.string()
		r.uint64()
		op = &sftpOp{op: "write", handle: h, n: int64(r.uint32()), quiet: true}
	case fxpSetstat:
		op = &sftpOp{op: "setstat", path: r.string()}
	case fxpFsetstat:
		op = &sftpOp{op: "setstat", handle: r.string()}
	case fxpRemove:
		op = &sftpOp{op: "remove", path: r.string()}
	case fxpMkdir:
		op = &sftpOp{op: "mkdir", path: r.string()}
	case fxpRmdir:
		op = &sftpOp{op: "rmdir", path: r.string()}
	case fxpRename:
		op = &sftpOp{op: "rename", path: r.string(), target: r.string()}
	case fxpSymlink:
		// In the order OpenSSH sends them: the link's target, then the
		// link (the reverse of the draft).
		op = &sftpOp{op: "symlink", target: r.string(), path: r.string()}
	case fxpExtended:
		switch r.string() {
		case "posix-rename@openssh.com":
			op = &sftpOp{op: "rename", path: r.string(), target: r.string()}
		case "hardlink@openssh.com":
			op = &sftpOp{op: "hardlink", path: r.string(), target: r.string()}
		}
	}
	if op == nil || !r.ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return
	}
	if op.handle != "" {
		if h := a.handles[op.handle]; h != nil {
			op.path = h.path
		}
	}
	if len(a.pending) >= sftpMaxPending {
		if !op.quiet {
			a.write(op, nil, "not tracked")
		}
		return
	}
	a.pending[id] = op
}

// reply matches one helper packet to its request.
func (a *sftpAudit) reply(b []byte) {
	r := newWire(b)
	typ := r.byte()
	id := r.uint32()
	if !r.ok || (typ != fxpStatus && typ != fxpHandle && typ != fxpData) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	op := a.pending[id]
	if op == nil || a.done {
		return
	}
	delete(a.pending, id)
	h := a.handles[op.handle]
	switch typ {
	case fxpHandle:
		if op.op != "open" {
			return
		}
		handle := r.string()
		if r.ok && len(a.handles) < sftpMaxHandles {
			a.handles[handle] = &sftpOpen{path: op.path, flags: op.flags}
		}
		a.write(op, nil, "ok")
	case fxpData:
		if h != nil && op.op == "read" {
			h.read += int64(r.uint32())
		}
	case fxpStatus:
		code := r.uint32()
		msg := r.string()
		result := "ok"
		if code != 0 {
			result = statusText(code, msg)
		}
		switch op.op {
		case "read":
			return // EOF or an error: nothing was read
		case "write":
			if h != nil && code == 0 {
				h.written += op.n
			}
			return
		case "close":
			if h == nil {
				return // not an open file we saw (a directory)
			}
			delete(a.handles, op.handle)
			op.path, op.flags = h.path, h.flags
		}
		a.write(op, h, result)
	}
}

// write records op; h, for a close, carries the byte counts.
func (a *sftpAudit) write(op *sftpOp, h *sftpOpen, result string) {
	ev := a.base
	ev.Op, ev.Path, ev.Target, ev.Flags, ev.Result = op.op, op.path, op.target, op.flags, result
	if h != nil && op.op == "close" {
		read, written := h.read, h.written
		ev.Read, ev.Written = &read, &written
	}
	a.record(ev)
}

// finish records what the session left open or unanswered, and stops.
func (a *sftpAudit) finish() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	for _, op := range a.pending {
		if !op.quiet && op.op != "close" {
			a.write(op, nil, "no reply: session ended")
		}
	}
	for _, h := range a.handles {
		a.write(&sftpOp{op: "close", path: h.path, flags: h.flags}, h, "session ended")
	}
}

func openFlags(f uint32) string {
	var out []string
	for _, fl := range []struct {
		bit  uint32
		name string
	}{{1, "read"}, {2, "write"}, {4, "append"}, {8, "create"}, {0x10, "truncate"}, {0x20, "excl"}} {
		if f&fl.bit != 0 {
			out = append(out, fl.name)
		}
	}
	return strings.Join(out, ",")
}

func statusText(code uint32, msg string) string {
	names := []string{"ok", "eof", "no such file", "permission denied", "failure", "bad message", "no connection", "connection lost", "unsupported"}
	switch {
	case int(code) >= len(names):
		return msg
	case msg == "" || strings.EqualFold(msg, names[code]):
		return names[code]
	case strings.Contains(strings.ToLower(msg), names[code]):
		return msg // "open /etc/shadow: permission denied"
	default:
		return names[code] + ": " + msg
	}
}

// packetSplitter cuts a byte stream into sftp packets (uint32 length, then
// the packet) and hands the first sftpPrefix bytes of each to onPacket. It
// never fails: it only watches.
type packetSplitter struct {
	hdr      [4]byte
	nhdr     int
	remain   uint32
	buf      []byte
	onPacket func([]byte)
}

func (p *packetSplitter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if p.nhdr < 4 {
			c := copy(p.hdr[p.nhdr:], b)
			p.nhdr += c
			b = b[c:]
			if p.nhdr == 4 {
				p.remain = binary.BigEndian.Uint32(p.hdr[:])
				p.buf = p.buf[:0]
				if p.remain == 0 {
					p.nhdr = 0
				}
			}
			continue
		}
		take := uint32(len(b))
		if take > p.remain {
			take = p.remain
		}
		if room := sftpPrefix - len(p.buf); room > 0 {
			p.buf = append(p.buf, b[:min(int(take), room)]...)
		}
		b = b[take:]
		p.remain -= take
		if p.remain == 0 {
			p.nhdr = 0
			p.onPacket(p.buf)
		}
	}
	return n, nil
}

// wire reads sftp's big-endian fields. After a short read ok is false; a
// string cut short by the packet prefix ends the packet too but leaves ok
// (the fields after it read as zero).
type wire struct {
	b   []byte
	ok  bool
	cut bool
}

func newWire(b []byte) *wire { return &wire{b: b, ok: true} }

func (w *wire) take(n int) []byte {
	if !w.ok || w.cut {
		return nil
	}
	if len(w.b) < n {
		w.b, w.ok = nil, false
		return nil
	}
	out := w.b[:n]
	w.b = w.b[n:]
	return out
}

func (w *wire) byte() byte {
	if b := w.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (w *wire) uint32() uint32 {
	if b := w.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (w *wire) uint64() uint64 {
	if b := w.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// string reads an sftp string; one cut short by the packet prefix is
// returned as far as it goes, with "..." appended.
func (w *wire) string() string {
	n := w.uint32()
	if !w.ok || w.cut {
		return ""
	}
	if int(n) > len(w.b) && len(w.b) >= sftpPrefix/2 {
		s := string(w.b) + "..."
		w.b, w.cut = nil, true
		return s
	}
	return string(w.take(int(n)))
}
