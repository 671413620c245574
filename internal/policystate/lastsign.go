package policystate

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/memwatch"
)

// Files of a run dir whose mtime is a sign of the run's life.
var lifeFiles = []string{"run.json", "output.log", memwatch.TimelineName}

// LastSign is the last sign of life of a run started at started whose
// dir is runDir: the newest mtime of its run.json, output.log and memory
// timeline, and its last memory sample's time; started when none is newer.
func LastSign(runDir string, started time.Time) time.Time {
	last := started
	for _, name := range lifeFiles {
		if st, err := os.Lstat(filepath.Join(runDir, name)); err == nil && st.Mode().IsRegular() && st.ModTime().After(last) {
			last = st.ModTime()
		}
	}
	if p, ok := lastSample(runDir); ok && p.Time.After(last) {
		last = p.Time
	}
	return last
}

// lastSample is the newest point of a run's memory timeline.
func lastSample(runDir string) (memwatch.Point, bool) {
	if runDir == "" {
		return memwatch.Point{}, false
	}
	pts, err := memwatch.ReadTimeline(filepath.Join(runDir, memwatch.TimelineName))
	if err != nil || len(pts) == 0 {
		return memwatch.Point{}, false
	}
	last := pts[0]
	for _, p := range pts[1:] {
		if p.Time.After(last.Time) {
			last = p
		}
	}
	return last, true
}

// oomLikely is the share of the limit from which the last sample makes
// the kernel's group OOM kill the likely end.
const oomLikely = 0.9

// VanishedCause is what is known of why a run vanished: holdfast died
// with it, and its last memory sample, when the run dir has one, says how
// close the container was to its memory limit.
func VanishedCause(runDir string) *cause.Cause {
	c := &cause.Cause{Kind: cause.Unknown}
	p, ok := lastSample(runDir)
	switch {
	case !ok:
		c.Summary = "holdfast and the app were killed together (the container was killed or restarted); no memory sample was kept"
	case p.Limit == memwatch.NoLimit:
		c.Summary = fmt.Sprintf("holdfast and the app were killed together; last memory sample %s, no memory limit", human(p.Usage))
	default:
		share := float64(p.Usage) / float64(p.Limit)
		c.MemoryLimit = p.Limit
		c.MemoryPeak = peakUsage(runDir)
		c.Summary = fmt.Sprintf("holdfast and the app were killed together; last memory sample %.0f%% of the memory limit (%s of %s)",
			share*100, human(p.Usage), human(p.Limit))
		if share >= oomLikely {
			c.Summary += ": most likely the kernel OOM group kill"
		}
	}
	return c
}

func peakUsage(runDir string) uint64 {
	pts, _ := memwatch.ReadTimeline(filepath.Join(runDir, memwatch.TimelineName))
	var peak uint64
	for _, p := range pts {
		peak = max(peak, p.Usage)
	}
	return peak
}

func human(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
