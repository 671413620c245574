package cause

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// crash is the JVM's fatal error header being read: the lines starting
// with '#' that the JVM prints to stdout and at the head of hs_err_pid*.log.
type crash struct {
	active       bool
	line         int
	insufficient bool
	what         string // "SIGSEGV", "Internal Error (…)", "Out of Memory Error (…)"
	detail       string // insufficient memory: what failed
	frame        string
	hsErr        string
	await        int // the next line is: awaitFrame, awaitFile
}

const (
	awaitNothing = iota
	awaitFrame
	awaitFile
)

func (c *crash) size() int { return len(c.what) + len(c.detail) + len(c.frame) + len(c.hsErr) }

// crashStart reads a '#' line outside a header block.
func (p *parser) crashStart(e *Extractor, t []byte, n int) {
	s := string(trimSpace(t[1:]))
	switch {
	case strings.HasPrefix(s, "A fatal error has been detected by the Java Runtime Environment"):
		p.cr = crash{active: true, line: n}
	case strings.HasPrefix(s, "There is insufficient memory for the Java Runtime Environment"):
		p.cr = crash{active: true, line: n, insufficient: true}
		p.offerCrash(e)
	}
}

// crashLine reads a line of the header block.
func (p *parser) crashLine(e *Extractor, b []byte) {
	c := &p.cr
	s := string(trimSpace(b[1:]))
	if s == "" {
		return
	}
	switch c.await {
	case awaitFrame:
		c.frame, c.await = nativeFrame(s), awaitNothing
		p.offerCrash(e)
		return
	case awaitFile:
		c.hsErr, c.await = s, awaitNothing
		p.offerCrash(e)
		return
	}
	switch {
	case strings.HasPrefix(s, "SIG") && c.what == "":
		c.what, _, _ = strings.Cut(s, " ")
	case strings.HasPrefix(s, "Internal Error (") || strings.HasPrefix(s, "Out of Memory Error ("):
		if c.what == "" {
			if i := strings.IndexByte(s, ')'); i >= 0 {
				c.what = s[:i+1]
			}
		}
	case strings.HasPrefix(s, "There is insufficient memory for the Java Runtime Environment"):
		c.insufficient = true
	case s == "Problematic frame:":
		c.await = awaitFrame
		return
	case strings.HasPrefix(s, "An error report file with more information is saved as:"):
		c.await = awaitFile
		return
	case c.insufficient && c.detail == "" && (strings.HasPrefix(s, "Native memory allocation") ||
		strings.HasPrefix(s, "Cannot create") || strings.HasPrefix(s, "Out of Memory Error")):
		c.detail = s
	default:
		return
	}
	p.offerCrash(e)
}

// nativeFrame turns "C  [libfoo.so+0x1a2b]  foo_bar+0x12" into
// "libfoo.so+0x1a2b foo_bar+0x12".
func nativeFrame(s string) string {
	if len(s) > 2 && s[1] == ' ' {
		s = strings.TrimSpace(s[1:])
	}
	s = strings.NewReplacer("[", "", "]", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

func (p *parser) offerCrash(e *Extractor) {
	c := &p.cr
	out := &Cause{Kind: JVMCrash, Frame: c.frame, HsErr: c.hsErr, Line: c.line}
	var s string
	if c.insufficient {
		s = "the JVM ran out of native memory"
		if c.detail != "" {
			s += ": " + c.detail
			out.Message = c.detail
		}
	} else {
		what := c.what
		if what == "" {
			what = "a fatal error"
		}
		s = "the JVM crashed with " + what
		out.Message = what
		if c.frame != "" {
			s += " in " + c.frame
		}
	}
	e.offer(rankCrash, out.finish(s))
}

// maxHsErrHead is how much of an hs_err_pid*.log file ParseHsErr reads.
const maxHsErrHead = 16 << 10

// ParseHsErr reads the head of an hs_err_pid*.log file (the JVM's fatal
// error log) and returns its cause, or nil when the head is not a fatal
// error header. name is recorded as the cause's HsErr.
func ParseHsErr(r io.Reader, name string) (*Cause, error) {
	head, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), maxHsErrHead))
	if err != nil {
		return nil, err
	}
	if i := bytes.Index(head, []byte("\n---------------")); i >= 0 {
		head = head[:i+1]
	}
	e := New()
	e.Write(Stdout, head)
	e.Close()
	c := e.slots[rankCrash]
	if c == nil {
		return nil, nil
	}
	c.HsErr = name
	c.Line = 0
	return c, nil
}
