package runrec

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/statedir"
)

// spaceCost is what a full state dir cost so far: it stays reported for the
// life of the process, since the evidence it names is gone.
type spaceCost struct {
	reserveUsed bool  // the reserve was released for a record
	dropped     []int // runs whose output.log was deleted to make room
	cutShort    []int // runs whose output.log stopped early: nothing left to free
}

// noSpace reports a full disk or an exhausted quota.
func noSpace(err error) bool {
	return errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT)
}

// ensureReserve (re)creates the space reserve for run records. Called with
// r.mu held or before r is shared.
func (r *Records) ensureReserve() {
	if err := r.reserve.Ensure(); err != nil && !noSpace(err) {
		r.logger.Debug("cannot create the space reserve for run records", "error", err)
	}
}

// freeForRecords makes room for a run record after err: it releases the
// reserve first, then deletes the oldest runs' output.log (never current's).
// It reports whether anything was freed. Called with r.mu held.
func (r *Records) freeForRecords(current int, err error) bool {
	if !noSpace(err) {
		return false
	}
	if r.reserve.Release() {
		r.space.reserveUsed = true
		r.logger.Warn("state dir full: released the space reserve to write run records", "path", r.state)
		return true
	}
	if r.dropOldestOutput(current) {
		return true
	}
	return r.shrinkOutput(current)
}

// shrinkOutput cuts the last ReserveSize bytes off run's own output.log,
// the last resort for its record: a run's record is worth more than the
// end of its output (which is still kept in memory). Called with r.mu held.
func (r *Records) shrinkOutput(run int) bool {
	if run < 1 {
		return false
	}
	runs, err := r.openExistingRuns()
	if err != nil {
		return false
	}
	defer runs.Close()
	f, err := runs.OpenFile(strconv.Itoa(run)+"/"+OutputFile, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return false
	}
	if f.Truncate(max(fi.Size()-statedir.ReserveSize, 0)) != nil {
		return false
	}
	if !slices.Contains(r.space.cutShort, run) {
		r.space.cutShort = append(r.space.cutShort, run)
	}
	r.logger.Warn("state dir full: cut the end off this run's output.log to write its record", "run", run)
	return true
}

// FreeForOutput makes room for run current's output.log by deleting the
// output.log of the oldest other run that still has one; it never touches
// the reserve (that is for records). When nothing is left to free, it
// notes current's output.log as cut short and returns false. Safe to call
// from any goroutine (the capture's writer calls it).
func (r *Records) FreeForOutput(current int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dropOldestOutput(current) {
		// Records come first: the room made refills the reserve before
		// the output gets the rest.
		r.ensureReserve()
		return true
	}
	if !slices.Contains(r.space.cutShort, current) {
		r.space.cutShort = append(r.space.cutShort, current)
		r.logger.Warn("state dir full: nothing older left to free; this run's output.log stops here (all of it is still passed on and kept in memory)", "run", current)
	}
	return false
}

// dropOldestOutput deletes the output.log of the oldest run other than
// current that has a non-empty one. Called with r.mu held.
func (r *Records) dropOldestOutput(current int) bool {
	runs, err := r.openExistingRuns()
	if err != nil {
		return false
	}
	defer runs.Close()
	for _, n := range r.diskRuns() {
		if n == current {
			continue
		}
		rel := strconv.Itoa(n) + "/" + OutputFile
		st, err := runs.Lstat(rel)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Blocks == 0 {
			continue
		}
		if err := runs.Remove(rel); err != nil {
			continue
		}
		r.space.dropped = append(r.space.dropped, n)
		r.logger.Warn("state dir full: deleted an older run's output.log to make room", "run", n, "for_run", current, "bytes", st.Size)
		return true
	}
	return false
}

// Degraded says what a full state dir cost ("" when nothing): shown in
// the status snapshot and the hold banner.
func (r *Records) Degraded() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	if r.space.reserveUsed {
		parts = append(parts, "the space reserve for run records was used")
	}
	if len(r.space.dropped) > 0 {
		parts = append(parts, fmt.Sprintf("output.log of run(s) %s deleted to make room", joinRuns(r.space.dropped)))
	}
	if len(r.space.cutShort) > 0 {
		parts = append(parts, fmt.Sprintf("output.log of run(s) %s incomplete (the rest is in memory only)", joinRuns(r.space.cutShort)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "state dir full: " + strings.Join(parts, "; ")
}

func joinRuns(runs []int) string {
	s := make([]string, len(runs))
	for i, n := range runs {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
