// Package stats is the arithmetic the benchmark programs share: nearest-rank
// quantiles over whole samples, and ratios that stay unknown (NaN) when an
// input is.
package stats

import (
	"math"
	"slices"
)

// Sample is a set of measurements of one thing, kept whole so that any
// quantile can be read from it.
type Sample []float64

// Quantile is the nearest-rank quantile (0 < q <= 1) of s: an observed
// value, never an interpolation between two. NaN for an empty sample.
func (s Sample) Quantile(q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// Median is the 0.5 quantile.
func (s Sample) Median() float64 { return s.Quantile(0.5) }

// Ratio is a/b, NaN when b is zero or either is unknown.
func Ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}
