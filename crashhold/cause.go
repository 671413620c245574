package crashhold

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/memwatch"
	"github.com/holdfast-dev/holdfast/internal/safefs"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// whyState is what a run's cause needs besides its output and its exit:
// the memory cgroup, found once, and its OOM-kill counter when the current
// run started. Only the supervisor goroutine touches it.
type whyState struct {
	looked    bool // the cgroup was looked for
	cg        memwatch.Cgroup
	cgOK      bool
	run       int // the run oomBefore belongs to
	oomBefore uint64
	oomOK     bool
}

// maxEvidenceNames bounds how many names of the run's jvm/ dir are looked
// at: an app may litter it.
const maxEvidenceNames = 1000

// whyStart reads the cgroup's OOM-kill counter as run starts.
func (s *Supervisor) whyStart(run int) {
	w := &s.why
	if !w.looked {
		w.looked = true
		cg, err := memwatch.Find()
		w.cg, w.cgOK = cg, err == nil
		if err != nil {
			s.log.Info("no memory cgroup to read: a kernel OOM kill cannot be told from another SIGKILL", "err", err)
		}
	}
	w.run, w.oomOK = run, false
	if w.cgOK {
		n, err := w.cg.OOMKills()
		w.oomBefore, w.oomOK = n, err == nil
	}
}

// runCause is why run r ended (x): what its output showed, if it was
// captured, with the exit facts (cause.Decide). Nil for a clean exit.
func (s *Supervisor) runCause(r *appRun, x runExit) *cause.Cause {
	st := x.status
	facts := cause.Exit{Code: -1, SentBy: x.sentBy}
	if x.sentBy != cause.SentByOutside && s.phase == state.Held && s.holdReason == state.ReasonHang {
		// A process held for a hang, stopped by a restart or release:
		// it ended because it hung.
		facts.SentBy = cause.SentByHang
	}
	if st.Exited {
		facts.Code = st.Code
	} else {
		facts.Signal = st.Signal
	}
	s.memoryFacts(r.rec.Run, &facts)
	facts.HeapDumps, facts.HsErr = s.jvmEvidence(r.rec)
	if r.out == nil {
		return cause.Decide(nil, facts) // --capture=false: no output to read
	}
	return r.out.Cause(facts)
}

// execCause is why a run could not start.
func execCause(err error) *cause.Cause {
	return cause.Decide(nil, cause.Exit{ExecErr: err.Error()})
}

// memoryFacts adds the cgroup's OOM-kill evidence, limit and peak.
func (s *Supervisor) memoryFacts(run int, x *cause.Exit) {
	w := &s.why
	if !w.cgOK {
		return
	}
	rd, err := w.cg.Read()
	if err != nil {
		return
	}
	x.MemoryLimit, x.MemoryPeak = rd.Limit, rd.Peak
	after, err := w.cg.OOMKills()
	switch {
	case err != nil || !w.oomOK || w.run != run:
	case memwatch.OOMKilledDuring(w.oomBefore, after):
		x.OOM = cause.OOMRose
	default:
		x.OOM = cause.OOMNone
	}
}

// jvmEvidence lists the heap dumps in the run's JVM evidence dir (the
// app's jvm/ in the run dir, or memory mode's temp dir) and reads its
// hs_err file. The app owns that dir: nothing in it is followed or
// trusted beyond its names and a bounded read of a regular file.
func (s *Supervisor) jvmEvidence(rec *runrec.RunRecord) (dumps []string, hsErr *cause.Cause) {
	dir := rec.EvidenceDir
	if rec.Dir != "" {
		dir = filepath.Join(rec.Dir, runrec.AppDirName)
	}
	if dir == "" {
		return nil, nil
	}
	d, err := safefs.OpenRoot(dir)
	if err != nil {
		return nil, nil // no jvm/ (not a JVM, or --jvm=off)
	}
	defer d.Close()
	entries, err := d.ReadDir()
	if err != nil {
		s.log.Warn("cannot read the run's JVM evidence dir", "path", dir, "err", err)
		return nil, nil
	}
	if len(entries) > maxEvidenceNames {
		entries = entries[:maxEvidenceNames]
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	hsName := ""
	for _, e := range entries {
		switch {
		case !e.IsRegular():
		case strings.HasSuffix(e.Name, ".hprof"):
			dumps = append(dumps, filepath.Join(dir, e.Name))
		case runrec.KindOf(e.Name) == "hs-err":
			hsName = e.Name
		}
	}
	if hsName != "" {
		hsErr = s.readHsErr(d, hsName)
	}
	return dumps, hsErr
}

func (s *Supervisor) readHsErr(d *safefs.Dir, name string) *cause.Cause {
	f, err := d.Open(name)
	if err != nil {
		s.log.Warn("cannot read the JVM's fatal error report", "path", filepath.Join(d.Name(), name), "err", err)
		return nil
	}
	defer f.Close()
	c, err := cause.ParseHsErr(f, filepath.Join(d.Name(), name))
	if err != nil {
		s.log.Warn("cannot read the JVM's fatal error report", "path", f.Name(), "err", err)
	}
	return c
}

// heldRun is the cause and the files of the run a hold is about: the last
// ended run; none for a hang hold, whose run goes on.
func (s *Supervisor) heldRun() (*cause.Cause, []runrec.Artifact) {
	if s.holdReason == state.ReasonHang || s.lastRec == nil {
		return nil, nil
	}
	return s.lastRec.Cause, s.lastRec.Artifacts
}

// announceHold writes the hold banner. A JVM held for a hang was just
// sent SIGQUIT and is writing its thread dump to the output: the banner
// waits the quit pause (Config.QuitPause), so that it follows the dump
// instead of landing inside it, and is dropped if the hold ended meanwhile.
func (s *Supervisor) announceHold() {
	text := s.banner()
	r := s.cur
	if s.holdReason != state.ReasonHang || r == nil || !r.alive || !r.isJava {
		fmt.Fprint(s.d.Console.LogWriter(), text)
		return
	}
	run, pause := r.rec.Run, s.cfg.QuitPause
	go func() {
		t := s.d.Clock.NewTimer(pause)
		defer t.Stop()
		select {
		case <-t.C():
		case <-s.stopped:
			return
		}
		snap := s.d.Store.Load()
		if snap.Phase != state.Held || snap.Run != run || snap.HoldReason == nil || *snap.HoldReason != state.ReasonHang {
			return
		}
		fmt.Fprint(s.d.Console.LogWriter(), text)
	}()
}
