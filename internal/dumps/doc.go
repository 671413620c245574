// Package dumps takes the JVM evidence holdfast keeps as files in a run's
// dir, through the HotSpot attach mechanism (package attach): a thread dump
// (threads-<time>.txt), a class histogram (histogram-<time>.txt), a heap
// dump (heap-<time>.hprof) and a JFR recording (recording-<time>.jfr).
//
// Who writes where follows the run dir's layout (package runrec): the run
// dir is holdfast's, its jvm/ subdirectory the app's. Text dumps travel
// over the attach socket and are written by holdfast into the run dir,
// opened through internal/safefs (never through a link, never over an
// existing file). A heap dump and a JFR recording are written by the JVM
// itself, with its own credentials, so they go into jvm/, named by the
// path as the JVM sees it (holdfast and its app share one mount
// namespace); holdfast checks afterwards that the file is there, since the
// JVM reports a failed GC.heap_dump in its output with a success status.
//
// JFR takes two calls: the first starts a continuous recording named
// "holdfast" (bounded by maxage and maxsize), every later one dumps what it
// holds so far.
//
// Every dump is bounded by the caller's context; a JVM that does not
// answer gives the attach package's ErrTimeout and nothing is left behind.
// Only one heap dump per holdfast runs at a time: a second is refused, not
// queued, so two cannot fill the disk together.
//
// The package must not know about the supervisor, phases or the control
// socket, and must not signal a process itself (the attach package does,
// under its own checks): callers decide when a dump is taken and which
// run's dir it goes to.
package dumps
