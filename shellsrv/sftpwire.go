package shellsrv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// The sftp helper's side of its pipes. github.com/pkg/sftp's server reads
// every packet in two reads and writes every reply in two writes (header,
// then data), and it does not implement limits@openssh.com, so OpenSSH's
// client asks it for 32 KiB per read request where it asks sshd for 255
// KiB. helperConn sits between pkg/sftp and the pipes: it reads through a
// buffer, writes each reply in one write, announces limits@openssh.com in
// the VERSION reply and answers that request itself. Every other packet
// passes unchanged, in order.
//
// The limits are OpenSSH sftp-server's (SFTP_MAX_MSG_LENGTH 256 KiB, reads
// and writes 1 KiB less). pkg/sftp accepts packets of up to 256 KiB and is
// told to reply with up to sftpMaxData bytes.
const (
	sftpMaxMsg  = 256 << 10
	sftpMaxData = sftpMaxMsg - 1024

	fxpInit          = 1
	fxpVersion       = 2
	fxpExtendedReply = 201
	sftpLimitsExt    = "limits@openssh.com"
)

type helperConn struct {
	in  *bufio.Reader
	out io.Writer

	rmu    sync.Mutex
	inPkt  []byte // the rest of the packet being handed to pkg/sftp
	inBuf  []byte
	files  readFiles // files opened for reading only (sftpread.go)
	closer io.Closer

	wmu     sync.Mutex
	partial []byte   // a reply whose end pkg/sftp has not written yet
	queued  [][]byte // limits replies waiting for partial to complete
	version bool     // the VERSION reply has passed
}

func newHelperConn(in io.Reader, out io.WriteCloser) *helperConn {
	return &helperConn{in: bufio.NewReaderSize(in, 64<<10), out: out, closer: out}
}

func (c *helperConn) Close() error { return c.closer.Close() }

// Read hands pkg/sftp the client's packets, less the limits requests,
// which it answers.
func (c *helperConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.inPkt) == 0 {
		pkt, err := c.readPacket()
		if err != nil {
			return 0, err
		}
		if id, ok := limitsRequest(pkt[4:]); ok {
			if err := c.inject(limitsReply(id)); err != nil {
				return 0, err
			}
			continue
		}
		if done, err := c.files.serve(pkt[4:], c.inject); done || err != nil {
			if err != nil {
				return 0, err
			}
			continue
		}
		c.inPkt = pkt
	}
	n := copy(p, c.inPkt)
	c.inPkt = c.inPkt[n:]
	return n, nil
}

// readPacket reads one whole packet, length included. A length above
// pkg/sftp's bound is handed on alone, so that pkg/sftp refuses it and
// ends the session as it would without this layer.
func (c *helperConn) readPacket() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.in, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > sftpMaxMsg {
		return append([]byte(nil), hdr[:]...), nil
	}
	if cap(c.inBuf) < 4+int(n) {
		c.inBuf = make([]byte, 4+int(n))
	}
	b := c.inBuf[:4+int(n)]
	copy(b, hdr[:])
	if _, err := io.ReadFull(c.in, b[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// limitsRequest reports whether body (type onwards) is an
// SSH_FXP_EXTENDED limits@openssh.com request, and its id.
func limitsRequest(body []byte) (uint32, bool) {
	r := newWire(body)
	if r.byte() != fxpExtended {
		return 0, false
	}
	id := r.uint32()
	name := r.string()
	return id, r.ok && name == sftpLimitsExt
}

// limitsReply is the SSH_FXP_EXTENDED_REPLY to a limits request: maximum
// packet, read and write lengths, and open handles (0: no limit).
func limitsReply(id uint32) []byte {
	b := startReply(make([]byte, 0, 4+1+4+4*8), fxpExtendedReply, id)
	for _, v := range []uint64{sftpMaxMsg, sftpMaxData, sftpMaxData, 0} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return endReply(b)
}

// startReply appends to b the start of a reply packet: its length (set by
// endReply), type and id.
func startReply(b []byte, typ byte, id uint32) []byte {
	b = append(b, 0, 0, 0, 0, typ)
	return binary.BigEndian.AppendUint32(b, id)
}

// endReply sets the length of the packet b, which startReply began.
func endReply(b []byte) []byte {
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// appendString appends an sftp string: its length, then its bytes.
func appendString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// Write takes pkg/sftp's replies, in pieces, and writes each whole reply
// in one write.
func (c *helperConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.partial) == 0 && c.version && len(p) >= 4 && 4+int(binary.BigEndian.Uint32(p)) == len(p) {
		// One whole reply, as pkg/sftp writes data: no copy.
		if _, err := c.out.Write(p); err != nil {
			return 0, err
		}
		return len(p), c.flushQueued()
	}
	c.partial = append(c.partial, p...)
	for len(c.partial) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(c.partial))
		if len(c.partial) < n {
			break
		}
		pkt := c.partial[:n]
		if !c.version {
			c.version = true
			pkt = withLimitsExt(pkt)
		}
		if _, err := c.out.Write(pkt); err != nil {
			return 0, err
		}
		c.partial = c.partial[n:]
	}
	if len(c.partial) == 0 {
		c.partial = c.partial[:0:cap(c.partial)]
		if err := c.flushQueued(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// inject writes a reply of its own between two of pkg/sftp's. pkt may be
// reused once inject returns.
func (c *helperConn) inject(pkt []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.partial) != 0 {
		// Written when pkg/sftp's reply is complete.
		c.queued = append(c.queued, append([]byte(nil), pkt...))
		return nil
	}
	_, err := c.out.Write(pkt)
	return err
}

func (c *helperConn) flushQueued() error {
	for len(c.queued) > 0 {
		if _, err := c.out.Write(c.queued[0]); err != nil {
			return err
		}
		c.queued = c.queued[1:]
	}
	return nil
}

// withLimitsExt adds limits@openssh.com to a VERSION reply; any other
// packet is returned unchanged.
func withLimitsExt(pkt []byte) []byte {
	if len(pkt) < 9 || pkt[4] != fxpVersion {
		return pkt
	}
	out := make([]byte, 0, len(pkt)+8+len(sftpLimitsExt)+1)
	out = append(out, pkt...)
	return endReply(appendString(appendString(out, sftpLimitsExt), "1"))
}
