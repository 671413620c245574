// Package holdbanner renders the hold banner: the text holdfast writes to
// stderr (what `kubectl logs` shows) when it holds the app. It says why,
// the last exit, where the evidence is, and the exact commands to run
// next. Every line stands alone, so it reads well in `kubectl logs` and in
// log aggregators that split lines.
//
// It only renders what it is given; it must not read the state dir, the
// environment or the clock.
package holdbanner

import (
	"fmt"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/exitdesc"
	"github.com/holdfast-dev/holdfast/internal/state"
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
