package crashhold

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/exitdesc"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// enterHold stops restarting and keeps the container (and the evidence)
// for diagnosis. Holding is loud: a banner goes to stderr, which is what
// `kubectl logs` shows (silent holds are what users of supervisord's FATAL
// and s6 hate most; NOTES.md §5).
func (s *Supervisor) enterHold(reason state.HoldReason) {
	s.heldSince = s.d.Clock.Now()
	s.holdReason = reason
	stopTimer(&s.probeT)
	stopTimer(&s.windowT)
	if s.cfg.HoldTimeout > 0 {
		s.holdT = s.d.Clock.NewTimer(s.cfg.HoldTimeout)
	}
	s.transition(state.Held)
	fmt.Fprint(s.d.Console.LogWriter(), s.banner())
}

// banner is the hold announcement. Every line stands alone, so it reads
// well in `kubectl logs` and in log aggregators that split lines.
func (s *Supervisor) banner() string {
	snap := s.snapshot()
	pod := os.Getenv("HOSTNAME")
	if pod == "" {
		pod = "<pod>"
	}
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, "holdfast: "+format+"\n", a...) }
	line("==================== APP HELD ====================")
	switch s.holdReason {
	case state.ReasonStartupCrash:
		line("the app crashed during startup %d time(s) in a row; restarts stopped (--max-restarts=%d).", s.used+1, s.cfg.Policy.MaxRestarts)
	case state.ReasonHang:
		line("the app stopped answering %s; its process (pid %d) is kept alive for thread dumps.", s.cfg.LiveURL, snap.PID)
	case state.ReasonManual:
		line("held on request (holdfast hold).")
	}
	if e := snap.LastExit; e != nil {
		line("last exit: run %d, %s after %s.", e.Run, exitdesc.Text(e.Code, e.Signal, e.CoreDumped), time.Duration(e.RanForSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	switch {
	case snap.EvidenceDir != nil && s.cfg.NoCapture:
		line("evidence:  %s (run.json; the JVM's hs_err_pid*.log, *.hprof in jvm/; no output.log: --capture=false)", *snap.EvidenceDir)
	case snap.EvidenceDir != nil && snap.StateDirWritable:
		line("evidence:  %s (output.log, run.json; the JVM's hs_err_pid*.log, *.hprof in jvm/)", *snap.EvidenceDir)
	case snap.EvidenceDir != nil:
		line("evidence:  %s (hs_err_pid*.log, *.hprof; records and output in memory: the state dir %s is not writable)", *snap.EvidenceDir, s.cfg.StateDir)
	default:
		line("evidence:  in memory only (the state dir %s is not writable)", s.cfg.StateDir)
	}
	if snap.StateDirDegraded != "" {
		line("DEGRADED:  %s.", snap.StateDirDegraded)
	}
	line("the container stays up: /livez answers 200 (kubelet will not restart it), /readyz 503 (no traffic).")
	line("look:      kubectl exec %s -- holdfast status", pod)
	if s.cfg.NoCapture {
		line("           kubectl logs %s   (the app's output; holdfast keeps no copy with --capture=false)", pod)
	} else {
		line("           kubectl exec %s -- holdfast logs --tail 100", pod)
	}
	line("           kubectl exec -it %s -- sh", pod)
	if s.cfg.SSHAddr != "" {
		line("           ssh -p %s <user>@<pod-ip>   (embedded ssh, same environment as the app)", portOf(s.cfg.SSHAddr))
	}
	line("retry:     kubectl exec %s -- holdfast restart", pod)
	line("give up:   kubectl exec %s -- holdfast release   (exits with the app's code)", pod)
	if s.cfg.HoldTimeout > 0 {
		line("the hold ends by itself at %s (--hold-timeout=%s).", s.heldSince.Add(s.cfg.HoldTimeout).UTC().Format(time.RFC3339), s.cfg.HoldTimeout)
	}
	line("==================================================")
	return b.String()
}

// AdvertiseSSH makes the hold banner name the embedded ssh server at addr.
// The caller calls it before Run, once that server listens: a banner never
// advertises ssh that is off.
func (s *Supervisor) AdvertiseSSH(addr string) { s.cfg.SSHAddr = addr }

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}
