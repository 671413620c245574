package exitfacts

import (
	"log/slog"
	"path/filepath"
	"sort"
	"strings"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/memwatch"
	"github.com/holdfast-dev/holdfast/internal/safefs"
	"github.com/holdfast-dev/holdfast/runrec"
)

// maxNames bounds how many names of an evidence dir are looked at: an app
// may litter it.
const maxNames = 1000

// OOMWatch reads the memory cgroup's OOM-kill counter as each run starts
// and, with the limit and the peak, as it ends. The cgroup is looked for
// once. One goroutine uses it (the supervisor's).
type OOMWatch struct {
	log       *slog.Logger
	looked    bool // the cgroup was looked for
	cg        memwatch.Cgroup
	cgOK      bool
	run       int // the run oomBefore belongs to
	oomBefore uint64
	oomOK     bool
}

// NewOOMWatch returns a watch that logs to log once when there is no
// cgroup to read.
func NewOOMWatch(log *slog.Logger) *OOMWatch { return &OOMWatch{log: log} }

// Start reads the counter as run starts.
func (w *OOMWatch) Start(run int) {
	if !w.looked {
		w.looked = true
		cg, err := memwatch.Find()
		w.cg, w.cgOK = cg, err == nil
		if err != nil {
			w.log.Info("no memory cgroup to read: a kernel OOM kill cannot be told from another SIGKILL", "err", err)
		}
	}
	w.run, w.oomOK = run, false
	if w.cgOK {
		n, err := w.cg.OOMKills()
		w.oomBefore, w.oomOK = n, err == nil
	}
}

// Readable reports whether the memory cgroup was found.
func (w *OOMWatch) Readable() bool { return w.cgOK }

// End adds to x, as run ends, the OOM-kill evidence (the counter rose
// since Start of this run, or did not; unknown when either read failed or
// Start was for another run), the limit and the peak.
func (w *OOMWatch) End(run int, x *cause.Exit) {
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

// EvidenceDir is where a run's JVM evidence is: the app's jvm/ in the run
// dir, or memory mode's temp dir; "" when there is none.
func EvidenceDir(rec *runrec.RunRecord) string {
	if rec.Dir != "" {
		return filepath.Join(rec.Dir, runrec.AppDirName)
	}
	return rec.EvidenceDir
}

// JVMEvidence lists the heap dumps (*.hprof) in dir and reads its hs_err
// file (the last by name), skipping anything that is not a regular file.
// A missing dir (not a JVM, --jvm=off) has none.
func JVMEvidence(dir string, log *slog.Logger) (dumps []string, hsErr *cause.Cause) {
	if dir == "" {
		return nil, nil
	}
	d, err := safefs.OpenRoot(dir)
	if err != nil {
		return nil, nil
	}
	defer d.Close()
	entries, err := d.ReadDir()
	if err != nil {
		log.Warn("cannot read the run's JVM evidence dir", "path", dir, "err", err)
		return nil, nil
	}
	if len(entries) > maxNames {
		entries = entries[:maxNames]
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
		hsErr = readHsErr(d, hsName, log)
	}
	return dumps, hsErr
}

func readHsErr(d *safefs.Dir, name string, log *slog.Logger) *cause.Cause {
	f, err := d.Open(name)
	if err != nil {
		log.Warn("cannot read the JVM's fatal error report", "path", filepath.Join(d.Name(), name), "err", err)
		return nil
	}
	defer f.Close()
	c, err := cause.ParseHsErr(f, filepath.Join(d.Name(), name))
	if err != nil {
		log.Warn("cannot read the JVM's fatal error report", "path", f.Name(), "err", err)
	}
	return c
}
