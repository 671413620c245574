package cause

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Sender is who sent the signal that ended a run.
type Sender uint8

const (
	// SentByOutside: holdfast did not send it (a user, the kernel, the app
	// itself, a script).
	SentByOutside Sender = iota
	// SentByStop: holdfast's stop signal (SIGTERM or --stop-signal) on a
	// stop or release.
	SentByStop
	// SentByGrace: holdfast's SIGKILL when the stop grace period ran out.
	SentByGrace
	// SentByHang: holdfast's kill of an app that hung.
	SentByHang
)

// OOMEvidence is what the cgroup's oom_kill counter said about the run.
type OOMEvidence uint8

const (
	// OOMUnknown: the counter could not be read.
	OOMUnknown OOMEvidence = iota
	// OOMNone: the counter did not rise during the run.
	OOMNone
	// OOMRose: the counter rose during the run.
	OOMRose
)

// Exit is what is known about a run's end besides its output.
type Exit struct {
	// ExecErr is why the command could not be started; empty when it was.
	ExecErr string
	// Code is the exit code when the app exited; -1 when it was killed by
	// a signal or the status is not known.
	Code int
	// Signal is the signal that killed the app, 0 when none did.
	Signal syscall.Signal
	// SentBy says who sent Signal; for an app that exited with a code, who
	// signalled it before (SentByOutside: nobody known).
	SentBy Sender
	// OOM is the cgroup's evidence; MemoryLimit and MemoryPeak are the
	// cgroup's limit and the run's peak usage in bytes, 0 when unknown.
	OOM         OOMEvidence
	MemoryLimit uint64
	MemoryPeak  uint64
	// HeapDumps are the heap dumps (*.hprof) the JVM wrote in the run's
	// directory.
	HeapDumps []string
	// HsErr is the cause read from the run's hs_err_pid*.log (ParseHsErr),
	// nil when there is none.
	HsErr *Cause
	// LastStderr is the last non-empty line the app wrote to stderr.
	LastStderr string
}

// Result is the run's cause: the Extractor's best candidate with the
// exit's facts. The Extractor is closed first.
func (e *Extractor) Result(x Exit) *Cause {
	e.Close()
	if x.LastStderr == "" {
		x.LastStderr = e.LastStderr()
	}
	return Decide(e.Best(), x)
}

// Decide combines what the output showed (found, nil when no rule
// matched) with the exit facts. A run that exited with code 0 has no
// cause (nil). When no rule matched, the cause says what is known (the
// exit code or signal, the last line of stderr) and that no cause was
// recognised: it never guesses.
func Decide(found *Cause, x Exit) *Cause {
	if x.ExecErr != "" {
		c := &Cause{Kind: ExecFailed, Message: x.ExecErr}
		return c.finish("could not start the app: " + x.ExecErr)
	}
	if x.Signal == 0 && x.Code == 0 {
		return nil
	}
	if x.Signal == 0 && x.SentBy != SentByOutside {
		return stoppedExit(x) // it exited on holdfast's signal: that ended it
	}
	if found == nil && x.HsErr != nil {
		found = x.HsErr
	}
	if found != nil && found.Kind == JVMCrash && x.HsErr != nil && found.HsErr == "" {
		c := *found
		c.HsErr = x.HsErr.HsErr
		found = &c
	}
	dump := heapDump(x.HeapDumps)
	if x.Signal != 0 {
		if c := bySignal(found, x, dump); c != nil {
			return c
		}
	}
	if found != nil {
		if isOOM(found.Kind) && found.HeapDump == "" && dump != "" {
			c := *found
			c.HeapDump = dump
			return &c
		}
		return found
	}
	if dump != "" {
		return heapDumpCause(dump)
	}
	return unrecognised(x)
}

// bySignal decides for a run killed by a signal; nil leaves it to the
// output.
func bySignal(found *Cause, x Exit, dump string) *Cause {
	name := sigName(x.Signal)
	switch x.SentBy {
	case SentByGrace:
		c := &Cause{Kind: Signal}
		return c.finish("killed by " + name + " from holdfast: the stop grace period ran out")
	case SentByHang:
		c := &Cause{Kind: Signal}
		return c.finish("killed by " + name + " from holdfast: the app hung")
	case SentByStop:
		c := &Cause{Kind: Signal}
		return c.finish("stopped by holdfast with " + name)
	}
	if x.Signal == syscall.SIGKILL && x.OOM == OOMRose {
		c := &Cause{Kind: OOMKilled, MemoryLimit: x.MemoryLimit, MemoryPeak: x.MemoryPeak}
		s := "killed by the kernel's OOM killer (SIGKILL)"
		switch {
		case x.MemoryLimit > 0 && x.MemoryPeak > 0:
			s += fmt.Sprintf(" at the memory limit %s (peak %s)", size(x.MemoryLimit), size(x.MemoryPeak))
		case x.MemoryLimit > 0:
			s += " at the memory limit " + size(x.MemoryLimit)
		}
		return c.finish(s)
	}
	if found != nil && (isOOM(found.Kind) || found.Kind == JVMCrash) {
		return nil // the JVM's own end: -XX:OnOutOfMemoryError=kill -9, or abort after hs_err
	}
	if dump != "" && x.Signal == syscall.SIGKILL {
		return heapDumpCause(dump)
	}
	c := &Cause{Kind: Signal}
	s := "killed by " + name
	switch x.Signal {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2:
		s += " from outside holdfast" // signals others send; SIGSEGV and the like the app raises itself
	}
	if x.Signal == syscall.SIGKILL && x.OOM == OOMNone {
		s += " (not the kernel OOM killer)"
	}
	if found == nil {
		s += "; no cause recognised" + lastLine(x.LastStderr)
	}
	return c.finish(s)
}

// stoppedExit is the cause of a run that exited with a code after
// holdfast signalled it (a JVM exits 143 on SIGTERM).
func stoppedExit(x Exit) *Cause {
	c := &Cause{Kind: Signal}
	why := "stopped by holdfast"
	switch x.SentBy {
	case SentByHang:
		why += ": the app hung"
	case SentByGrace:
		why += ": the stop grace period ran out"
	}
	return c.finish(fmt.Sprintf("%s; the app exited with code %d", why, x.Code))
}

func heapDumpCause(dump string) *Cause {
	c := &Cause{Kind: OOMHeap, HeapDump: dump}
	return c.finish("heap dump " + filepath.Base(dump) + " written: the JVM ran out of heap")
}

func unrecognised(x Exit) *Cause {
	if x.Code < 0 {
		c := &Cause{Kind: Unknown}
		return c.finish("the run ended; no cause recognised" + lastLine(x.LastStderr))
	}
	if x.Code == 126 || x.Code == 127 {
		what := map[int]string{126: "command not executable", 127: "command not found"}[x.Code]
		c := &Cause{Kind: ExecFailed, Message: x.LastStderr}
		return c.finish(fmt.Sprintf("exit code %d (%s)", x.Code, what) + lastLine(x.LastStderr))
	}
	c := &Cause{Kind: ExitCode, Message: x.LastStderr}
	return c.finish(fmt.Sprintf("exit code %d; no cause recognised", x.Code) + lastLine(x.LastStderr))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "; last stderr line: " + s
}

// heapDump picks the heap dump to name: the last *.hprof.
func heapDump(names []string) string {
	d := ""
	for _, n := range names {
		if strings.HasSuffix(n, ".hprof") {
			d = n
		}
	}
	return d
}

func isOOM(k Kind) bool {
	return k == OOMHeap || k == OOMMetaspace || k == OOMNativeThread || k == OOMDirect
}

func sigName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}

func size(b uint64) string {
	const mib = 1 << 20
	if b%mib == 0 {
		return fmt.Sprintf("%d MiB", b/mib)
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/mib)
}
