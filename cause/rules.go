package cause

import (
	"bytes"
	"strings"
)

// lvl is the log level of the line that introduces an exception.
type lvl uint8

const (
	lvlNone    lvl = iota // no log level: raw output, e.g. an uncaught exception
	lvlError              // ERROR, FATAL, SEVERE: a failure
	lvlHandled            // WARN, INFO, DEBUG, …: logged and handled, never a cause
)

// parser holds the rules' state for one stream (or for the text of one
// JSON field, sub).
type parser struct {
	prev      []byte // the last non-blank line: a view until keepPrev
	prevBuf   []byte
	prevOwned bool

	ch     chain
	sp     spring
	cr     crash
	initVM int // line of "Error occurred during initialization of VM", awaiting its detail

	sub   bool // text from inside a JSON field: no JSON, level given
	force lvl
}

func (p *parser) setPrev(b []byte) { p.prev, p.prevOwned = b, false }

// keepPrev copies the previous line out of the caller's buffer.
func (p *parser) keepPrev() {
	if p.prevOwned || p.prev == nil {
		return
	}
	b := p.prev
	if len(b) > maxPrev {
		b = b[:maxPrev]
	}
	p.prevBuf = append(p.prevBuf[:0], b...)
	p.prev, p.prevOwned = p.prevBuf, true
}

func (p *parser) footprint() int {
	return cap(p.prevBuf) + p.ch.size() + cap(p.sp.desc) + cap(p.sp.action) + p.cr.size()
}

// line applies the rules to one line of text, without its newline.
func (p *parser) line(e *Extractor, b []byte, n int) {
	if p.sp.phase != 0 && p.springLine(e, b) {
		return
	}
	if p.cr.active {
		if len(b) > 0 && b[0] == '#' {
			p.crashLine(e, b)
			return
		}
		p.cr.active = false
	}
	if blank(b) {
		if p.ch.active && !p.ch.message(b) {
			p.endChain(e)
		}
		return
	}
	if c := b[0]; c == '\t' || c == ' ' {
		w, rest := indent(b)
		switch {
		case hasPrefix(rest, "at "):
			p.frame(rest[3:], w)
			return
		case hasPrefix(rest, "... "):
			if p.ch.pending {
				p.ch.confirm()
			}
			return
		case p.ch.active && hasPrefix(rest, "Suppressed: "):
			p.ch.suppressed = true
			return
		case hasPrefix(rest, "Caused by:") && (p.ch.active || p.ch.pending):
			if w <= p.ch.base {
				p.causedBy(e, rest[len("Caused by:"):], n)
			}
			return // deeper: a suppressed exception's chain, not the cause
		}
	} else if c == 'C' && hasPrefix(b, "Caused by:") {
		p.causedBy(e, b[len("Caused by:"):], n)
		return
	}
	if p.ch.active {
		if p.ch.message(b) {
			return
		}
		p.endChain(e)
	}
	if p.ch.awaitHeader {
		p.ch.awaitHeader = false
		t := trimSpace(b)
		if end := classEnd(t); end > 0 {
			p.ch.level(t, end, n)
			return
		}
	}
	p.other(e, b, n)
	p.setPrev(b)
}

// end finishes what is open when the output ends.
func (p *parser) end(e *Extractor) {
	if p.sp.phase >= phaseDescription {
		p.finishSpring(e)
	}
	if p.ch.active {
		p.endChain(e)
	}
	p.ch = chain{}
}

// other handles a line that continues no block.
func (p *parser) other(e *Extractor, b []byte, n int) {
	t := trimSpace(b)
	if len(t) == 0 {
		return
	}
	if p.initVM > 0 {
		e.offer(rankLaunch, launch("Error occurred during initialization of VM: "+string(t), p.initVM))
		p.initVM = 0
	}
	if p.ch.pending {
		p.ch.pendingLines++
		if p.ch.pendingLines > maxPendingLines {
			p.ch = chain{}
		} else if p.ch.needMsg {
			p.ch.top.msg = clip(t)
			p.ch.needMsg = false
		}
	}
	switch t[0] {
	case '{':
		if !p.sub {
			e.jsonLine(t, n)
		}
		return
	case '#':
		p.crashStart(e, t, n)
		return
	case 'A':
		if bytes.Equal(t, bannerSpring) {
			p.sp = spring{phase: phaseBanner, line: n, desc: p.sp.desc[:0], action: p.sp.action[:0]}
			return
		}
		if rest, ok := cutPrefix(t, "Aborting due to "); ok {
			p.header(e, rest, b, n, lvlError)
			return
		}
	case 'D':
		if rest, ok := cutPrefix(t, "Dumping heap to "); ok {
			e.heapDump = clip(bytes.TrimSuffix(rest, []byte(" ...")))
			// The JVM's own report (-XX:+HeapDumpOnOutOfMemoryError): the
			// error line before it is the JVM's, whatever was logged
			// before that.
			if c := p.ch; c.pending && c.top.class == "java.lang.OutOfMemoryError" {
				if o := oom(c.top.msg, c.top.line); o != nil {
					e.offer(rankOOM, o)
				}
			}
			return
		}
	case 'E':
		if rest, ok := cutPrefix(t, "Exception in thread \""); ok {
			if i := bytes.Index(rest, []byte("\" ")); i >= 0 {
				p.header(e, rest[i+2:], b, n, lvlError)
			}
			return
		}
		if p.launchError(e, t, n) {
			return
		}
	case 'I':
		if hasPrefix(t, "Invalid ") && (bytes.Contains(t, []byte("heap size")) || bytes.Contains(t, []byte("stack size"))) {
			e.offer(rankLaunch, launch(string(t), n))
			return
		}
	case 'T':
		if rest, ok := cutPrefix(t, "Terminating due to "); ok {
			p.header(e, rest, b, n, lvlError)
			return
		}
	case 'U':
		if hasPrefix(t, "Unrecognized VM option ") || hasPrefix(t, "Unrecognized option: ") {
			e.offer(rankLaunch, launch(string(t), n))
			return
		}
	case 'j':
		// A thread dump's state line (jstack, SIGQUIT): its frames follow,
		// but it is no exception.
		if hasPrefix(t, "java.lang.Thread.State: ") {
			return
		}
	case 'n':
		if hasPrefix(t, "no main manifest attribute, in ") {
			e.offer(rankLaunch, launch(string(t), n))
			return
		}
	}
	if end := classEnd(t); end > 0 {
		p.header(e, t, b, n, p.levelOfPrev())
		return
	}
	if ex := e.slots[rankException]; !p.sub && ex != nil && ex.Line < n && started(t) {
		// The app went on to start: what it logged before was handled.
		e.slots[rankException] = nil
	}
}

var bannerSpring = []byte("APPLICATION FAILED TO START")

// launchError reads the java launcher's "Error: …" lines.
func (p *parser) launchError(e *Extractor, t []byte, n int) bool {
	if bytes.Equal(t, []byte("Error occurred during initialization of VM")) {
		e.offer(rankLaunch, launch(string(t), n))
		p.initVM = n
		return true
	}
	rest, ok := cutPrefix(t, "Error: ")
	if !ok {
		return false
	}
	for _, s := range launcherErrors {
		if hasPrefix(rest, s) {
			e.offer(rankLaunch, launch(string(rest), n))
			return true
		}
	}
	if hasPrefix(rest, "Could not create the Java Virtual Machine.") && e.slots[rankLaunch] == nil {
		e.offer(rankLaunch, launch(string(rest), n))
		return true
	}
	return false
}

// launcherErrors are the java launcher's messages after "Error: ".
var launcherErrors = []string{
	"Unable to access jarfile ",
	"Could not find or load main class ",
	"Invalid or corrupt jarfile ",
	"LinkageError occurred while loading main class ",
	"Main method not found in class ",
	"Unable to initialize main class ",
}

func launch(msg string, n int) *Cause {
	c := &Cause{Kind: JVMLaunch, Message: msg, Line: n}
	return c.finish("the JVM did not start: " + msg)
}

// started says whether t is a server's "started" line: Spring Boot's
// "Started X in N seconds (…)", Tomcat's "Server startup in", Jetty's
// "Started Server@" / "oejs.Server:main: Started".
func started(t []byte) bool {
	return bytes.Contains(t, []byte("Server startup in")) ||
		bytes.Contains(t, []byte("Started ")) && (bytes.Contains(t, []byte(" seconds (")) ||
			bytes.Contains(t, []byte("Started Server@")) || bytes.Contains(t, []byte("oejs.Server:main: Started")))
}

// header reads a line that starts with an exception class name.
// line is the whole line, for its indentation.
func (p *parser) header(e *Extractor, t, line []byte, n int, l lvl) {
	if p.sub {
		l = p.force
	}
	end := classEnd(t)
	if end <= 0 {
		return
	}
	cls, msg := splitHeader(t, end)
	if l != lvlHandled {
		switch cls {
		case "java.lang.OutOfMemoryError":
			if c := oom(msg, n); c != nil {
				e.offer(rankOOM, c)
			}
		case "java.lang.UnsupportedClassVersionError":
			e.offer(rankLaunch, launch("UnsupportedClassVersionError: "+msg, n))
		}
	}
	w, _ := indent(line)
	p.ch = chain{pending: true, lvl: l, top: exc{cls, msg, n}, needMsg: msg == "", base: w}
}

// levelOfPrev is the log level of the line before this one.
func (p *parser) levelOfPrev() lvl {
	if p.sub {
		return p.force
	}
	return levelOf(p.prev)
}

// levelOf finds the first log level word in the head of a log line.
func levelOf(b []byte) lvl {
	if len(b) > 200 {
		b = b[:200]
	}
	for _, f := range fatalLoggers {
		if bytes.Contains(b, f) {
			return lvlError
		}
	}
	for i := 0; i < len(b); {
		if b[i] < 'A' || b[i] > 'Z' {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] >= 'A' && b[j] <= 'Z' {
			j++
		}
		if (i == 0 || !isLetter(b[i-1])) && (j == len(b) || !isLetter(b[j])) {
			switch string(b[i:j]) {
			case "ERROR", "FATAL", "SEVERE", "CRITICAL", "ERR", "CRIT":
				return lvlError
			case "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "FINE", "FINER", "FINEST", "CONFIG", "NOTICE":
				return lvlHandled
			}
		}
		i = j
	}
	return lvlNone
}

// fatalLoggers log a failure that ends the app below ERROR: Jetty's
// XmlConfiguration.main (start.jar) logs it at WARN and exits.
var fatalLoggers = [][]byte{
	[]byte("oejx.XmlConfiguration:main:"),
	[]byte("org.eclipse.jetty.xml.XmlConfiguration:main:"),
}

// oom is the candidate for an OutOfMemoryError with message msg, or nil
// when msg is not a kind this package names.
func oom(msg string, n int) *Cause {
	var k Kind
	var what string
	switch {
	case hasAnyPrefix(msg, "Java heap space", "GC overhead limit exceeded", "Requested array size exceeds VM limit"):
		k, what = OOMHeap, "the JVM ran out of heap"
	case hasAnyPrefix(msg, "Metaspace", "Compressed class space"):
		k, what = OOMMetaspace, "the JVM ran out of metaspace"
	case strings.Contains(msg, "native thread"):
		k, what = OOMNativeThread, "the JVM could not start a thread"
	case strings.Contains(msg, "irect buffer memory"):
		k, what = OOMDirect, "the JVM ran out of direct buffer memory"
	default:
		return nil
	}
	c := &Cause{Kind: k, Exception: "java.lang.OutOfMemoryError", Message: msg, Line: n}
	return c.finish(what + ": java.lang.OutOfMemoryError: " + msg)
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// classEnd is the length of the Java class name t starts with, when it is
// followed by ':' or nothing, else -1: "java.lang.IllegalStateException:
// …" gives 31. A class name has a package and an upper-case simple name.
func classEnd(t []byte) int {
	if len(t) == 0 || !isLetter(t[0]) {
		return -1
	}
	dots, last := 0, -1
	i := 0
	for ; i < len(t); i++ {
		c := t[i]
		if isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '$' {
			continue
		}
		if c == '.' {
			dots++
			last = i
			continue
		}
		break
	}
	if dots == 0 || last == i-1 || i < len(t) && t[i] != ':' {
		return -1
	}
	if c := t[last+1]; c < 'A' || c > 'Z' {
		return -1
	}
	return i
}

func splitHeader(t []byte, end int) (cls, msg string) {
	cls = string(t[:end])
	if end < len(t) {
		msg = clip(trimSpace(t[end+1:]))
	}
	return cls, msg
}

// clip copies at most maxField bytes of b.
func clip(b []byte) string {
	if len(b) > maxField {
		b = b[:maxField]
	}
	return string(b)
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func cutPrefix(b []byte, s string) ([]byte, bool) {
	if hasPrefix(b, s) {
		return b[len(s):], true
	}
	return b, false
}

func trimSpace(b []byte) []byte { return bytes.Trim(b, " \t\r") }

// indent is the width of b's leading white space (a tab is 8) and the
// rest of b.
func indent(b []byte) (width int, rest []byte) {
	i := 0
	for ; i < len(b) && (b[i] == ' ' || b[i] == '\t'); i++ {
		if b[i] == '\t' {
			width += 8
		} else {
			width++
		}
	}
	return width, b[i:]
}
