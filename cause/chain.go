package cause

import (
	"bytes"
	"strings"
)

// maxPendingLines is how many message lines an exception header may have
// before its first frame (Flyway's migration report has about ten).
const maxPendingLines = 30

// chain is a Java exception chain being read: the top exception, its
// Caused by levels, and their frames.
type chain struct {
	// pending: a header was read and no frame yet; active: frames
	// confirmed it.
	pending, active bool
	pendingLines    int
	needMsg         bool // the header had no message: take the next line
	awaitHeader     bool // "Caused by:" alone: the next line is the class
	lvl             lvl
	top, deep       exc
	depth           int
	base            int  // the header's indentation
	suppressed      bool // in a Suppressed: block
	inMsg           bool // after a Caused by, before its first frame
	msgLines        int
	levelFrame      bool   // the current level has its frame
	frame           string // the deepest level's first frame outside Frameworks
}

type exc struct {
	class, msg string
	line       int
}

func (c *chain) size() int {
	return len(c.top.class) + len(c.top.msg) + len(c.deep.class) + len(c.deep.msg) + len(c.frame)
}

func (c *chain) confirm() { c.pending, c.active = false, true }

// level starts the next Caused by level.
func (c *chain) level(t []byte, end, n int) {
	cls, msg := splitHeader(t, end)
	c.deep = exc{cls, msg, n}
	c.depth++
	c.levelFrame = false
	c.suppressed = false
	c.inMsg, c.msgLines = true, 0
}

// message says whether b continues the message of a Caused by that has
// no frame yet (Flyway's migration report spans lines); a log line or a
// JSON line does not.
func (c *chain) message(b []byte) bool {
	if !c.inMsg || c.msgLines >= maxPendingLines || len(b) > 0 && (b[0] >= '0' && b[0] <= '9' || b[0] == '{') {
		return false
	}
	c.msgLines++
	return true
}

// frame reads a stack frame; s is the text after "at ".
func (p *parser) frame(s []byte, width int) {
	c := &p.ch
	if !c.active {
		if !c.pending {
			return
		}
		c.confirm()
	}
	c.inMsg = false
	if c.levelFrame || c.suppressed || width > c.base+8 {
		return
	}
	if f, ok := appFrame(s); ok {
		c.frame = string(f)
		c.levelFrame = true
	}
}

// causedBy reads a "Caused by:" line; rest is the text after the colon.
func (p *parser) causedBy(e *Extractor, rest []byte, n int) {
	c := &p.ch
	t := trimSpace(rest)
	if !c.active && !c.pending {
		// A cause with no chain before it, e.g. after the launcher's
		// "Could not find or load main class": a chain only if frames
		// follow.
		if end := classEnd(t); end > 0 {
			p.header(e, t, t, n, p.levelOfPrev())
		}
		return
	}
	if len(t) == 0 {
		c.awaitHeader = true
		return
	}
	if end := classEnd(t); end > 0 {
		c.level(t, end, n)
	}
}

// endChain offers the chain just read, unless it was logged as handled.
func (p *parser) endChain(e *Extractor) {
	c := p.ch
	p.ch = chain{}
	if !c.active || c.lvl == lvlHandled {
		return
	}
	d := c.top
	if c.depth > 0 {
		d = c.deep
	}
	for _, x := range []exc{d, c.top} {
		if x.class == "java.lang.OutOfMemoryError" {
			if o := oom(x.msg, x.line); o != nil {
				e.offer(rankOOM, o)
				return
			}
		}
	}
	if d.class == "java.lang.UnsupportedClassVersionError" {
		return // offered as jvm-launch when its header was read
	}
	out := &Cause{Kind: Exception, Exception: d.class, Message: d.msg, Frame: c.frame, Line: d.line}
	e.offer(rankException, out.finish(exceptionSummary(d.class, d.msg, c.frame)))
}

// exceptionSummary is "Class: message at frame", the message cut so that
// the frame fits.
func exceptionSummary(cls, msg, frame string) string {
	if frame != "" && len(cls)+2+min(len(msg), 60)+4+len(frame) > MaxSummary {
		frame = "" // it does not fit: the frame field has it
	}
	var b strings.Builder
	b.WriteString(cls)
	if msg != "" {
		room := MaxSummary - len(cls) - 2
		if frame != "" {
			room -= len(frame) + 4
		}
		b.WriteString(": ")
		b.WriteString(oneLine(msg, room))
	}
	if frame != "" {
		b.WriteString(" at ")
		b.WriteString(frame)
	}
	return b.String()
}

// appFrame returns the frame s (the text after "at ") without its module
// and jar suffix, and whether its class is outside Frameworks. It runs for
// most frames of a trace, so it avoids maps and backward scans.
func appFrame(s []byte) ([]byte, bool) {
	if len(s) == 0 || isFrameworkBytes(s) {
		return nil, false // most frames, and "java.base/…" too
	}
	if i := bytes.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	if i := bytes.IndexByte(s, '/'); i >= 0 && i < bytes.IndexByte(s, '(') {
		s = bytes.TrimLeft(s[i:], "/") // "java.base/java.lang…", "app//com.example…"
	}
	if len(s) == 0 || s[0] == '(' || isFrameworkBytes(s) {
		return nil, false
	}
	return s, true
}

// frameworkTable holds the Frameworks prefixes by the letters that start
// their first and second segments: one[a] holds the one-segment prefixes
// starting with a ("java."), two[a][b] the longer ones ("org.s…").
var frameworkTable = func() (t struct {
	one [26][]string
	two [26][26][]string
}) {
	for _, p := range Frameworks {
		a := p[0] - 'a'
		_, rest, _ := strings.Cut(p, ".")
		if rest == "" {
			t.one[a] = append(t.one[a], p)
			continue
		}
		b := rest[0] - 'a'
		t.two[a][b] = append(t.two[a][b], p)
	}
	return t
}()

func isFrameworkBytes(name []byte) bool {
	a := name[0] - 'a'
	if a >= 26 {
		return false
	}
	for _, p := range frameworkTable.one[a] {
		if hasPrefix(name, p) {
			return true
		}
	}
	i := bytes.IndexByte(name, '.')
	if i < 0 || i+1 >= len(name) {
		return false
	}
	b := name[i+1] - 'a'
	if b >= 26 {
		return false
	}
	for _, p := range frameworkTable.two[a][b] {
		if hasPrefix(name, p) {
			return true
		}
	}
	return false
}
