package crashhold

import (
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
	"time"

	"github.com/holdfast-dev/holdfast/internal/redact"
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
	Reason        string     `json:"reason"`   // set by the supervisor: "clean-exit", "startup-crash", ...
	Decision      string     `json:"decision"` // set by the supervisor: "restart", "hold", "exit"
	Dir           string     `json:"dir"`      // absolute run dir ("" when kept in memory only)
	Artifacts     []Artifact `json:"artifacts"`
	// EvidenceDir is where JVMEnv sent the JVM's evidence when there is no run
	// dir (memory mode: a directory under os.TempDir()). The caller sets it
	// from JVMEnv's result; Finish scans it for artifacts when Dir is "".
	EvidenceDir string `json:"evidence_dir,omitempty"`
}

// Artifact is one file found in a run's directory.
type Artifact struct {
	Name string `json:"name"` // file name inside the run dir
	Kind string `json:"kind"` // "output", "heap-dump", "hs-err", "core", "thread-dump", "other"
	Size int64  `json:"size"`
}

const (
	recRunFile    = "run.json"
	recTempPrefix = ".run.json." // temp files of the atomic write; never artifacts
	// recUnknownReason marks a run whose run.json could not be read.
	recUnknownReason = "unknown"
)

// Records keeps run directories under <stateDir>/runs.
//
// The supervisor is the only writer (Begin, SetPID, Finish); the control
// socket reads with List and Get from other goroutines, so every method takes
// the lock and the records handed out are copies.
type Records struct {
	root   string // absolute <stateDir>/runs
	keep   int
	logger *slog.Logger

	mu        sync.Mutex
	writable  bool
	warned    bool              // the one "not writable" warning was logged
	mem       map[int]RunRecord // every run this process began and still keeps
	last      int               // highest run number handed out
	badWarned map[int]bool      // unreadable run.json files already logged
}

// OpenRecords never fails: when stateDir/runs cannot be created or written,
// it logs one warning and keeps records in memory only; Writable then
// reports false. The app must never be refused for want of a place to
// write evidence. keep < 1 acts as 1 (the current run is always kept).
func OpenRecords(stateDir string, keep int, logger *slog.Logger) *Records {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	root := filepath.Join(stateDir, "runs")
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	r := &Records{root: root, keep: max(keep, 1), logger: logger,
		mem: map[int]RunRecord{}, badWarned: map[int]bool{}}
	if err := recProbe(root); err != nil {
		r.fallBack(err)
	} else {
		r.writable = true
	}
	return r
}

// recProbe proves root writable by creating and removing a file: a
// read-only mount or a full disk passes MkdirAll but not this.
func recProbe(root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("cannot create run records dir: %w", err)
	}
	f, err := os.CreateTemp(root, ".probe-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", root, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("cannot remove probe file %s: %w", name, err)
	}
	return nil
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
	var mkErr error
	dir := ""
	// Mkdir, not MkdirAll: EEXIST means another holdfast (or a stale
	// entry) owns that number, so take the next one instead of sharing it.
	for range 100 {
		mkErr = os.MkdirAll(r.root, 0o755)
		if mkErr == nil {
			mkErr = os.Mkdir(r.RunDir(n), 0o755)
		}
		if errors.Is(mkErr, fs.ErrExist) {
			n++
			continue
		}
		if mkErr == nil {
			dir = r.RunDir(n)
		}
		break
	}
	rec := RunRecord{Run: n, Attempt: attempt, Command: redact.Argv(cmd), PID: pid,
		StartedAt: started, Dir: dir, Artifacts: []Artifact{}}
	if dir == "" {
		r.fallBack(fmt.Errorf("cannot create run dir %s: %w", r.RunDir(n), mkErr))
	} else {
		r.writable = true
		// The initial record is a placeholder that Finish replaces: it is
		// written atomically for readers but not synced, so the two fsyncs
		// stay off the path between a crash and the next start.
		if err := recWriteJSON(dir, &rec, false); err != nil {
			// The dir exists, so evidence can still land there; Finish retries.
			r.logger.Warn("cannot write initial run record", "run", n, "error", err)
		}
	}
	r.last = n
	r.mem[n] = recClone(rec)
	r.prune(n)
	return &rec
}

// SetPID records the pid once the process started. It only updates the kept
// copy: an fsync here would delay the supervisor right after the spawn, and
// Finish writes the pid to disk (taking it from here when rec.PID is 0).
func (r *Records) SetPID(run, pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec, ok := r.mem[run]; ok {
		rec.PID = pid
		r.mem[run] = rec
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
	var scanErr error
	scan := rec.Dir
	if scan == "" {
		scan = rec.EvidenceDir
	}
	if scan != "" {
		rec.Artifacts, scanErr = recScanArtifacts(scan)
	}
	if rec.Artifacts == nil {
		rec.Artifacts = []Artifact{}
	}
	if ok { // a run pruned meanwhile stays pruned
		r.mem[rec.Run] = recClone(*rec)
	}
	if rec.Dir == "" {
		return scanErr
	}
	return errors.Join(recWriteJSON(rec.Dir, rec, true), scanErr)
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
		out = append(out, recClone(rec))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Run < out[j].Run })
	return out
}

// Get returns one run's record.
func (r *Records) Get(run int) (RunRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec, ok := r.mem[run]; ok {
		return recClone(rec), true
	}
	if fi, err := os.Stat(r.RunDir(run)); err != nil || !fi.IsDir() || run < 1 {
		return RunRecord{}, false
	}
	return r.readDisk(run), true
}

// diskRuns lists the run numbers of the directories under root, ascending.
// Only canonical decimal names count, so nothing else in runs/ is touched.
func (r *Records) diskRuns() []int {
	entries, err := os.ReadDir(r.root)
	if err != nil {
		return nil
	}
	var runs []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n < 1 || strconv.Itoa(n) != e.Name() || !e.IsDir() {
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
		dir := r.RunDir(n)
		if _, err := os.Lstat(dir); err != nil || !r.writable {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			r.logger.Warn("cannot remove old run dir", "path", dir, "error", err)
		}
	}
}

func recClone(rec RunRecord) RunRecord {
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
	return rec
}

// readDisk reads runs/<n>/run.json. Dir is always the directory it was
// found in: the state dir may be mounted elsewhere than when it was written.
func (r *Records) readDisk(n int) RunRecord {
	dir := r.RunDir(n)
	path := filepath.Join(dir, recRunFile)
	var rec RunRecord
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil {
		if !r.badWarned[n] {
			r.badWarned[n] = true
			r.logger.Warn("cannot read run record; listing the run with what its dir shows", "path", path, "error", err)
		}
		rec = RunRecord{Reason: recUnknownReason}
		rec.Artifacts, _ = recScanArtifacts(dir)
	}
	rec.Run, rec.Dir = n, dir
	if rec.Artifacts == nil {
		rec.Artifacts = []Artifact{}
	}
	return rec
}

// recWriteJSON replaces dir/run.json atomically (rename(2) within one
// directory); durable also syncs the data before and the directory entry
// after the rename.
func recWriteJSON(dir string, rec *RunRecord, durable bool) (err error) {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode run %d: %w", rec.Run, err)
	}
	f, err := os.CreateTemp(dir, recTempPrefix+"*")
	if err != nil {
		return fmt.Errorf("cannot create temp file in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("cannot write %s: %w", tmp, err)
	}
	// CreateTemp makes 0600; the record is meant to be read by ssh users too.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("cannot chmod %s: %w", tmp, err)
	}
	if durable {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("cannot sync %s: %w", tmp, err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("cannot close %s: %w", tmp, err)
	}
	final := filepath.Join(dir, recRunFile)
	if err = os.Rename(tmp, final); err != nil {
		return fmt.Errorf("cannot rename %s to %s: %w", tmp, final, err)
	}
	if !durable {
		return nil
	}
	// The rename is durable only once the directory is synced (fsync(2)).
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("cannot sync dir %s: %w", dir, err)
	}
	return nil
}

// recMaxArtifacts bounds a scan: an app that litters its run dir must not
// make run.json huge.
const recMaxArtifacts = 1000

// recScanArtifacts lists the files under dir (subdirectories too, named by
// relative path), skipping run.json and dot files (our temp files).
func recScanArtifacts(dir string) ([]Artifact, error) {
	arts := []Artifact{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // vanished or unreadable entry: list what can be listed
		}
		if path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || path == filepath.Join(dir, recRunFile) {
			return nil
		}
		if len(arts) >= recMaxArtifacts {
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		arts = append(arts, Artifact{Name: filepath.ToSlash(rel), Kind: recKind(d.Name()), Size: info.Size()})
		return nil
	})
	if err != nil {
		return arts, fmt.Errorf("cannot scan run dir %s: %w", dir, err)
	}
	return arts, nil
}

// recKind classifies a file by the names the JVM, the kernel and holdfast
// give it: java_pid<pid>.hprof (HeapDumpOnOutOfMemoryError), hs_err_pid<pid>.log
// (ErrorFile), core / core.<pid> (core(5) default pattern), output.log.
func recKind(name string) string {
	switch {
	case name == "output.log" || strings.HasPrefix(name, "output.log."):
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
	default:
		return "other"
	}
}
