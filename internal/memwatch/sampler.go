package memwatch

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultWatermark is the fraction of the limit at which the watermark
// callback fires.
const DefaultWatermark = 0.9

// Config configures a Sampler.
type Config struct {
	Cgroup   Cgroup // the container's memory cgroup
	PID      int    // the app whose RSS is sampled; 0 for none
	Timeline string // path of the timeline file; it must not exist
	Layout   Layout // zero means DefaultLayout
	// Watermark is the fraction of the limit that fires OnWatermark;
	// zero means DefaultWatermark.
	Watermark float64
	// OnWatermark is called once, from the Sample call that first sees
	// usage at or above Watermark × limit (never without a limit).
	OnWatermark func(Point)
	// SlowInterval, if longer than Run's interval, is the interval Run
	// uses while usage is below FastAbove × limit (or there is no limit):
	// fewer wakeups while memory is far from the limit, at the price of a
	// coarser timeline there.
	SlowInterval time.Duration
	// FastAbove is the fraction of the limit from which Run samples at its
	// own interval; zero means DefaultFastAbove.
	FastAbove float64
}

// DefaultFastAbove is the fraction of the limit above which Run samples at
// its full rate when a SlowInterval is set.
const DefaultFastAbove = 0.5

// Summary is what a run's record keeps of its samples.
type Summary struct {
	Limit     uint64    `json:"limit"`               // last limit seen; 0 = none
	Peak      uint64    `json:"peak"`                // highest sampled usage
	PeakRSS   uint64    `json:"peak_rss"`            // highest sampled app RSS
	Last      uint64    `json:"last"`                // last sampled usage
	LastRSS   uint64    `json:"last_rss"`            // last sampled app RSS
	LastTime  time.Time `json:"last_time,omitzero"`  // when the last sample was taken
	Samples   uint64    `json:"samples"`             // Sample calls that succeeded
	Watermark bool      `json:"watermark,omitempty"` // the watermark fired
}

// Sampler samples a cgroup and an app into a timeline file. Its methods
// are safe for concurrent use.
type Sampler struct {
	cfg Config

	mu     sync.Mutex
	files  *sampleFiles
	w      *timelineWriter
	sum    Summary
	fired  bool
	closed bool
}

// NewSampler creates the timeline file and returns a Sampler that has not
// sampled yet.
func NewSampler(cfg Config) (*Sampler, error) {
	if cfg.Layout == (Layout{}) {
		cfg.Layout = DefaultLayout
	}
	if cfg.Watermark <= 0 || cfg.Watermark > 1 {
		cfg.Watermark = DefaultWatermark
	}
	if cfg.FastAbove <= 0 || cfg.FastAbove > 1 {
		cfg.FastAbove = DefaultFastAbove
	}
	files, err := openSampleFiles(cfg.Cgroup, cfg.PID)
	if err != nil {
		return nil, err
	}
	w, err := createTimeline(cfg.Timeline, cfg.Layout)
	if err != nil {
		files.close()
		return nil, err
	}
	return &Sampler{cfg: cfg, files: files, w: w}, nil
}

// ErrClosed is returned by Sample after Close.
var ErrClosed = errors.New("memwatch: sampler closed")

// Sample reads the cgroup and the app once, appends the result to the
// timeline and returns it. The files it reads stay open between samples
// (one pread each). An app that has gone is sampled with RSS 0; a cgroup
// that cannot be read is an error and nothing is written.
func (s *Sampler) Sample(now time.Time) (Point, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Point{}, ErrClosed
	}
	usage, limit, rss, err := s.files.read()
	if err != nil {
		s.mu.Unlock()
		return Point{}, err
	}
	p := Point{Time: now, Usage: usage, Limit: limit, RSS: rss}
	err = s.w.append(p)
	p.Seq = s.w.seq
	s.note(p)
	fire := !s.fired && limit != NoLimit &&
		float64(usage) >= s.cfg.Watermark*float64(limit)
	if fire {
		s.fired = true
		s.sum.Watermark = true
	}
	s.mu.Unlock()
	if fire && s.cfg.OnWatermark != nil {
		s.cfg.OnWatermark(p)
	}
	return p, err
}

func (s *Sampler) note(p Point) {
	s.sum.Limit = p.Limit
	s.sum.Last, s.sum.LastRSS, s.sum.LastTime = p.Usage, p.RSS, p.Time
	s.sum.Peak = max(s.sum.Peak, p.Usage)
	s.sum.PeakRSS = max(s.sum.PeakRSS, p.RSS)
	s.sum.Samples++
}

// Summary returns what the samples so far add up to.
func (s *Sampler) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum
}

// Run calls Sample every interval until ctx is done, then returns; with
// a SlowInterval, it waits that long instead after a sample below
// FastAbove × limit. It costs one timer wakeup per sample. Errors of single
// samples are passed to onErr (if not nil) and do not stop it.
func (s *Sampler) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p, err := s.Sample(now)
			if errors.Is(err, ErrClosed) {
				return
			}
			if err != nil && onErr != nil {
				onErr(err)
			}
			t.Reset(s.next(p, err, interval))
		}
	}
}

// next is the wait after sample p.
func (s *Sampler) next(p Point, err error, fast time.Duration) time.Duration {
	if s.cfg.SlowInterval <= fast || err != nil {
		return fast
	}
	if p.Limit != NoLimit && float64(p.Usage) >= s.cfg.FastAbove*float64(p.Limit) {
		return fast
	}
	return s.cfg.SlowInterval
}

// Close closes the timeline file; later Sample calls fail with ErrClosed.
func (s *Sampler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.files.close()
	return s.w.close()
}
