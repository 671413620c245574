package shellsrv

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// The sftp helper's own answers for a file opened for reading only, which
// is what fetching a heap dump is: OPEN with SSH_FXF_READ alone, FSTAT,
// READ after READ, CLOSE. pkg/sftp allocates a new buffer for every READ
// and copies the data again into its reply, which cost the helper as much
// CPU as holdfast's encryption of the same bytes. readFiles opens the file
// itself, in the helper, as the session's user, with the same path
// relative to the same working directory as pkg/sftp would; a READ is one
// pread into a reply buffer that leaves in one write.
//
// Its handles start with "r"; pkg/sftp's are decimal numbers, so the two
// never meet. Any other request naming one of these handles (WRITE,
// FSETSTAT, ...) goes on to pkg/sftp, which does not know the handle and
// refuses it, as it refuses a write to a file opened for reading. An open
// that fails, or of anything but a regular file, goes on to pkg/sftp too,
// which answers it as it always did.

const (
	fxpFstat = 8
	fxpAttrs = 105

	sftpFlagRead = 0x1 // SSH_FXF_READ

	fxOK      = 0
	fxEOF     = 1
	fxFailure = 4

	// SSH_FILEXFER_ATTR_SIZE, _UIDGID, _PERMISSIONS, _ACMODTIME
	sftpAttrAll = 0x1 | 0x2 | 0x4 | 0x8

	dataHeader = 4 + 1 + 4 + 4 // length, type, id, data length
)

type readFiles struct {
	open map[string]*os.File
	next uint64
	buf  []byte // a DATA reply: header, then up to sftpMaxData bytes
}

// serve answers body (a client packet from its type on) when it is for
// readFiles, writing the reply with send; it reports whether it did.
func (rf *readFiles) serve(body []byte, send func([]byte) error) (bool, error) {
	r := newWire(body)
	typ, id := r.byte(), r.uint32()
	switch typ {
	case fxpOpen:
		path, pflags := r.string(), r.uint32()
		if !r.ok || r.cut || pflags != sftpFlagRead {
			return false, nil
		}
		f := openRegular(path)
		if f == nil {
			return false, nil
		}
		if rf.open == nil {
			rf.open = make(map[string]*os.File)
		}
		rf.next++
		handle := "r" + strconv.FormatUint(rf.next, 10)
		rf.open[handle] = f
		return true, send(sftpReply(fxpHandle, id, handle))
	case fxpRead, fxpFstat, fxpClose:
	default:
		return false, nil
	}
	handle := r.string()
	f, mine := rf.open[handle]
	if !mine {
		return false, nil
	}
	switch typ {
	case fxpRead:
		off, n := r.uint64(), r.uint32()
		if !r.ok || r.cut {
			return true, send(statusReply(id, fxFailure, "bad message"))
		}
		return true, send(rf.read(f, id, off, n))
	case fxpFstat:
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return true, send(statusReply(id, fxFailure, err.Error()))
		}
		return true, send(attrsReply(id, &st))
	default: // fxpClose
		delete(rf.open, handle)
		if err := f.Close(); err != nil {
			return true, send(statusReply(id, fxFailure, err.Error()))
		}
		return true, send(statusReply(id, fxOK, ""))
	}
}

// read is the reply to a READ of n bytes at off: DATA with what the file
// has there (at most sftpMaxData), EOF at or past its end, as pkg/sftp's.
func (rf *readFiles) read(f *os.File, id uint32, off uint64, n uint32) []byte {
	if rf.buf == nil {
		rf.buf = make([]byte, dataHeader+sftpMaxData)
	}
	n = min(n, sftpMaxData)
	got, err := 0, error(nil)
	if off > 1<<63-1 {
		err = io.EOF
	} else {
		got, err = f.ReadAt(rf.buf[dataHeader:dataHeader+int(n)], int64(off))
	}
	if err != nil && (!errors.Is(err, io.EOF) || got == 0) {
		if errors.Is(err, io.EOF) {
			return statusReply(id, fxEOF, "EOF")
		}
		return statusReply(id, fxFailure, err.Error())
	}
	// The header goes in front of the data read in place.
	h := startReply(rf.buf[:0], fxpData, id)
	binary.BigEndian.AppendUint32(h, uint32(got))
	return endReply(rf.buf[:dataHeader+got])
}

// openRegular opens path for reading if it is a regular file, and returns
// nil otherwise. A FIFO or a device is never opened (an open can block or
// act on it); the path is looked at first, and the open does not block if
// it was swapped in between, and is then closed again.
func openRegular(path string) *os.File {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || unix.SetNonblock(fd, false) != nil {
		unix.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), path)
}

// sftpReply is a reply packet: type, id, then one string.
func sftpReply(typ byte, id uint32, str string) []byte {
	return endReply(appendString(startReply(nil, typ, id), str))
}

// statusReply is SSH_FXP_STATUS with code and message (no language tag).
func statusReply(id, code uint32, msg string) []byte {
	b := binary.BigEndian.AppendUint32(startReply(nil, fxpStatus, id), code)
	return endReply(appendString(appendString(b, msg), ""))
}

// attrsReply is SSH_FXP_ATTRS with the size, owner, mode and times of st.
func attrsReply(id uint32, st *unix.Stat_t) []byte {
	b := binary.BigEndian.AppendUint32(startReply(nil, fxpAttrs, id), sftpAttrAll)
	b = binary.BigEndian.AppendUint64(b, uint64(st.Size))
	for _, v := range []uint32{st.Uid, st.Gid, st.Mode, uint32(st.Atim.Sec), uint32(st.Mtim.Sec)} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return endReply(b)
}
