package attach

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// The answer side of the protocol against a scripted listener: each case
// reads the request, then answers, or stalls until the client gives up.
func TestExchange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(c net.Conn)
		w      io.Writer
		kind   error
		out    string
	}{
		{"ok", func(c net.Conn) { io.WriteString(c, "0\nline 1\nline 2\n") }, nil, nil, "line 1\nline 2\n"},
		{"closed unanswered", func(c net.Conn) {}, nil, ErrRefused, ""},
		{"bad version", func(c net.Conn) { io.WriteString(c, "101\n") }, nil, ErrProtocol, ""},
		{"command failed", func(c net.Conn) { io.WriteString(c, "-1\njava.lang.IllegalArgumentException: nope\n") }, nil, ErrCommand, ""},
		{"garbage", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 400\n") }, nil, ErrProtocol, ""},
		{"stalls", func(c net.Conn) { io.Copy(io.Discard, c) }, nil, ErrTimeout, ""},
		{"stalls mid-output", func(c net.Conn) { io.WriteString(c, "0\npart"); io.Copy(io.Discard, c) }, nil, ErrTimeout, "part"},
		{"writer fails", func(c net.Conn) { io.WriteString(c, "0\nout") }, failWriter{}, ErrOutput, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			req := Jcmd("VM.version")
			got := make(chan []byte, 1)
			go func() {
				defer server.Close()
				b := make([]byte, len(req.encode()))
				if _, err := io.ReadFull(server, b); err != nil {
					got <- nil
					return
				}
				got <- b
				tc.answer(server)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var out bytes.Buffer
			w := tc.w
			if w == nil {
				w = &out
			}
			p := &proc{Target: &Target{PID: os.Getpid(), UID: 1, GID: 2}, pidfd: -1}
			err := p.exchange(ctx, client, req, w)
			if b := <-got; !bytes.Equal(b, req.encode()) {
				t.Errorf("request %q", b)
			}
			switch {
			case tc.kind == nil && err != nil:
				t.Fatal(err)
			case tc.kind != nil && !errors.Is(err, tc.kind):
				t.Fatalf("want %v, got %v", tc.kind, err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			if out.String() != tc.out {
				t.Errorf("output %q, want %q", out.String(), tc.out)
			}
			t.Log(err)
		})
	}
}
