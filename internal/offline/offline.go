package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/holdfast-dev/holdfast/internal/redact"
	"github.com/holdfast-dev/holdfast/internal/safefs"
	"github.com/holdfast-dev/holdfast/internal/statedir"
	"github.com/holdfast-dev/holdfast/runrec"
)

// MaxRecord bounds the size of a run.json that is read (a real one is a
// few KiB).
const MaxRecord = 1 << 20

// State is a state dir opened for reading.
type State struct {
	path string // absolute
	runs *safefs.Dir
}

// Open opens the state dir at path and its runs/ directory. A missing or
// unreadable state dir, or one without runs/, is a clear error.
func Open(path string) (*State, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the state dir %s: %w", path, err)
	}
	root, err := safefs.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot read the state dir %s: %w", abs, reason(err))
	}
	defer root.Close()
	runs, err := root.OpenDir(statedir.RunsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the state dir %s holds no %s/ directory: no run was kept there (is it a holdfast state dir?)", abs, statedir.RunsDir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", filepath.Join(abs, statedir.RunsDir), reason(err))
	}
	return &State{path: abs, runs: runs}, nil
}

// reason is err without the path the message already names.
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Close releases the state dir.
func (s *State) Close() error { return s.runs.Close() }

// Path is the state dir's absolute path.
func (s *State) Path() string { return s.path }

// RunsDir is the absolute path of runs/.
func (s *State) RunsDir() string { return filepath.Join(s.path, statedir.RunsDir) }

// Numbers lists the run numbers of runs/, ascending: directories with a
// canonical decimal name, never a link.
func (s *State) Numbers() ([]int, error) {
	entries, err := s.runs.ReadDir()
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", s.RunsDir(), reason(err))
	}
	var nums []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name)
		if err == nil && n > 0 && strconv.Itoa(n) == e.Name && e.IsDir() {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// Runs returns the record of every run dir, oldest first, as the running
// holdfast lists them: Dir is where the run was found, the command is
// redacted, and a record that cannot be read has reason "unknown".
func (s *State) Runs() ([]runrec.RunRecord, error) {
	nums, err := s.Numbers()
	if err != nil {
		return nil, err
	}
	out := make([]runrec.RunRecord, 0, len(nums))
	for _, n := range nums {
		out = append(out, s.record(n))
	}
	return out, nil
}

func (s *State) record(n int) runrec.RunRecord {
	var rec runrec.RunRecord
	data, err := s.readRecord(n)
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil {
		rec = runrec.RunRecord{Reason: runrec.Unknown}
	}
	rec.Run, rec.Dir = n, filepath.Join(s.RunsDir(), strconv.Itoa(n))
	rec.Command = redact.Argv(rec.Command)
	if rec.Artifacts == nil {
		rec.Artifacts = []runrec.Artifact{}
	}
	return rec
}

func (s *State) readRecord(n int) ([]byte, error) {
	f, err := s.runs.Open(strconv.Itoa(n) + "/" + runrec.RunFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRecord+1))
	if err == nil && len(data) > MaxRecord {
		err = fmt.Errorf("larger than %d bytes", MaxRecord)
	}
	return data, err
}

// Output opens run's output.log (run 0: the newest run) and returns it
// with the run's number. The caller closes it.
func (s *State) Output(run int) (*os.File, int, error) {
	if run == 0 {
		nums, err := s.Numbers()
		if err != nil {
			return nil, 0, err
		}
		if len(nums) == 0 {
			return nil, 0, fmt.Errorf("no run is kept in %s", s.RunsDir())
		}
		run = nums[len(nums)-1]
	}
	d, err := s.runs.OpenDir(strconv.Itoa(run))
	if err != nil {
		nums, _ := s.Numbers()
		return nil, run, fmt.Errorf("no run %d is kept in %s (runs kept: %v)", run, s.RunsDir(), nums)
	}
	d.Close()
	f, err := s.runs.Open(strconv.Itoa(run) + "/" + runrec.OutputFile)
	if err != nil {
		return nil, run, fmt.Errorf("cannot read the output of run %d: %w", run, reason(err))
	}
	return f, run, nil
}
