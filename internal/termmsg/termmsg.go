package termmsg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/holdfast-dev/holdfast/internal/exitdesc"
	"github.com/holdfast-dev/holdfast/runrec"
)

// maxBytes is the kubelet's limit for a container's termination message
// (4096 bytes; larger messages are truncated by the kubelet).
const maxBytes = 4096

// Write writes a short summary of the last run to path
// (Kubernetes' terminationMessagePath, /dev/termination-log by default), so
// `kubectl describe pod` shows why the container ended. The kubelet creates
// that file by bind mount; when it does not exist we are not under a kubelet
// and nothing is written (it is never created). runs is how many runs
// holdfast made. rec may be nil (no run was started).
func Write(path string, rec *runrec.RunRecord, runs int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot open termination log %s: %w", path, err)
	}
	_, werr := f.WriteString(message(rec, runs))
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("cannot write termination log %s: %w", path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("cannot close termination log %s: %w", path, cerr)
	}
	return nil
}

// message is the summary Write writes, at most maxBytes long. Its first
// line is the run's cause (run.json's cause summary), when it has one, so
// that `kubectl describe pod` leads with why; the next says how it ended,
// e.g. "holdfast: app ended: exit code 1 (startup-crash) after 3 runs;
// evidence: /var/lib/holdfast/runs/7 (hs_err_pid13.log)".
func message(rec *runrec.RunRecord, runs int) string {
	if rec == nil {
		return "holdfast: exiting; the app never ran"
	}
	var b strings.Builder
	if c := rec.Cause; c != nil && c.Summary != "" {
		b.WriteString(c.Summary + "\n")
	}
	b.WriteString("holdfast: app ended")
	if rec.ExitCode != nil {
		b.WriteString(": " + exitdesc.Text(*rec.ExitCode, rec.Signal, rec.CoreDumped))
	}
	if rec.Reason != "" {
		fmt.Fprintf(&b, " (%s)", rec.Reason)
	}
	if runs == 1 {
		b.WriteString(" after 1 run")
	} else if runs > 1 {
		fmt.Fprintf(&b, " after %d runs", runs)
	}
	switch {
	case rec.Dir != "":
		fmt.Fprintf(&b, "; evidence: %s", rec.Dir)
	case rec.EvidenceDir != "":
		fmt.Fprintf(&b, "; evidence: %s (state dir not writable)", rec.EvidenceDir)
	default:
		b.WriteString("; no evidence kept on disk (state dir not writable)")
	}
	// Name the files that explain a crash; the output log is always there.
	var names []string
	for _, a := range rec.Artifacts {
		if a.Kind != "output" && a.Kind != "other" {
			names = append(names, a.Name)
		}
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(names, ", "))
	}
	return truncate(b.String(), maxBytes)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
