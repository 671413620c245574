package policystate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/safefs"
	"github.com/holdfast-dev/holdfast/internal/statedir"
)

// FileName is the policy state's file in the state dir.
const FileName = "policy.json"

// Version is the format version of File; a file of another version is a
// fresh budget.
const Version = 1

// maxFileSize bounds what Load reads: a policy.json is a few hundred bytes.
const maxFileSize = 64 << 10

// maxVanished bounds File.Vanished (the newest are kept).
const maxVanished = 20

// File is policy.json.
type File struct {
	Version     int    `json:"version"`
	Fingerprint string `json:"fingerprint"` // Fingerprint of the command

	// The last run started, and what is known of it.
	Run       int       `json:"run"`     // 0 before the first
	Attempt   int       `json:"attempt"` // its attempt under the budget (1 = fresh)
	StartedAt time.Time `json:"started_at,omitzero"`
	Ready     bool      `json:"ready"` // it was ready at least once
	Ended     bool      `json:"ended"` // its end is recorded in its run.json

	// Used is the supervisor's budget used after the last recorded end:
	// startup crashes restarted under the current budget.
	Used int `json:"used"`
	// Held is the hold reason in force ("" when not held).
	Held string `json:"held,omitempty"`
	// Exited: holdfast ended on its own (an exit it decided, a stop it was
	// asked for); the next start begins a fresh budget.
	Exited bool `json:"exited"`

	// Starts counts the holdfast starts under this budget (1 = the first):
	// Starts-1 container restarts.
	Starts int `json:"starts"`
	// Vanished lists the runs of this budget that vanished, oldest first.
	Vanished []VanishedRun `json:"vanished,omitempty"`

	UpdatedAt time.Time `json:"updated_at"`
}

// VanishedRun is one run holdfast died with.
type VanishedRun struct {
	Run       int       `json:"run"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"` // the last sign of life
	InWindow  bool      `json:"in_window"`
	Summary   string    `json:"summary"` // VanishedCause's summary
}

// Store reads and writes policy.json in one state dir.
type Store struct {
	dir  string
	last []byte // the content last written or read
}

// NewStore returns the store of stateDir's policy.json.
func NewStore(stateDir string) *Store { return &Store{dir: stateDir} }

// ErrNoFile is Load's error when no policy.json exists.
var ErrNoFile = errors.New("no " + FileName)

// Load reads policy.json. A missing file is ErrNoFile; a file that cannot
// be read or parsed, or has another version, is an error that says so.
func (s *Store) Load() (File, error) {
	d, err := safefs.OpenRoot(s.dir)
	if err != nil {
		return File{}, fmt.Errorf("cannot open the state dir: %w", err)
	}
	defer d.Close()
	st, err := d.Lstat(FileName)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, ErrNoFile
	}
	if err != nil {
		return File{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxFileSize {
		return File{}, fmt.Errorf("%s is not a small regular file", FileName)
	}
	data, err := d.ReadFile(FileName)
	if err != nil {
		return File{}, err
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return File{}, fmt.Errorf("%s is torn or corrupt: %w", FileName, err)
	}
	if f.Version != Version {
		return File{}, fmt.Errorf("%s has version %d, want %d", FileName, f.Version, Version)
	}
	s.last = data
	return f, nil
}

// Write replaces policy.json with f when its content changed (UpdatedAt
// aside), atomically and durably. It reports whether it wrote.
func (s *Store) Write(f File, now time.Time) (bool, error) {
	if len(f.Vanished) > maxVanished {
		f.Vanished = f.Vanished[len(f.Vanished)-maxVanished:]
	}
	f.Version = Version
	f.UpdatedAt = time.Time{}
	cmp, err := json.Marshal(f)
	if err != nil {
		return false, err
	}
	if s.last != nil && string(cmp) == string(s.lastWithoutTime()) {
		return false, nil
	}
	f.UpdatedAt = now.UTC()
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return false, err
	}
	if err := writeAtomic(s.dir, append(data, '\n')); err != nil {
		return false, err
	}
	s.last = data
	return true, nil
}

// lastWithoutTime is the last content in Write's comparison form.
func (s *Store) lastWithoutTime() []byte {
	var f File
	if json.Unmarshal(s.last, &f) != nil {
		return nil
	}
	f.UpdatedAt = time.Time{}
	b, _ := json.Marshal(f)
	return b
}

// writeAtomic writes data as policy.json: a temp file in the state dir,
// fsync, rename over the old one (a link planted there is replaced, never
// written through), fsync of the dir.
func writeAtomic(dir string, data []byte) (err error) {
	d, err := safefs.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("cannot open the state dir: %w", err)
	}
	defer d.Close()
	tmp := "." + FileName + ".tmp"
	_ = d.Remove(tmp)
	f, err := d.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, statedir.RecordMode)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			_ = d.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", FileName, err)
	}
	if err = d.Rename(tmp, FileName); err != nil {
		return fmt.Errorf("cannot replace %s: %w", FileName, err)
	}
	return d.Sync()
}
