package shellsrv

import (
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// writes records each Write separately.
type writes struct{ calls [][]byte }

func (w *writes) Write(p []byte) (int, error) {
	w.calls = append(w.calls, append([]byte(nil), p...))
	return len(p), nil
}
func (w *writes) Close() error { return nil }

// TestHelperConnLimits: the VERSION reply gains limits@openssh.com, a
// limits request is answered and not passed on, other packets pass
// unchanged, and a reply written in two pieces leaves in one write, with
// the limits reply after it rather than inside it.
func TestHelperConnLimits(t *testing.T) {
	limits := sftpPacket(byte(fxpExtended), uint32(7), sftpLimitsExt)
	statvfs := sftpPacket(byte(fxpExtended), uint32(8), "statvfs@openssh.com", "/")
	open := sftpPacket(byte(fxpOpen), uint32(9), "/tmp/x")
	out := &writes{}
	c := newHelperConn(bytes.NewReader(bytes.Join([][]byte{statvfs, limits, open}, nil)), out)

	// VERSION (type, version 3; no id) in two pieces, as pkg/sftp writes it.
	version := []byte{0, 0, 0, 5, fxpVersion, 0, 0, 0, 3}
	c.Write(version[:5])
	c.Write(version[5:])
	if len(out.calls) != 1 || !bytes.Contains(out.calls[0], []byte(sftpLimitsExt)) {
		t.Fatalf("VERSION reply: %q", out.calls)
	}
	if n := binary.BigEndian.Uint32(out.calls[0]); int(n) != len(out.calls[0])-4 {
		t.Fatalf("VERSION length %d, packet %d bytes", n, len(out.calls[0]))
	}

	got := make([]byte, len(statvfs))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, statvfs) {
		t.Fatalf("first packet: %q %v", got, err)
	}
	// A reply begun, then the limits request arrives: its answer waits.
	status := sftpPacket(byte(fxpStatus), uint32(8), uint32(0))
	c.Write(status[:9])
	got = make([]byte, len(open))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, open) {
		t.Fatalf("packet after the limits request: %q %v (the request was passed on?)", got, err)
	}
	if len(out.calls) != 1 {
		t.Fatalf("limits reply written inside a partial reply: %q", out.calls[1:])
	}
	c.Write(status[9:])
	if len(out.calls) != 3 || !bytes.Equal(out.calls[1], status) {
		t.Fatalf("writes after the reply's end: %q", out.calls)
	}
	r := newWire(out.calls[2][4:])
	if typ, id := r.byte(), r.uint32(); typ != fxpExtendedReply || id != 7 {
		t.Fatalf("limits reply type %d id %d", typ, id)
	}
	if pkt, rd, wr := r.uint64(), r.uint64(), r.uint64(); pkt != sftpMaxMsg || rd != sftpMaxData || wr != sftpMaxData || !r.ok {
		t.Fatalf("limits %d %d %d", pkt, rd, wr)
	}
	if _, err := c.Read(got); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// TestSFTPClientUsesLimits: OpenSSH's sftp sees limits@openssh.com and
// reads and writes 255 KiB per request, as with sshd (32 KiB without it).
func TestSFTPClientUsesLimits(t *testing.T) {
	h := newHarness(t, nil)
	remote := filepath.Join(h.dir, "dump")
	want := writeRandom(t, remote, 1<<20+7)
	local := t.TempDir()
	opts := h.sshArgs(h.key)
	opts = opts[:len(opts)-2]
	r := run(t, "", nil, "sftp", append(logLevel(opts, "DEBUG3"), "-vvv", "-P", h.port, "127.0.0.1:"+remote, filepath.Join(local, "dump"))...)
	if r.rc != 0 {
		t.Fatalf("sftp: %v", r)
	}
	if !strings.Contains(r.stderr, "using 261120 / 261120") {
		t.Fatalf("sftp did not take the limits:\n%s", r.stderr)
	}
	if sumFile(t, filepath.Join(local, "dump")) != want {
		t.Fatal("fetched file differs")
	}
}
