package shellsrv

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestHelperConnReadFiles: a file opened for reading only is answered by
// helperConn itself (handle, data, EOF, attributes, close); everything
// else, and every other request on its handle, reaches pkg/sftp
// unchanged and in order. A FIFO is not opened.
func TestHelperConnReadFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "java_pid7.hprof")
	data := make([]byte, sftpMaxData+40000)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	size := uint64(len(data))
	write := sftpPacket(byte(fxpWrite), uint32(6), "r1", uint64(0), "x")
	openFIFO := sftpPacket(byte(fxpOpen), uint32(7), fifo, uint32(sftpFlagRead), uint32(0))
	openRW := sftpPacket(byte(fxpOpen), uint32(8), file, uint32(sftpFlagRead|0x2), uint32(0))
	openMissing := sftpPacket(byte(fxpOpen), uint32(9), file+".missing", uint32(sftpFlagRead), uint32(0))
	readClosed := sftpPacket(byte(fxpRead), uint32(11), "r1", uint64(0), uint32(10))
	in := bytes.Join([][]byte{
		sftpPacket(byte(fxpOpen), uint32(1), file, uint32(sftpFlagRead), uint32(0)),
		sftpPacket(byte(fxpRead), uint32(2), "r1", uint64(0), uint32(10)),
		sftpPacket(byte(fxpRead), uint32(3), "r1", uint64(5), uint32(1<<30)),
		sftpPacket(byte(fxpRead), uint32(4), "r1", size, uint32(10)),
		sftpPacket(byte(fxpFstat), uint32(5), "r1"),
		write, openFIFO, openRW, openMissing,
		sftpPacket(byte(fxpClose), uint32(10), "r1"),
		readClosed,
	}, nil)
	out := &writes{}
	c := newHelperConn(bytes.NewReader(in), out)
	passed, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Join([][]byte{write, openFIFO, openRW, openMissing, readClosed}, nil); !bytes.Equal(passed, want) {
		t.Fatalf("passed to pkg/sftp:\n%q\nwant\n%q", passed, want)
	}
	wantReplies := [][]byte{
		sftpPacket(byte(fxpHandle), uint32(1), "r1"),
		sftpPacket(byte(fxpData), uint32(2), string(data[:10])),
		sftpPacket(byte(fxpData), uint32(3), string(data[5:5+sftpMaxData])),
		sftpPacket(byte(fxpStatus), uint32(4), uint32(fxEOF), "EOF", ""),
		nil, // ATTRS, checked below
		sftpPacket(byte(fxpStatus), uint32(10), uint32(fxOK), "", ""),
	}
	if len(out.calls) != len(wantReplies) {
		t.Fatalf("%d replies, want %d: %q", len(out.calls), len(wantReplies), out.calls)
	}
	for i, want := range wantReplies {
		if want != nil && !bytes.Equal(out.calls[i], want) {
			t.Errorf("reply %d: %q, want %q", i, truncate(out.calls[i]), truncate(want))
		}
	}
	r := newWire(out.calls[4][4:])
	if typ, id, flags, gotSize := r.byte(), r.uint32(), r.uint32(), r.uint64(); typ != fxpAttrs || id != 5 || flags != sftpAttrAll || gotSize != size {
		t.Errorf("FSTAT reply: type %d id %d flags %#x size %d, want %d %d %#x %d", typ, id, flags, gotSize, fxpAttrs, 5, sftpAttrAll, size)
	}
	uid, gid, mode := r.uint32(), r.uint32(), r.uint32()
	if uid != uint32(os.Getuid()) || gid != uint32(os.Getgid()) || mode != syscall.S_IFREG|0o600 || !r.ok {
		t.Errorf("FSTAT reply: uid %d gid %d mode %o", uid, gid, mode)
	}
	if len(c.files.open) != 0 {
		t.Errorf("files left open: %v", c.files.open)
	}
}

func truncate(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
