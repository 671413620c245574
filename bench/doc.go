// Command bench measures holdfast as a PID 1 and as a supervisor, side by
// side in one run with tini, dumb-init and catatonit, and (section peers)
// with Pebble and both supervisords, and prints markdown tables for
// docs/benchmarks.md. The peers are installed by scripts/bench.sh, never
// vendored; section signals2 adds csrc/sigstamp.c, a C signal receiver
// built with the system's cc, so that a receiver without a language
// runtime can be measured beside the Go one.
//
//	go run . -holdfast ../bin/holdfast      (as root; scripts/bench.sh does this)
//
// Every PID 1 runs in a new pid namespace (`unshare --pid --fork
// --mount-proc`), with the same app: cmd/benchapp (idle, signal receipt,
// stdout writer, crasher, and a zero-copy relay for one row) or cmd/orphans (mass orphaning), both built here
// with CGO_ENABLED=0. Rows are interleaved so that they share the machine's
// noise; each table states what it timed.
//
// This is a benchmark, not a test: it reports numbers, ratios and whether
// each stated target was met, and it exits 0 whatever the numbers are. It
// exits non-zero only when it cannot run at all (not root, a missing init,
// a helper that does not build). It must not change anything outside its
// work dir and the state dirs it creates there.
package main
