package hfrun

import "strings"

// CountLines is how many lines of s are exactly line: a count of a
// program's own output lines that a quote of one (a banner's "last stderr
// line: …") does not inflate.
func CountLines(s, line string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			n++
		}
	}
	return n
}
