package main

import (
	"math"
	"slices"
	"time"
)

// sample is a set of measurements of one thing, kept whole so that any
// quantile can be read from it.
type sample []float64

// quantile is the nearest-rank quantile (0 < q <= 1) of s: an observed
// value, never an interpolation between two. NaN for an empty sample.
func (s sample) quantile(q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func (s sample) median() float64 { return s.quantile(0.5) }

// ms converts a duration to milliseconds for the tables.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ratio is a/b, NaN when b is zero or either is unknown.
func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}
