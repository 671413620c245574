//go:build race

package capture

// raceEnabled shortens the gigabyte test: the race detector makes the
// relay's bookkeeping ~10 times slower, not its correctness different.
const raceEnabled = true
