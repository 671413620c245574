package cause

import (
	"bytes"
	"encoding/json"
	"strings"
)

// jsonKeys says which lines are worth decoding: a JSON log line without
// one of these has no field this package reads.
var jsonKeys = [][]byte{
	[]byte(`stack_trace"`), []byte(`"full_message"`), []byte(`"error`), []byte(`APPLICATION FAILED TO START`),
}

// Fields of structured log lines, flattened ("error": {"type": …} is
// "error.type"). Spring Boot's ECS, Logstash and GELF formats,
// logstash-logback-encoder, and ECS loggers in general.
var (
	jsonStackKeys   = []string{"error.stack_trace", "stack_trace", "_error_stack_trace", "_stack_trace", "full_message"}
	jsonLevelKeys   = []string{"log.level", "level", "severity"}
	jsonMessageKeys = []string{"message", "short_message"}
)

// jsonLine reads a line that is a JSON object. Only its exception fields
// are read through the text rules, so that text quoted in any other field
// (a message that mentions "Caused by:") never fires; its message is read
// only for Spring Boot's failure analysis.
func (e *Extractor) jsonLine(b []byte, n int) {
	hit := false
	for _, k := range jsonKeys {
		if bytes.Contains(b, k) {
			hit = true
			break
		}
	}
	if !hit {
		return
	}
	var raw map[string]any
	if json.Unmarshal(b, &raw) != nil {
		return
	}
	m := map[string]any{}
	flatten(m, "", raw, 0)
	l := jsonLevel(m)
	if l == lvlHandled {
		return
	}
	if stack := firstString(m, jsonStackKeys); stack != "" {
		e.subText(stack, n, l)
	} else if typ, _ := m["error.type"].(string); typ != "" && l == lvlError {
		msg, _ := m["error.message"].(string)
		c := &Cause{Kind: Exception, Exception: typ, Message: msg, Line: n}
		if o := oomOf(typ, msg, n); o != nil {
			e.offer(rankOOM, o)
		} else {
			e.offer(rankException, c.finish(exceptionSummary(typ, msg, "")))
		}
	}
	if msg := firstString(m, jsonMessageKeys); strings.Contains(msg, string(bannerSpring)) {
		e.subText(msg, n, l)
	}
}

func oomOf(cls, msg string, n int) *Cause {
	if cls != "java.lang.OutOfMemoryError" {
		return nil
	}
	return oom(msg, n)
}

// subText reads the text of a JSON field line by line through the rules,
// every line at line n, at log level l.
func (e *Extractor) subText(s string, n int, l lvl) {
	if l == lvlNone {
		l = lvlError // an exception field with no level is reported as a failure
	}
	p := parser{sub: true, force: l}
	for _, ln := range strings.Split(s, "\n") {
		p.line(e, []byte(strings.TrimRight(ln, "\r")), n)
	}
	p.end(e)
}

func flatten(dst map[string]any, prefix string, src map[string]any, depth int) {
	for k, v := range src {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && depth < 3 {
			flatten(dst, key, sub, depth+1)
			continue
		}
		dst[key] = v
	}
}

func firstString(m map[string]any, keys []string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// jsonLevel reads the level field: a name, or a syslog number (GELF).
func jsonLevel(m map[string]any) lvl {
	for _, k := range jsonLevelKeys {
		switch v := m[k].(type) {
		case string:
			return levelOf([]byte(strings.ToUpper(v)))
		case float64:
			if v <= 3 {
				return lvlError
			}
			return lvlHandled
		}
	}
	return lvlNone
}
