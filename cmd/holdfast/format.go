package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/holdfast-dev/holdfast/internal/exitdesc"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// formatStatus renders the status for a person: the phase and why first,
// then what to run next.
func formatStatus(s state.Snapshot) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	phase := strings.ToUpper(string(s.Phase))
	if s.Phase == state.Held && s.HoldReason != nil {
		phase += " (" + string(*s.HoldReason) + ")"
		if s.HeldSince != nil {
			phase += fmt.Sprintf(" since %s, %s ago", s.HeldSince.UTC().Format(time.RFC3339), ago(*s.HeldSince))
		}
	}
	row("phase:", "%s", phase)
	why := s.Why()
	if why != "" {
		// The current run ended: its cause is why the app is not there.
		row("why:", "%s", why)
	}
	row("app:", "%s", strings.Join(s.Command, " "))
	if s.PID > 0 {
		row("pid:", "%d (run %d, started %s ago)", s.PID, s.Run, ago(derefTime(s.StartedAt)))
	} else {
		row("pid:", "none (run %d)", s.Run)
	}
	ready := "yes"
	if !s.Ready {
		ready = "no — " + s.NotReadyReason
	}
	row("ready:", "%s", ready)
	readinessRows(s, row)
	row("restarts:", "%d in all; %d of %d startup-crash restarts used", s.Restarts, s.BudgetUsed, s.MaxRestarts)
	if s.InHoldWindow {
		row("window:", "in the crash-hold window (a crash now counts as a startup crash)")
	}
	if e := s.LastExit; e != nil {
		row("last exit:", "%s after %.1fs (run %d, %s ago)", exitdesc.Text(e.Code, e.Signal, e.CoreDumped), e.RanForSeconds, e.Run, ago(e.At))
		if why == "" && e.Cause != nil {
			// An earlier run's cause: the app has started again since.
			row("why:", "%s", e.Cause.Summary)
		}
	}
	if s.EvidenceDir != nil {
		row("evidence:", "%s", *s.EvidenceDir)
	} else if !s.StateDirWritable {
		row("evidence:", "in memory only (%s is not writable)", s.StateDir)
	}
	if s.StateDirDegraded != "" {
		row("degraded:", "%s", s.StateDirDegraded)
	}
	if s.HoldExpiresAt != nil {
		row("hold ends:", "%s (in %s)", s.HoldExpiresAt.UTC().Format(time.RFC3339), time.Until(*s.HoldExpiresAt).Round(time.Second))
	}
	switch s.Phase {
	case state.Held:
		first := "next:"
		if e := s.LastExit; e != nil && e.Cause != nil && e.Cause.Line > 0 {
			row(first, "holdfast logs --why        # the lines around the cause")
			first = ""
		}
		row(first, "holdfast logs --tail 100   # what the app said")
		row("", "holdfast runs             # every run and its evidence")
		row("", "holdfast restart          # try again with a fresh budget")
		row("", "holdfast release          # give up: exit with the app's code")
	case state.Backoff:
		row("next:", "holdfast restart  # skip the backoff;  holdfast hold  # stop restarting")
	}
	w.Flush()
	return b.String()
}

// minWhy is the narrowest WHY column: with less room than this left of
// the width, each run's cause goes on a line of its own under the run.
const minWhy = 24

// formatRuns renders the kept runs as a table no wider than width, its
// last column the cause (WHY), cut to fit.
func formatRuns(runs []runrec.RunRecord, now state.Snapshot, width int) string {
	if len(runs) == 0 {
		return "no runs kept yet\n"
	}
	rows := [][]string{{"RUN", "STARTED", "RAN", "EXIT", "REASON", "DECISION", "EVIDENCE"}}
	whys := []string{"WHY"}
	for _, r := range runs {
		rows = append(rows, runRow(r, now))
		why := "-"
		if r.Cause != nil && r.Cause.Summary != "" {
			why = r.Cause.Summary
		}
		whys = append(whys, why)
	}
	cols := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			cols[i] = max(cols[i], utf8.RuneCountInString(cell))
		}
	}
	const gap = 2
	at := 0 // where WHY starts
	for _, w := range cols {
		at += w + gap
	}
	inline := width-at >= minWhy
	var b strings.Builder
	for i, row := range rows {
		for j, cell := range row {
			b.WriteString(cell)
			if j < len(row)-1 || inline {
				b.WriteString(strings.Repeat(" ", cols[j]-utf8.RuneCountInString(cell)+gap))
			}
		}
		switch {
		case inline:
			b.WriteString(cut(whys[i], width-at))
		case i > 0 && whys[i] != "-":
			const lead = "     why: "
			b.WriteString("\n" + lead + cut(whys[i], width-len(lead)))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// runRow is one run's cells but WHY.
func runRow(r runrec.RunRecord, now state.Snapshot) []string {
	exit := "running"
	if r.Run != now.Run || now.PID == 0 {
		// Begun but never finished: the holdfast that ran it died.
		exit = "unknown"
	}
	if r.ExitCode != nil {
		exit = fmt.Sprint(*r.ExitCode)
		if r.Signal != "" {
			exit += " (" + r.Signal + ")"
		}
	}
	var ev []string
	for _, a := range r.Artifacts {
		if a.Kind != "output" && a.Name != "run.json" {
			ev = append(ev, a.Name)
		}
	}
	evidence := r.Dir
	if len(ev) > 0 {
		evidence += " [" + strings.Join(ev, ", ") + "]"
	}
	started, ran := "unknown", "?"
	if !r.StartedAt.IsZero() {
		// A run without a record (run.json lost or never written) has no
		// start time: say so rather than print year 1.
		started, ran = r.StartedAt.UTC().Format(time.RFC3339), fmt.Sprintf("%.1fs", r.RanForSeconds)
	}
	return []string{fmt.Sprint(r.Run), started, ran, exit, string(r.Reason), r.Decision, evidence}
}

// cut shortens s to at most n runes, "..." marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 3 {
		return strings.Repeat(".", max(n, 0))
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-3]), " ") + "..."
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return time.Since(t).Round(time.Second).String()
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
