// Package memwatch reads the memory of the container holdfast runs in and keeps
// a record of it while an app runs.
//
// It owns:
//   - finding the process's own memory cgroup (cgroup v2, or the v1 memory
//     controller, including hybrid hosts) through /proc/self/cgroup and
//     /proc/self/mountinfo, and reading its usage, limit, peak, OOM-kill
//     counter and memory.stat;
//   - an app's resident set size from /proc/<pid>/status;
//   - the Sampler: one call of Sample per tick of the caller's timer reads the
//     cgroup and the app, appends a record to a bounded timeline file in the
//     run dir and calls a watermark callback once per run when usage first
//     reaches a fraction (90% by default) of the limit;
//   - the timeline file format (a fixed-size file of checksummed records, a
//     fine ring of recent samples and a coarse ring of older ones) and its
//     reader, which skips torn or corrupt records;
//   - SaveEvidence, which copies the app's /proc status and smaps_rollup and
//     the cgroup's memory.stat into a dir without following symlinks there.
//
// It must not: start goroutines that outlive a Run call (the Sampler has no
// timer of its own unless the caller uses Run, which stops with its context),
// write outside the paths its caller names, signal or otherwise touch the app,
// change any cgroup setting, or grow without bound (the timeline file has a
// fixed size chosen at creation). Deciding what a reading means for the
// restart policy is the caller's business.
package memwatch
