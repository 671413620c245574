package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// statusHead is what SUMMARY.txt shows of status.json.
type statusHead struct {
	Phase      string  `json:"phase"`
	Run        int     `json:"run"`
	HoldReason *string `json:"hold_reason"`
	Version    string  `json:"version"`
}

// maxSummaryLines bounds the lists of SUMMARY.txt (left out, warnings) so
// that it stays about one page; the rest is counted.
const maxSummaryLines = 30

// summary is SUMMARY.txt: what a person reads first.
func (b *builder) summary() []byte {
	var s bytes.Buffer
	f := b.o.Facts
	fmt.Fprintf(&s, "holdfast bundle made %s on %s by holdfast %s\n",
		b.o.Now.UTC().Format(time.RFC3339), orDefault(f.Hostname, "?"), orDefault(f.Holdfast.Version, "?"))
	if f.Source != "" {
		fmt.Fprintf(&s, "collected by: %s\n", oneLine(f.Source, 200))
	}
	var st statusHead
	if json.Unmarshal(b.o.Status, &st) == nil && st.Phase != "" {
		line := "phase: " + st.Phase
		if st.HoldReason != nil {
			line += " (" + *st.HoldReason + ")"
		}
		fmt.Fprintf(&s, "%s, current run %d\n", line, st.Run)
	}
	if len(f.App.Argv) > 0 {
		fmt.Fprintf(&s, "app: %s\n", oneLine(strings.Join(f.App.Argv, " "), 160))
	}
	if f.Cgroup.Version != "" {
		cpu := "no limit"
		if f.Cgroup.CPUs > 0 {
			cpu = fmt.Sprintf("%.2f CPUs", f.Cgroup.CPUs)
		}
		mem := orDefault(f.Cgroup.MemoryLimit, "?")
		if n, err := strconv.ParseInt(mem, 10, 64); err == nil {
			mem = human(n)
		} else if mem == "max" {
			mem = "no limit"
		}
		fmt.Fprintf(&s, "cgroup %s: memory %s, cpu %s\n", f.Cgroup.Version, mem, cpu)
	}
	s.WriteString("\nRuns (bundled ones marked *):\n")
	s.WriteString(b.runsTable())
	s.WriteString("\nLeft out:\n")
	writeList(&s, b.res.LeftOut, "nothing")
	if len(b.res.Warnings) > 0 {
		s.WriteString("\nChanged while read:\n")
		writeList(&s, b.res.Warnings, "")
	}
	shown, hidden := 0, 0
	for _, v := range f.App.Env {
		if v.Value != nil {
			shown++
		} else {
			hidden++
		}
	}
	fmt.Fprintf(&s, "\nfacts.json: the app's %d environment variables by name; values of %d allow-listed ones, %d hidden.\n",
		len(f.App.Env), shown, hidden)
	s.WriteString("MANIFEST: sha256, size and path of every other file (check: awk '{print $1\"  \"$3}' MANIFEST | sha256sum -c).\n")
	return s.Bytes()
}

// runsTable is the runs list as a table, with the cause where the record
// has one.
func (b *builder) runsTable() string {
	if len(b.o.Runs) == 0 {
		return "  none in the runs list\n"
	}
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  RUN\tSTARTED\tEXIT\tREASON\tDECISION\tWHY")
	for _, r := range b.o.Runs {
		mark := " "
		for _, n := range b.res.Runs {
			if n == r.Run {
				mark = "*"
			}
		}
		fmt.Fprintf(tw, "%s %d\t%s\t%s\t%s\t%s\t%s\n", mark, r.Run, r.StartedAt.UTC().Format("2006-01-02 15:04:05"),
			exitText(r), dash(r.Reason), dash(r.Decision), why(r))
	}
	tw.Flush()
	return out.String()
}

func exitText(r Run) string {
	switch {
	case r.ExitCode == nil:
		return "running"
	case r.Signal != "":
		return strconv.Itoa(*r.ExitCode) + " " + r.Signal
	}
	return strconv.Itoa(*r.ExitCode)
}

func why(r Run) string {
	if r.Cause == nil {
		return "-"
	}
	return oneLine(string(r.Cause.Kind)+": "+r.Cause.Summary, 200)
}

func dash(s string) string { return orDefault(s, "-") }

func writeList(s *bytes.Buffer, lines []string, none string) {
	if len(lines) == 0 && none != "" {
		fmt.Fprintf(s, "  %s\n", none)
	}
	for i, l := range lines {
		if i == maxSummaryLines {
			fmt.Fprintf(s, "  … and %d more\n", len(lines)-i)
			break
		}
		fmt.Fprintf(s, "  %s\n", oneLine(l, 300))
	}
}

// oneLine makes s one line of at most max bytes.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max-3], "") + "..."
	}
	return s
}
