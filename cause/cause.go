package cause

import (
	"strings"
	"unicode/utf8"
)

// MaxSummary is the longest Summary, in bytes.
const MaxSummary = 200

// maxField is the longest of the other text fields, in bytes.
const maxField = 1000

// Cause is why a run ended, as run.json records it (the "cause" object).
// Summary is one line of at most MaxSummary bytes, worded without
// timestamps or pids where the evidence allows, so that the same failure
// repeated gives the same Summary. The other fields are set where found.
type Cause struct {
	Kind    Kind   `json:"kind"`
	Summary string `json:"summary"`
	// Exception and Message: the deepest exception of the chain, or the
	// OutOfMemoryError.
	Exception string `json:"exception,omitempty"`
	Message   string `json:"message,omitempty"`
	// Frame is the first stack frame outside the framework prefixes
	// (Frameworks), or the hs_err "Problematic frame".
	Frame string `json:"frame,omitempty"`
	// Description and Action: Spring Boot's failure analysis, each on one
	// line.
	Description string `json:"description,omitempty"`
	Action      string `json:"action,omitempty"`
	// Line is the line number, from 1, in the run's combined output (as
	// output.log records it) where the evidence is.
	Line int `json:"line,omitempty"`
	// HeapDump and HsErr are the files the JVM wrote, as it named them.
	HeapDump string `json:"heap_dump,omitempty"`
	HsErr    string `json:"hs_err,omitempty"`
	// MemoryLimit and MemoryPeak, in bytes, for oom-killed where known.
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
	MemoryPeak  uint64 `json:"memory_peak,omitempty"`
}

// oneLine makes s one line: control characters become spaces, runs of
// spaces one space, and it is cut to at most max bytes at a rune boundary
// ("..." marks the cut).
func oneLine(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max+3))
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == ' ' || r == utf8.RuneError {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > max {
			break
		}
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	cut := max - 3
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return strings.TrimRight(out[:cut], " ") + "..."
}

// field cleans a text field.
func field(s string) string { return oneLine(s, maxField) }

// finish sets Summary from s and cleans every text field.
func (c *Cause) finish(s string) *Cause {
	c.Summary = oneLine(s, MaxSummary)
	c.Exception = field(c.Exception)
	c.Message = field(c.Message)
	c.Frame = field(c.Frame)
	c.Description = field(c.Description)
	c.Action = field(c.Action)
	return c
}
