package padcopy

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type failAfter struct {
	data []byte
	err  error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestCopy(t *testing.T) {
	buf := make([]byte, 4)
	// Whole: nothing padded.
	var out bytes.Buffer
	if n, rerr, werr := Copy(&out, strings.NewReader("abcdefgh"), 8, buf); n != 8 || rerr != nil || werr != nil || out.String() != "abcdefgh" {
		t.Errorf("whole: %d %v %v %q", n, rerr, werr, out.String())
	}
	// Shrank: the rest is zeros, no error.
	out.Reset()
	if n, rerr, werr := Copy(&out, strings.NewReader("abc"), 8, buf); n != 3 || rerr != nil || werr != nil || out.String() != "abc\x00\x00\x00\x00\x00" {
		t.Errorf("shrank: %d %v %v %q", n, rerr, werr, out.String())
	}
	// A read error: zeros, and the read error is the reader's.
	out.Reset()
	bad := errors.New("EIO")
	if n, rerr, werr := Copy(&out, &failAfter{[]byte("ab"), bad}, 5, buf); n != 2 || rerr != bad || werr != nil || out.Len() != 5 {
		t.Errorf("read error: %d %v %v %q", n, rerr, werr, out.String())
	}
	// A write error is the writer's, not a read error.
	if _, rerr, werr := Copy(brokenWriter{}, strings.NewReader("abc"), 3, buf); rerr != nil || werr == nil || werr.Error() != "broken pipe" {
		t.Errorf("write error: %v %v", rerr, werr)
	}
}
