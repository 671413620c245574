package shellsrv

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// sftpPacket builds one length-prefixed packet from fields: byte, uint32,
// uint64 and string (an sftp string).
func sftpPacket(fields ...any) []byte {
	var body []byte
	for _, f := range fields {
		switch v := f.(type) {
		case byte:
			body = append(body, v)
		case uint32:
			body = binary.BigEndian.AppendUint32(body, v)
		case uint64:
			body = binary.BigEndian.AppendUint64(body, v)
		case string:
			body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
		default:
			panic(fmt.Sprintf("field %T", f))
		}
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func auditLines(evs []auditEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s %s %s>%s [%s] %s", ev.Event, ev.Op, ev.Path, ev.Target, ev.Flags, ev.Result)
		if ev.Read != nil {
			fmt.Fprintf(&b, " r=%d w=%d", *ev.Read, *ev.Written)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSFTPAudit(t *testing.T) {
	// The same conversation fed whole, and a byte at a time (packets split
	// anywhere, as pipes deliver them).
	for _, chunk := range []int{1 << 20, 1, 7} {
		var got []auditEvent
		a := newSFTPAudit(auditEvent{Event: "sftp", User: "u"}, func(ev auditEvent) { got = append(got, ev) })
		feed := func(w interface{ Write([]byte) (int, error) }, p []byte) {
			for len(p) > 0 {
				n := min(chunk, len(p))
				_, _ = w.Write(p[:n])
				p = p[n:]
			}
		}
		c, s := a.fromClient(), a.fromServer()
		data := strings.Repeat("x", 20000)      // longer than the kept prefix
		feed(c, sftpPacket(byte(1), uint32(3))) // INIT, no id
		feed(s, sftpPacket(byte(2), uint32(3))) // VERSION
		feed(c, sftpPacket(byte(fxpOpen), uint32(1), "/etc/shadow", uint32(1), uint32(0)))
		feed(s, sftpPacket(byte(fxpStatus), uint32(1), uint32(3), "permission denied", ""))
		feed(c, sftpPacket(byte(fxpOpen), uint32(2), "/home/u/f", uint32(0x1a), uint32(0)))
		feed(s, sftpPacket(byte(fxpHandle), uint32(2), "h1"))
		feed(c, sftpPacket(byte(fxpWrite), uint32(3), "h1", uint64(0), data))
		feed(s, sftpPacket(byte(fxpStatus), uint32(3), uint32(0), "", ""))
		feed(c, sftpPacket(byte(fxpRead), uint32(4), "h1", uint64(0), uint32(32768)))
		feed(s, sftpPacket(byte(fxpData), uint32(4), "abc"))
		feed(c, sftpPacket(byte(fxpFsetstat), uint32(5), "h1", uint32(0)))
		feed(s, sftpPacket(byte(fxpStatus), uint32(5), uint32(0), "", ""))
		feed(c, sftpPacket(byte(fxpClose), uint32(6), "h1"))
		feed(s, sftpPacket(byte(fxpStatus), uint32(6), uint32(0), "", ""))
		feed(c, sftpPacket(byte(fxpExtended), uint32(7), "posix-rename@openssh.com", "/home/u/f", "/home/u/g"))
		feed(s, sftpPacket(byte(fxpStatus), uint32(7), uint32(0), "", ""))
		feed(c, sftpPacket(byte(fxpRemove), uint32(8), "/home/u/"+strings.Repeat("n", 9000)))
		feed(c, sftpPacket(byte(fxpStat), uint32(9), "/home/u")) // not recorded
		feed(s, sftpPacket(byte(fxpStatus), uint32(9), uint32(0), "", ""))
		feed(c, sftpPacket(byte(fxpOpen), uint32(10), "/home/u/left-open", uint32(1), uint32(0)))
		feed(s, sftpPacket(byte(fxpHandle), uint32(10), "h2"))
		feed(c, []byte{0, 0, 0, 9, fxpRemove, 0}) // garbage, cut short: skipped
		a.finish()
		feed(c, sftpPacket(byte(fxpRemove), uint32(11), "/after/finish"))
		want := "sftp open /etc/shadow> [read] permission denied\n" +
			"sftp open /home/u/f> [write,create,truncate] ok\n" +
			"sftp setstat /home/u/f> [] ok\n" +
			"sftp close /home/u/f> [write,create,truncate] ok r=3 w=20000\n" +
			"sftp rename /home/u/f>/home/u/g [] ok\n" +
			"sftp open /home/u/left-open> [read] ok\n"
		lines := auditLines(got)
		if !strings.HasPrefix(lines, want) {
			t.Fatalf("chunk %d: audit events\n%s\nwant first\n%s", chunk, lines, want)
		}
		rest := strings.TrimPrefix(lines, want)
		if !strings.Contains(rest, "sftp remove /home/u/nnn") || !strings.Contains(rest, "...> [] no reply: session ended") ||
			!strings.Contains(rest, "sftp close /home/u/left-open> [read] session ended r=0 w=0") || strings.Contains(rest, "/after/finish") {
			t.Fatalf("chunk %d: at the end\n%s", chunk, rest)
		}
	}
}

// FuzzSFTPAudit: no byte stream in either direction makes the auditor panic
// or track more than its bounds.
func FuzzSFTPAudit(f *testing.F) {
	f.Add(sftpPacket(byte(fxpOpen), uint32(1), "/x", uint32(1), uint32(0)), sftpPacket(byte(fxpHandle), uint32(1), "h"))
	f.Add(sftpPacket(byte(fxpExtended), uint32(1), "hardlink@openssh.com", "a", "b"), sftpPacket(byte(fxpStatus), uint32(1), uint32(4), "no", ""))
	f.Add([]byte{0, 0, 0, 1, 3}, []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, client, server []byte) {
		a := newSFTPAudit(auditEvent{}, func(auditEvent) {})
		_, _ = a.fromClient().Write(client)
		_, _ = a.fromServer().Write(server)
		if len(a.pending) > sftpMaxPending || len(a.handles) > sftpMaxHandles {
			t.Fatalf("tracking %d requests, %d handles", len(a.pending), len(a.handles))
		}
		a.finish()
	})
}
