package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

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
		row("next:", "holdfast logs --tail 100   # what the app said")
		row("", "holdfast runs             # every run and its evidence")
		row("", "holdfast restart          # try again with a fresh budget")
		row("", "holdfast release          # give up: exit with the app's code")
	case state.Backoff:
		row("next:", "holdfast restart  # skip the backoff;  holdfast hold  # stop restarting")
	}
	w.Flush()
	return b.String()
}

func formatRuns(runs []runrec.RunRecord, now state.Snapshot) string {
	if len(runs) == 0 {
		return "no runs kept yet\n"
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "RUN\tSTARTED\tRAN\tEXIT\tREASON\tDECISION\tEVIDENCE")
	for _, r := range runs {
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
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Run, started, ran, exit, r.Reason, r.Decision, evidence)
	}
	w.Flush()
	return b.String()
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
