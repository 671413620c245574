package bundle

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
)

// Run is one entry of the runs list: the fields SUMMARY.txt shows, and the
// whole record as holdfast gave it (Raw), which runs.json repeats verbatim.
type Run struct {
	Run       int          `json:"run"`
	StartedAt time.Time    `json:"started_at"`
	EndedAt   *time.Time   `json:"ended_at"`
	ExitCode  *int         `json:"exit_code"`
	Signal    string       `json:"signal"`
	Reason    string       `json:"reason"`
	Decision  string       `json:"decision"`
	Cause     *cause.Cause `json:"cause,omitempty"`

	// Raw is the record as JSON; nil: runs.json gets the fields above.
	Raw json.RawMessage `json:"-"`
}

// DecodeRuns reads a runs list (a JSON array of run records, as `holdfast
// runs --json` and the control socket give it), keeping each record whole.
func DecodeRuns(b []byte) ([]Run, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("runs list: %w", err)
	}
	runs := make([]Run, 0, len(raws))
	for i, raw := range raws {
		var r Run
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("runs list: record %d: %w", i, err)
		}
		r.Raw = raw
		runs = append(runs, r)
	}
	return runs, nil
}

// Selection says which runs go in. The zero value is the default: the runs
// of the runs list (the runs holdfast keeps).
type Selection struct {
	// Run > 0 selects that run alone (--run N).
	Run int
	// All adds the run directories of the runs dir that the runs list does
	// not name (--all): a copy of a state dir, or runs a previous holdfast
	// kept with a larger --keep-runs.
	All bool
}

// pick returns the run numbers to bundle, ascending, from the runs list and
// the run dirs found on disk.
func (s Selection) pick(list []Run, onDisk []int) ([]int, error) {
	var nums []int
	for _, r := range list {
		nums = append(nums, r.Run)
	}
	if s.All {
		nums = append(nums, onDisk...)
	}
	if s.Run > 0 {
		if !slices.Contains(nums, s.Run) && !slices.Contains(onDisk, s.Run) {
			return nil, fmt.Errorf("run %d is not kept (runs kept: %v)", s.Run, unique(append(nums, onDisk...)))
		}
		return []int{s.Run}, nil
	}
	return unique(nums), nil
}

func unique(nums []int) []int {
	out := slices.Clone(nums)
	slices.Sort(out)
	return slices.Compact(out)
}

// runsJSON is runs.json: the records of the list, verbatim where Raw is set.
func runsJSON(list []Run) ([]byte, error) {
	out := make([]json.RawMessage, 0, len(list))
	for _, r := range list {
		raw, err := recordJSON(r)
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return json.MarshalIndent(out, "", "  ")
}

// recordJSON is one run's record: Raw, or the fields of Run.
func recordJSON(r Run) (json.RawMessage, error) {
	if r.Raw != nil {
		return r.Raw, nil
	}
	return json.MarshalIndent(r, "", "  ")
}
