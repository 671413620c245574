package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/runrec"
)

// The lines `holdfast logs --why` shows around the cause's line.
const (
	whyBefore = 5
	whyAfter  = 10
	// whyLineMax is the most of one line kept for the excerpt: the window
	// holds whyBefore+1+whyAfter lines whatever the app wrote.
	whyLineMax = 4 << 10
)

// cmdWhy prints the lines of a run's output around its cause's line, with
// their line numbers in output.log: run N, or without one the newest kept
// run that has a cause.
func cmdWhy(c *control.Client, w io.Writer, run int) error {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	runs, err := c.Runs(ctx)
	if err != nil {
		return err
	}
	rec, err := whyRun(runs, run)
	if err != nil {
		return err
	}
	cz := rec.Cause
	fmt.Fprintf(w, "run %d: %s (%s)\n", rec.Run, cz.Summary, cz.Kind)
	if cz.Line <= 0 {
		return fmt.Errorf("run %d's cause (%s) comes from its exit, not from a line of its output: `holdfast logs --run %d --tail 100` shows how the output ended", rec.Run, cz.Kind, rec.Run)
	}
	win := newLineWindow(cz.Line-whyBefore, cz.Line+whyAfter)
	err = c.Logs(ctx, win, rec.Run, 0, false)
	if err != nil && !errors.Is(err, errWindowDone) {
		return err
	}
	win.end()
	if len(win.lines) == 0 || win.first+len(win.lines)-1 < cz.Line {
		return fmt.Errorf("line %d of run %d's output is not in what was kept (%d lines): `holdfast logs --run %d` shows all of it", cz.Line, rec.Run, win.seen, rec.Run)
	}
	width := len(fmt.Sprint(win.first + len(win.lines) - 1))
	for i, l := range win.lines {
		n, mark := win.first+i, " "
		if n == cz.Line {
			mark = ">"
		}
		fmt.Fprintf(w, "%s %*d  %s\n", mark, width, n, l)
	}
	return nil
}

// whyRun is the record `holdfast logs --why` explains: run n (n > 0), or
// the newest run with a cause.
func whyRun(runs []runrec.RunRecord, n int) (runrec.RunRecord, error) {
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		switch {
		case n > 0 && r.Run != n:
			continue
		case r.Cause != nil:
			return r, nil
		case n > 0 && r.ExitCode == nil:
			return r, fmt.Errorf("run %d has not ended: it has no cause yet", n)
		case n > 0:
			return r, fmt.Errorf("run %d has no cause (exit code %d: %s)", n, *r.ExitCode, r.Reason)
		}
	}
	if n > 0 {
		return runrec.RunRecord{}, fmt.Errorf("run %d is not kept (`holdfast runs` lists the kept runs)", n)
	}
	return runrec.RunRecord{}, errors.New("no kept run has a cause: none failed, or their records do not say why")
}

// errWindowDone stops the copy of a run's output once the window is full.
var errWindowDone = errors.New("the lines around the cause are read")

// lineWindow is a writer that keeps lines from..to (numbered from 1) of
// what is written to it, each cut to whyLineMax bytes, and fails with
// errWindowDone after line to.
type lineWindow struct {
	from, to int
	first    int      // the number of lines[0]
	lines    []string // the kept lines, without their newline
	seen     int      // complete lines written so far
	cur      []byte   // the part of the current line kept (up to whyLineMax)
	open     bool     // bytes of a line without its newline yet were written
}

func newLineWindow(from, to int) *lineWindow {
	from = max(from, 1)
	return &lineWindow{from: from, to: to, first: from}
}

func (lw *lineWindow) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		if line := lw.seen + 1; line >= lw.from && line <= lw.to && len(lw.cur) < whyLineMax {
			lw.cur = append(lw.cur, part[:min(len(part), whyLineMax-len(lw.cur))]...)
		}
		if i < 0 {
			lw.open = true
			break
		}
		lw.endLine()
		p = p[i+1:]
		if lw.seen >= lw.to {
			return n, errWindowDone
		}
	}
	return n, nil
}

// end counts a last line that did not end in a newline.
func (lw *lineWindow) end() {
	if lw.open {
		lw.endLine()
	}
}

func (lw *lineWindow) endLine() {
	lw.open = false
	lw.seen++
	if lw.seen >= lw.from && lw.seen <= lw.to {
		lw.lines = append(lw.lines, string(bytes.TrimSuffix(lw.cur, []byte("\r"))))
	}
	lw.cur = lw.cur[:0]
}
