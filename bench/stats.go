package main

import (
	"time"

	"github.com/holdfast-dev/holdfast/bench/internal/stats"
)

// sample is stats.Sample under the name the tables' code uses.
type sample = stats.Sample

// ms converts a duration to milliseconds for the tables.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ratio is a/b, NaN when b is zero or either is unknown.
func ratio(a, b float64) float64 { return stats.Ratio(a, b) }
