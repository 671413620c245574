package cause

import (
	"bytes"
	"strings"
)

const (
	phaseBanner      = 1 // APPLICATION FAILED TO START read, awaiting Description:
	phaseDescription = 2
	phaseAction      = 3
	maxSpringText    = 2 << 10
	maxSpringLines   = 200
)

// spring is Spring Boot's failure analysis being read.
type spring struct {
	phase        int
	line         int
	lines        int
	desc, action []byte
}

// springLine reads a line of the failure analysis; false means the block
// ended before this line, which the other rules then read.
func (p *parser) springLine(e *Extractor, b []byte) bool {
	s := &p.sp
	t := trimSpace(b)
	s.lines++
	switch s.phase {
	case phaseBanner:
		switch {
		case len(t) == 0 || len(bytes.Trim(t, "*")) == 0:
			return true
		case string(t) == "Description:":
			s.phase = phaseDescription
			return true
		}
		s.phase = 0
		return false
	case phaseDescription:
		if string(t) == "Action:" {
			s.phase = phaseAction
			return true
		}
		if s.lines > maxSpringLines {
			p.finishSpring(e)
			return false
		}
		s.desc = appendText(s.desc, t)
		return true
	default: // phaseAction
		if len(t) == 0 {
			if len(s.action) > 0 {
				p.finishSpring(e)
			}
			return true
		}
		if len(s.action) > 0 && (t[0] >= '0' && t[0] <= '9' || t[0] == '{') || s.lines > maxSpringLines {
			p.finishSpring(e) // a log line: the block has ended
			return false
		}
		s.action = appendText(s.action, t)
		return true
	}
}

// appendText adds a line to a paragraph text; an empty line ends a
// paragraph ("\n").
func appendText(buf, t []byte) []byte {
	if len(buf) >= maxSpringText {
		return buf
	}
	if len(t) == 0 {
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			buf = append(buf, '\n')
		}
		return buf
	}
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		buf = append(buf, ' ')
	}
	if room := maxSpringText - len(buf); len(t) > room {
		t = t[:room]
	}
	return append(buf, t...)
}

func (p *parser) finishSpring(e *Extractor) {
	s := &p.sp
	s.phase = 0
	desc := strings.TrimSpace(string(s.desc))
	if desc == "" {
		return
	}
	c := &Cause{Kind: SpringFailureAnalysis, Description: desc, Action: strings.TrimSpace(string(s.action)), Line: s.line}
	e.offer(rankSpring, c.finish(springSummary(desc)))
}

// springSummary is the first sentence of the description (two when the
// first is short, as in "Web server failed to start. Port 8080 was
// already in use."); a sentence that ends in a colon gets the Reason
// line of the description, as the binding failures have.
func springSummary(desc string) string {
	para, _, _ := strings.Cut(desc, "\n")
	s := sentence(para)
	if len(s) < 40 && len(s) < len(para) {
		s += " " + sentence(strings.TrimSpace(para[len(s):]))
	}
	if strings.HasSuffix(s, ":") {
		if i := strings.Index(desc, "Reason: "); i >= 0 {
			r, _, _ := strings.Cut(desc[i:], "\n")
			s += " " + r
		}
	}
	return s
}

// sentence is s up to and including its first ". ", or all of s.
func sentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
