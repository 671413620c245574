package runrec

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/jvmsize"
	"github.com/holdfast-dev/holdfast/internal/memwatch"
	"github.com/holdfast-dev/holdfast/internal/redact"
	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/safefs"
	"github.com/holdfast-dev/holdfast/internal/statedir"
)

// RunRecord is runs/<N>/run.json.
type RunRecord struct {
	Run           int        `json:"run"`
	Attempt       int        `json:"attempt"` // 1 for the first start after a fresh budget, 2 for its first restart...
	Command       []string   `json:"command"`
	PID           int        `json:"pid"`
	StartedAt     time.Time  `json:"started_at"`
	EndedAt       *time.Time `json:"ended_at"`
	RanForSeconds float64    `json:"ran_for_seconds"`
	ExitCode      *int       `json:"exit_code"` // holdfast-style code (128+n for signals); null while running
	Signal        string     `json:"signal"`    // "SIGSEGV" or ""
	CoreDumped    bool       `json:"core_dumped"`
	Reason        EndReason  `json:"reason"`   // set by the supervisor: "clean-exit", "startup-crash", ...
	Decision      string     `json:"decision"` // set by the supervisor: "restart", "hold", "exit"
	Dir           string     `json:"dir"`      // absolute run dir ("" when kept in memory only)
	Artifacts     []Artifact `json:"artifacts"`
	// EvidenceDir is where jvmflags.Env sent the JVM's evidence when there is no run
	// dir (memory mode: a directory under os.TempDir()). The caller sets it
	// from jvmflags.Env's result; Finish scans it for artifacts when Dir is "".
	EvidenceDir string `json:"evidence_dir,omitempty"`
	// Cause is why the run ended, in one line and a few fields (package
	// cause); nil while it runs and for a clean exit.
	Cause *cause.Cause `json:"cause,omitempty"`
	// Memory is what holdfast's samples of the container's memory during
	// the run add up to (limit, peak, last; package memwatch); omitted
	// without sampling.
	Memory *memwatch.Summary `json:"memory,omitempty"`
	// JVMHeap is a JVM's effective maximum heap against the container's
	// memory limit (package jvmsize); omitted for other apps or without a
	// limit.
	JVMHeap *jvmsize.Result `json:"jvm_heap,omitempty"`
}

// Artifact is one file found in a run's directory.
type Artifact struct {
	Name string `json:"name"` // file name inside the run dir
	Kind string `json:"kind"` // "output", "heap-dump", "hs-err", "core", "thread-dump", "class-histogram", "jfr", "link", "other"
	Size int64  `json:"size"`
}

// The layout of one run dir, <stateDir>/runs/<N>.
const (
	RunFile    = "run.json"   // the run's record
	OutputFile = "output.log" // the app's stdout and stderr, in arrival order
	// AppDirName is the run's subdirectory the app owns and writes its JVM
	// evidence into; holdfast only reads it.
	AppDirName = "jvm"
	tempPrefix = ".run.json." // temp files of the atomic write; never artifacts
)

// Records keeps run directories under <stateDir>/runs.
//
// The supervisor is the only writer (Begin, SetPID, Finish); the control
// socket reads with List and Get from other goroutines, so every method takes
// the lock and the records handed out are copies.
type Records struct {
	state   string // absolute state dir
	root    string // absolute <stateDir>/runs
	keep    int
	logger  *slog.Logger
	reserve *statedir.Reserve

	mu        sync.Mutex
	writable  bool
	warned    bool              // the one "not writable" warning was logged
	mem       map[int]RunRecord // every run this process began and still keeps
	last      int               // highest run number handed out
	badWarned map[int]bool      // unreadable run.json files already logged
	appGid    map[int]int       // runs whose jvm/ was handed to the app: its gid
	space     spaceCost         // what a full disk cost
}

// Open never fails: when stateDir/runs cannot be created or written,
// it logs one warning and keeps records in memory only; Writable then
// reports false. The app must never be refused for want of a place to
// write evidence. keep < 1 acts as 1 (the current run is always kept).
func Open(stateDir string, keep int, logger *slog.Logger) *Records {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	root := filepath.Join(stateDir, statedir.RunsDir)
	r := &Records{state: stateDir, root: root, keep: max(keep, 1), logger: logger,
		reserve: statedir.NewReserve(stateDir),
		mem:     map[int]RunRecord{}, badWarned: map[int]bool{}, appGid: map[int]int{}}
	if err := r.probe(); err != nil {
		r.fallBack(err)
	} else {
		r.writable = true
		r.ensureReserve()
	}
	return r
}

// openRuns opens <stateDir>/runs, creating it when missing. A link there
// is refused, never followed.
func (r *Records) openRuns() (*safefs.Dir, error) {
	// The state dir's own path is the operator's: made as given.
	if err := os.MkdirAll(r.state, statedir.DirMode); err != nil {
		return nil, fmt.Errorf("cannot create state dir: %w", err)
	}
	st, err := safefs.OpenRoot(r.state)
	if err != nil {
		return nil, fmt.Errorf("cannot open state dir: %w", err)
	}
	defer st.Close()
	runs, err := st.MkdirOpen(statedir.RunsDir, statedir.DirMode)
	if err != nil {
		return nil, fmt.Errorf("cannot open run records dir: %w", err)
	}
	return runs, nil
}

// probe proves runs/ writable by creating and removing a file: a
// read-only mount or a full disk passes mkdir but not this.
func (r *Records) probe() error {
	runs, err := r.openRuns()
	if err != nil {
		return err
	}
	defer runs.Close()
	name := tempName(".probe-")
	f, err := runs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, statedir.RecordMode)
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", r.root, err)
	}
	f.Close()
	if err := runs.Remove(name); err != nil {
		return fmt.Errorf("cannot remove probe file: %w", err)
	}
	return nil
}

func tempName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// fallBack switches to memory mode, warning once per Records. Called with
// r.mu held or before r is shared.
func (r *Records) fallBack(err error) {
	r.writable = false
	if r.warned {
		return
	}
	r.warned = true
	r.logger.Warn("state dir not writable: run records are kept in memory only; the app runs and holds anyway",
		"path", r.root, "error", err)
}

// Writable reports whether run records currently go to disk.
func (r *Records) Writable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writable
}

// Keep is how many runs are kept (at least 1).
func (r *Records) Keep() int { return r.keep }

// RunDir returns <stateDir>/runs/<N>, also when not writable (for messages).
func (r *Records) RunDir(run int) string {
	return filepath.Join(r.root, strconv.Itoa(run))
}

// Begin allocates the next run number (1 + the highest on disk or in
// memory, so numbers continue across holdfast restarts), creates its
// directory and initial run.json when it can, prunes to the keep newest runs
// and returns the record. It runs before the spawn so the JVM flags can name
// the directory. Every start tries the disk again, so a state dir that
// recovers (space freed) is used again; the warning is still logged once.
func (r *Records) Begin(cmd []string, attempt, pid int, started time.Time) *RunRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := max(r.last, r.highestOnDisk()) + 1
	r.ensureReserve()
	dir, n, mkErr := r.mkRunDir(n)
	rec := RunRecord{Run: n, Attempt: attempt, Command: redact.Argv(cmd), PID: pid,
		StartedAt: started, Dir: dir, Artifacts: []Artifact{}}
	if dir == "" {
		r.fallBack(fmt.Errorf("cannot create run dir %s: %w", r.RunDir(n), mkErr))
	} else {
		r.writable = true
		// The first record is written before the app starts (before any
		// output can fill the disk); SetPID makes it durable with the pid.
		if err := r.writeRecord(&rec, false); err != nil {
			// The dir exists, so evidence can still land there; Finish retries.
			r.logger.Warn("cannot write initial run record", "run", n, "error", err)
		}
	}
	r.last = n
	r.mem[n] = clone(rec)
	r.prune(n)
	return &rec
}

// mkRunDir creates runs/<n> (or the next free number) and returns its path
// and number. Mkdir, not MkdirAll: EEXIST means another holdfast (or a stale
// entry) owns that number, so take the next one instead of sharing it. A
// full disk releases the reserve and frees old output first.
func (r *Records) mkRunDir(n int) (string, int, error) {
	runs, err := r.openRuns()
	if err != nil && r.freeForRecords(0, err) {
		runs, err = r.openRuns()
	}
	if err != nil {
		return "", n, err
	}
	defer runs.Close()
	for range 100 {
		name := strconv.Itoa(n)
		err = runs.Mkdir(name, statedir.DirMode)
		if err != nil && r.freeForRecords(0, err) {
			err = runs.Mkdir(name, statedir.DirMode)
		}
		if errors.Is(err, fs.ErrExist) {
			n++
			continue
		}
		if err != nil {
			return "", n, err
		}
		// The umask may have taken bits; the mode is the contract.
		if d, oerr := runs.OpenDir(name); oerr == nil {
			_ = unix.Fchmod(d.Fd(), uint32(statedir.DirMode))
			d.Close()
		}
		return r.RunDir(n), n, nil
	}
	return "", n, err
}

// AppDir creates runs/<run>/jvm, the one place the app writes in (its JVM
// heap dumps and hs_err files), owned by the app's uid and gid when cred is
// set. Holdfast reads it but never writes into it.
func (r *Records) AppDir(run int, cred *syscall.Credential) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	runs, err := r.openRuns()
	if err != nil {
		return "", err
	}
	defer runs.Close()
	rel := strconv.Itoa(run) + "/" + AppDirName
	if err := runs.Mkdir(rel, statedir.AppDirMode); err != nil {
		return "", err
	}
	d, err := runs.OpenDir(rel)
	if err != nil {
		return "", err
	}
	defer d.Close()
	if err := unix.Fchmod(d.Fd(), uint32(statedir.AppDirMode)); err != nil {
		return "", fmt.Errorf("cannot chmod %s: %w", d.Name(), err)
	}
	if cred != nil {
		if err := unix.Fchown(d.Fd(), int(cred.Uid), int(cred.Gid)); err != nil {
			return "", fmt.Errorf("cannot hand %s to the app's user: %w", d.Name(), err)
		}
		r.appGid[run] = int(cred.Gid)
	}
	return d.Name(), nil
}

// sealAppDir takes runs/<run>/jvm back from the app once the run ended:
// owned by holdfast, group the app's, mode 0750, so that the app (and an
// ssh session as its user) still reads its dumps but a later run cannot
// delete, rename or add files there. The files in it stay the app's.
// Called with r.mu held.
func (r *Records) sealAppDir(run int) error {
	gid, ok := r.appGid[run]
	if !ok {
		return nil
	}
	delete(r.appGid, run)
	runs, err := r.openExistingRuns()
	if err != nil {
		return err
	}
	defer runs.Close()
	d, err := runs.OpenDir(strconv.Itoa(run) + "/" + AppDirName)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Fchown(d.Fd(), os.Geteuid(), gid); err != nil {
		return fmt.Errorf("cannot take back %s: %w", d.Name(), err)
	}
	if err := unix.Fchmod(d.Fd(), 0o750); err != nil {
		return fmt.Errorf("cannot take back %s: %w", d.Name(), err)
	}
	return nil
}

// writeRecord writes rec's run.json, releasing the reserve (and then old
// output) when the disk is full. Called with r.mu held.
func (r *Records) writeRecord(rec *RunRecord, durable bool) error {
	write := func() error {
		runs, err := r.openRuns()
		if err != nil {
			return err
		}
		defer runs.Close()
		d, err := runs.OpenDir(strconv.Itoa(rec.Run))
		if err != nil {
			return err
		}
		defer d.Close()
		return writeJSON(d, rec, durable)
	}
	err := write()
	for range 8 {
		if err == nil || !r.freeForRecords(rec.Run, err) {
			break
		}
		err = write()
	}
	return err
}

// SetPID records the pid once the process started and writes run.json
// durably with it, so that the record of a run holdfast does not see end
// (holdfast killed, node lost) names its process.
func (r *Records) SetPID(run, pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.mem[run]
	if !ok {
		return
	}
	rec.PID = pid
	r.mem[run] = rec
	if rec.Dir == "" {
		return
	}
	if err := r.writeRecord(&rec, true); err != nil {
		r.logger.Warn("cannot write run record with the pid", "run", run, "error", err)
	}
}

// Finish fills Artifacts by scanning the run dir (or EvidenceDir in memory
// mode), then writes run.json atomically: temp file in the same dir, fsync,
// rename, fsync the dir, so a crash leaves the old or the new record, never
// a truncated one. The error is for the caller to log.
func (r *Records) Finish(rec *RunRecord) error {
	if rec == nil {
		return errors.New("cannot finish run: nil record")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	kept, ok := r.mem[rec.Run]
	if ok && rec.PID == 0 {
		rec.PID = kept.PID
	}
	if rec.EndedAt != nil && rec.RanForSeconds == 0 {
		rec.RanForSeconds = rec.EndedAt.Sub(rec.StartedAt).Seconds()
	}
	sealErr := r.sealAppDir(rec.Run)
	var scanErr error
	switch {
	case rec.Dir != "":
		rec.Artifacts, scanErr = r.scanRun(rec.Run)
	case rec.EvidenceDir != "":
		rec.Artifacts, scanErr = scanPath(rec.EvidenceDir)
	}
	if rec.Artifacts == nil {
		rec.Artifacts = []Artifact{}
	}
	if ok { // a run pruned meanwhile stays pruned
		r.mem[rec.Run] = clone(*rec)
	}
	if rec.Dir == "" {
		return scanErr
	}
	return errors.Join(r.writeRecord(rec, true), scanErr, sealErr)
}

// Rescan refreshes the artifacts of a run this process keeps and writes
// its run.json again: a dump taken while the run is alive (or hang-held)
// is listed at once, not only when the run ends. A run that is not kept
// (pruned, or another holdfast's) is left alone.
func (r *Records) Rescan(run int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.mem[run]
	if !ok {
		return fmt.Errorf("run %d is not kept", run)
	}
	var err error
	switch {
	case rec.Dir != "":
		rec.Artifacts, err = r.scanRun(run)
	case rec.EvidenceDir != "":
		rec.Artifacts, err = scanPath(rec.EvidenceDir)
	}
	r.mem[run] = clone(rec)
	if rec.Dir == "" || err != nil {
		return err
	}
	return r.writeRecord(&rec, false)
}

// List returns every record kept (disk and memory), oldest first. A run of
// this process is taken from memory (its newest state); older runs from
// their run.json. A run.json that cannot be read is listed with what its
// directory shows and logged once.
func (r *Records) List() []RunRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RunRecord
	for _, n := range r.diskRuns() {
		if _, ok := r.mem[n]; !ok {
			out = append(out, r.readDisk(n))
		}
	}
	for _, rec := range r.mem {
		out = append(out, clone(rec))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Run < out[j].Run })
	return out
}

// Get returns one run's record.
func (r *Records) Get(run int) (RunRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec, ok := r.mem[run]; ok {
		return clone(rec), true
	}
	if run < 1 || !slices.Contains(r.diskRuns(), run) {
		return RunRecord{}, false
	}
	return r.readDisk(run), true
}

// diskRuns lists the run numbers of the directories under root, ascending.
// Only canonical decimal names count, so nothing else in runs/ is touched.
// A link is not a run, whatever it points to.
func (r *Records) diskRuns() []int {
	d, err := r.openExistingRuns()
	if err != nil {
		return nil
	}
	defer d.Close()
	entries, err := d.ReadDir()
	if err != nil {
		return nil
	}
	var runs []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name)
		if err != nil || n < 1 || strconv.Itoa(n) != e.Name || !e.IsDir() {
			continue
		}
		runs = append(runs, n)
	}
	sort.Ints(runs)
	return runs
}

func (r *Records) highestOnDisk() int {
	runs := r.diskRuns()
	if len(runs) == 0 {
		return 0
	}
	return runs[len(runs)-1]
}

// prune keeps the current run and the keep-1 newest others, in memory and,
// when the state dir is writable, on disk (a read-only one would only fail
// and warn on every start).
func (r *Records) prune(current int) {
	all := r.diskRuns()
	for n := range r.mem {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(all)))
	var runs *safefs.Dir
	if r.writable {
		runs, _ = r.openExistingRuns()
	}
	if runs != nil {
		defer runs.Close()
	}
	kept := 1 // current
	for _, n := range all {
		if n == current {
			continue
		}
		if kept < r.keep {
			kept++
			continue
		}
		delete(r.mem, n)
		if runs == nil {
			continue
		}
		// Never follows a link: nothing outside runs/ is removed.
		if err := runs.RemoveAll(strconv.Itoa(n)); err != nil {
			r.logger.Warn("cannot remove old run dir", "path", r.RunDir(n), "error", err)
		}
	}
}

func clone(rec RunRecord) RunRecord {
	rec.Command = slices.Clone(rec.Command)
	rec.Artifacts = slices.Clone(rec.Artifacts)
	if rec.EndedAt != nil {
		t := *rec.EndedAt
		rec.EndedAt = &t
	}
	if rec.ExitCode != nil {
		c := *rec.ExitCode
		rec.ExitCode = &c
	}
	if rec.Cause != nil {
		c := *rec.Cause
		rec.Cause = &c
	}
	if rec.Memory != nil {
		m := *rec.Memory
		rec.Memory = &m
	}
	if rec.JVMHeap != nil {
		j := *rec.JVMHeap
		j.Ignored = slices.Clone(j.Ignored)
		rec.JVMHeap = &j
	}
	return rec
}

// readDisk reads runs/<n>/run.json. Dir is always the directory it was
// found in: the state dir may be mounted elsewhere than when it was written.
func (r *Records) readDisk(n int) RunRecord {
	dir := r.RunDir(n)
	path := filepath.Join(dir, RunFile)
	var rec RunRecord
	data, err := r.readRunFile(n, RunFile)
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil {
		if !r.badWarned[n] {
			r.badWarned[n] = true
			r.logger.Warn("cannot read run record; listing the run with what its dir shows", "path", path, "error", err)
		}
		rec = RunRecord{Reason: Unknown}
		rec.Artifacts, _ = r.scanRun(n)
	}
	rec.Run, rec.Dir = n, dir
	if rec.Artifacts == nil {
		rec.Artifacts = []Artifact{}
	}
	return rec
}

// writeJSON replaces run.json in dir atomically (rename(2) within one
// directory; a link planted as run.json is replaced, never written
// through); durable also syncs the data before and the directory entry
// after the rename.
func writeJSON(dir *safefs.Dir, rec *RunRecord, durable bool) (err error) {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode run %d: %w", rec.Run, err)
	}
	tmp := tempName(tempPrefix)
	f, err := dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, statedir.RecordMode)
	if err != nil {
		return fmt.Errorf("cannot create temp file in %s: %w", dir.Name(), err)
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = dir.Remove(tmp)
		}
	}()
	if _, err = f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("cannot write %s: %w", f.Name(), err)
	}
	// The umask may have taken bits; the mode is the contract (0600: the
	// command line may hold secrets).
	if err = f.Chmod(statedir.RecordMode); err != nil {
		return fmt.Errorf("cannot chmod %s: %w", f.Name(), err)
	}
	if durable {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("cannot sync %s: %w", f.Name(), err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("cannot close %s: %w", f.Name(), err)
	}
	if err = dir.Rename(tmp, RunFile); err != nil {
		return fmt.Errorf("cannot rename %s to %s: %w", tmp, RunFile, err)
	}
	if !durable {
		return nil
	}
	// The rename is durable only once the directory is synced (fsync(2)).
	if err = dir.Sync(); err != nil {
		return fmt.Errorf("cannot sync dir %s: %w", dir.Name(), err)
	}
	return nil
}

// maxArtifacts bounds a scan: an app that litters its run dir must not
// make run.json huge.
const maxArtifacts = 1000

// maxDepth bounds how deep a scan descends.
const maxDepth = 8

// scanRun lists the artifacts of runs/<run>.
func (r *Records) scanRun(run int) ([]Artifact, error) {
	runs, err := r.openExistingRuns()
	if err != nil {
		return []Artifact{}, err
	}
	defer runs.Close()
	d, err := runs.OpenDir(strconv.Itoa(run))
	if err != nil {
		return []Artifact{}, fmt.Errorf("cannot scan run dir: %w", err)
	}
	defer d.Close()
	return scanArtifacts(d)
}

// scanPath lists the artifacts of the directory at path (memory mode's
// evidence dir).
func scanPath(path string) ([]Artifact, error) {
	d, err := safefs.OpenRoot(path)
	if err != nil {
		return []Artifact{}, fmt.Errorf("cannot scan evidence dir: %w", err)
	}
	defer d.Close()
	return scanArtifacts(d)
}

// scanArtifacts lists the files under dir (subdirectories too, named by
// relative path), skipping run.json and dot files (our temp files). It
// never follows a link: a link is listed as kind "link", and only real
// directories are descended into (the app's jvm/ dir may hold anything).
func scanArtifacts(dir *safefs.Dir) ([]Artifact, error) {
	arts := []Artifact{}
	var walk func(d *safefs.Dir, prefix string, depth int) error
	walk = func(d *safefs.Dir, prefix string, depth int) error {
		entries, err := d.ReadDir()
		if err != nil {
			return err
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
		for _, e := range entries {
			if strings.HasPrefix(e.Name, ".") || (prefix == "" && e.Name == RunFile) {
				continue
			}
			if len(arts) >= maxArtifacts {
				return nil
			}
			switch {
			case e.IsDir():
				if depth >= maxDepth {
					continue
				}
				if sub, err := d.OpenDir(e.Name); err == nil {
					_ = walk(sub, prefix+e.Name+"/", depth+1)
					sub.Close()
				}
			case e.IsLink():
				arts = append(arts, Artifact{Name: prefix + e.Name, Kind: "link"})
			default:
				arts = append(arts, Artifact{Name: prefix + e.Name, Kind: KindOf(e.Name), Size: e.Size})
			}
		}
		return nil
	}
	if err := walk(dir, "", 0); err != nil {
		return arts, fmt.Errorf("cannot scan run dir %s: %w", dir.Name(), err)
	}
	return arts, nil
}

// openExistingRuns opens runs/ without creating it.
func (r *Records) openExistingRuns() (*safefs.Dir, error) {
	st, err := safefs.OpenRoot(r.state)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.OpenDir(statedir.RunsDir)
}

// readRunFile reads runs/<run>/<name> without following links.
func (r *Records) readRunFile(run int, name string) ([]byte, error) {
	runs, err := r.openExistingRuns()
	if err != nil {
		return nil, err
	}
	defer runs.Close()
	return runs.ReadFile(strconv.Itoa(run) + "/" + name)
}

// KindOf classifies a file by the names the JVM, the kernel and holdfast
// give it: java_pid<pid>.hprof (HeapDumpOnOutOfMemoryError), hs_err_pid<pid>.log
// (ErrorFile), core / core.<pid> (core(5) default pattern), output.log.
func KindOf(name string) string {
	switch {
	case name == OutputFile || strings.HasPrefix(name, OutputFile+"."):
		return "output"
	case strings.HasSuffix(name, ".hprof") || strings.Contains(name, ".hprof."):
		return "heap-dump"
	case strings.HasPrefix(name, "hs_err_pid") && strings.HasSuffix(name, ".log"):
		return "hs-err"
	case name == "core" || strings.HasPrefix(name, "core."):
		return "core"
	case strings.HasPrefix(name, "thread-dump") || strings.HasPrefix(name, "threads-") ||
		strings.HasSuffix(name, ".tdump"):
		return "thread-dump"
	case strings.HasPrefix(name, "histogram-") && strings.HasSuffix(name, ".txt"):
		return "class-histogram"
	case strings.HasSuffix(name, ".jfr"):
		return "jfr"
	default:
		return "other"
	}
}
