// Package holdbanner renders the hold banner: the text holdfast writes to
// stderr (what `kubectl logs` shows) when it holds the app. Its first line
// after the title is `why: <summary>`, the held run's cause in one line
// (package cause); then the last exit, where the evidence is, each JVM
// evidence file that exists with its size and what it means, and the
// exact commands to run next. Every line stands alone, so it reads well in `kubectl logs` and in
// log aggregators that split lines.
//
// It only renders what it is given; it must not read the state dir, the
// environment or the clock.
package holdbanner

import (
	"fmt"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/exitdesc"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// Facts are what the banner says beyond the snapshot.
type Facts struct {
	Reason      state.HoldReason
	HeldSince   time.Time
	Pod         string        // the pod's name ($HOSTNAME); "" renders <pod>
	LiveURL     string        // --app-live-url, named by a hang hold
	NoCapture   bool          // --capture=false: no output.log, point at kubectl logs
	SSHAddr     string        // the listening ssh server; "" when ssh is off
	HoldTimeout time.Duration // --hold-timeout; 0 holds until released
	// Cause is why the held run ended (its run.json cause); nil for a hang
	// hold, whose run has not ended, or when none is known.
	Cause *cause.Cause
	// Artifacts are the held run's files (its run.json artifacts): the
	// banner names the JVM's evidence among them.
	Artifacts []runrec.Artifact
}

// Text is the banner for snap, the snapshot of the hold.
func Text(snap state.Snapshot, f Facts) string {
	pod := f.Pod
	if pod == "" {
		pod = "<pod>"
	}
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, "holdfast: "+format+"\n", a...) }
	line("==================== APP HELD ====================")
	line("why: %s", why(f))
	switch f.Reason {
	case state.ReasonStartupCrash:
		line("the app crashed during startup %d time(s) in a row; restarts stopped (--max-restarts=%d).", snap.BudgetUsed+1, snap.MaxRestarts)
	case state.ReasonHang:
		line("the app stopped answering %s; its process (pid %d) is kept alive for thread dumps.", f.LiveURL, snap.PID)
	case state.ReasonManual:
		line("held on request (holdfast hold).")
	case state.ReasonNeverReady:
		line("the app did not become ready within --startup-timeout; its process (pid %d) is kept alive for thread dumps.", snap.PID)
	}
	if e := snap.LastExit; e != nil {
		line("last exit: run %d, %s after %s.", e.Run, exitdesc.Text(e.Code, e.Signal, e.CoreDumped), time.Duration(e.RanForSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	switch {
	case snap.EvidenceDir != nil && f.NoCapture:
		line("evidence:  %s (run.json; the JVM's hs_err_pid*.log, *.hprof in jvm/; no output.log: --capture=false)", *snap.EvidenceDir)
	case snap.EvidenceDir != nil && snap.StateDirWritable:
		line("evidence:  %s (output.log, run.json; the JVM's hs_err_pid*.log, *.hprof in jvm/)", *snap.EvidenceDir)
	case snap.EvidenceDir != nil:
		line("evidence:  %s (hs_err_pid*.log, *.hprof; records and output in memory: the state dir %s is not writable)", *snap.EvidenceDir, snap.StateDir)
	default:
		line("evidence:  in memory only (the state dir %s is not writable)", snap.StateDir)
	}
	for _, l := range found(f) {
		line("found:     %s", l)
	}
	if snap.StateDirDegraded != "" {
		line("DEGRADED:  %s.", snap.StateDirDegraded)
	}
	line("the container stays up: /livez answers 200 (kubelet will not restart it), /readyz 503 (no traffic).")
	line("look:      kubectl exec %s -- holdfast status", pod)
	if f.NoCapture {
		line("           kubectl logs %s   (the app's output; holdfast keeps no copy with --capture=false)", pod)
	} else {
		line("           kubectl exec %s -- holdfast logs --tail 100", pod)
	}
	line("           kubectl exec -it %s -- sh", pod)
	if f.SSHAddr != "" {
		line("           ssh -p %s <user>@<pod-ip>   (embedded ssh, same environment as the app)", portOf(f.SSHAddr))
	}
	line("retry:     kubectl exec %s -- holdfast restart", pod)
	line("give up:   kubectl exec %s -- holdfast release   (exits with the app's code)", pod)
	if f.HoldTimeout > 0 {
		line("the hold ends by itself at %s (--hold-timeout=%s).", f.HeldSince.Add(f.HoldTimeout).UTC().Format(time.RFC3339), f.HoldTimeout)
	}
	line("==================================================")
	return b.String()
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// why is the banner's one-line cause.
func why(f Facts) string {
	switch {
	case f.Reason == state.ReasonHang:
		return "the app hung: it stopped answering its liveness URL " + f.LiveURL
	case f.Cause != nil && f.Cause.Summary != "":
		return f.Cause.Summary
	}
	return "no cause recorded for the last run"
}

// maxFound bounds the evidence lines; the rest are counted.
const maxFound = 5

// found names the JVM evidence files that exist, with size and meaning.
func found(f Facts) []string {
	var out []string
	more := 0
	for _, a := range f.Artifacts {
		m := meaning(a, f.Cause)
		if m == "" {
			continue
		}
		if len(out) == maxFound {
			more++
			continue
		}
		out = append(out, m)
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("and %d more file(s) of evidence in the run dir", more))
	}
	return out
}

// meaning says what an evidence file is and means; "" for a file that is
// not the JVM's or the kernel's evidence.
func meaning(a runrec.Artifact, c *cause.Cause) string {
	name := fmt.Sprintf("%s (%s)", a.Name, Size(a.Size))
	base := a.Name[strings.LastIndexByte(a.Name, '/')+1:]
	switch a.Kind {
	case "heap-dump":
		if strings.HasPrefix(base, "java_pid") || (c != nil && c.Kind == cause.OOMHeap) {
			return "heap dump " + name + ": the JVM ran out of heap"
		}
		return "heap dump " + name
	case "hs-err":
		return name + ": " + crashMeaning(c)
	case "core":
		return "core dump " + name + ": the process crashed and the kernel dumped its memory"
	case "thread-dump":
		return "thread dump " + name
	}
	return ""
}

// crashMeaning reads the crash cause, if the run's cause is one: "the JVM
// crashed in native code (SIGSEGV in libfoo.so)".
func crashMeaning(c *cause.Cause) string {
	if c == nil || c.Kind != cause.JVMCrash {
		return "the JVM's fatal error report"
	}
	switch {
	case strings.HasPrefix(c.Summary, "the JVM ran out of native memory"):
		return "the JVM ran out of native memory"
	case c.Message == "":
		return "the JVM's fatal error report"
	case !strings.HasPrefix(c.Message, "SIG"):
		return "the JVM's fatal error report (" + c.Message + ")"
	}
	lib, _, _ := strings.Cut(c.Frame, "+")
	lib, _, _ = strings.Cut(lib, " ")
	if lib == "" {
		return "the JVM crashed in native code (" + c.Message + ")"
	}
	return "the JVM crashed in native code (" + c.Message + " in " + lib + ")"
}

// Size is n bytes for people: "812 B", "12.4 kB", "7.8 MB", "1.2 GB".
func Size(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
