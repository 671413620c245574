//go:build race

package probes

// raceEnabled: the race detector makes this code several times slower, so
// timing bounds are scaled and the CPU budget test is not meaningful.
const raceEnabled = true
