package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// table is one markdown table with the lines that explain it.
type table struct {
	title  string   // a "###" heading
	intro  string   // what was measured, before the table
	header []string // column names
	rows   [][]string
	notes  []string // after the table: targets, noise, errors
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// target records whether a stated target was met; a benchmark only reports,
// it never fails.
func (t *table) target(what string, met bool, detail string) {
	verdict := "**met**"
	if !met {
		verdict = "**missed**"
	}
	t.note("Target: %s: %s (%s).", what, verdict, detail)
}

func (t *table) write(w io.Writer) {
	fmt.Fprintf(w, "### %s\n\n", t.title)
	if t.intro != "" {
		fmt.Fprintf(w, "%s\n\n", t.intro)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.header, " | "))
	seps := make([]string, len(t.header))
	for i := range seps {
		seps[i] = "---"
		if i > 0 {
			seps[i] = "---:"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
	for _, n := range t.notes {
		fmt.Fprintf(w, "%s\n\n", n)
	}
}

// f formats a number with the given decimals; "n/a" when unknown.
func f(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", decimals, v)
}

// x formats a ratio as "1.23x".
func x(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", v)
}
