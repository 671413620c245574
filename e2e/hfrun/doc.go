// Package hfrun holds the pieces of the e2e harness that are not tied to one test
// binary: the holdfast binary under test, a locked output buffer, free loopback ports,
// bounded waits on conditions, the rule for a missing tool, and the typed records a
// test reads back from holdfast (the status JSON, runs/<N>/run.json, metrics).
//
// It starts no holdfast itself and knows nothing of the fake app: starting holdfast
// as PID 1 or as a subreaper, with its options, is the e2e package's handle (`hf`),
// which builds on these pieces.
package hfrun
