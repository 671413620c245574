// Package cause says why a run failed, in one line.
//
// An Extractor reads the app's output as it passes, both streams, line by
// line, and keeps the best candidate cause of the run; Result (or Decide)
// combines it with the facts of the run's end: exit code, signal and who
// sent it, the cgroup's OOM-kill evidence, heap dumps and the hs_err file
// found in the run's directory (ParseHsErr reads one). The outcome is a
// Cause: a Kind from a closed set and a one-line Summary, with the
// exception, message, frame, failure analysis and line number where found.
//
// The rules, most specific first (a more specific candidate wins; of equal
// ones, the later):
//
//   - Spring Boot's failure analysis (APPLICATION FAILED TO START): the first
//     sentence of Description, and Action.
//   - A JVM fatal error header (# A fatal error has been detected …, # There
//     is insufficient memory …): the signal or error, the problematic frame,
//     the hs_err file.
//   - java.lang.OutOfMemoryError of a named kind, also from "Terminating due
//     to" and "Aborting due to"; "Dumping heap to" gives the heap dump.
//   - The java launcher's errors (Error: Unable to access jarfile, Could not
//     find or load main class, Unrecognized VM option, Invalid maximum heap
//     size, Error occurred during initialization of VM,
//     UnsupportedClassVersionError, …).
//   - A Java exception chain: a class-name line confirmed by stack frames,
//     uncaught ("Exception in thread") or logged at ERROR: the deepest
//     Caused by, and the first frame outside Frameworks (of the deepest level
//     that has one). A chain logged at WARN or below is handled and never a
//     cause; one followed by a server's "started" line is dropped.
//   - A JSON log line (ECS, Logstash, GELF, logstash-logback-encoder): only
//     its stack trace and error fields go through the rules above, and its
//     message only for Spring Boot's failure analysis, so that text quoted in
//     any other field never fires.
//
// When nothing matched, the cause says what is known (exit code, signal,
// the last non-empty stderr line) and that no cause was recognised: a
// guess would be worse than nothing.
//
// Kinds (the table Kinds; docs/causes.md shows it):
//
//	spring-failure-analysis  Spring Boot's failure analysis
//	jvm-crash                the JVM's fatal error handler ran (hs_err)
//	oom-heap                 OutOfMemoryError for the heap, or a heap dump in the run
//	oom-metaspace            OutOfMemoryError: Metaspace / Compressed class space
//	oom-native-thread        OutOfMemoryError: unable to create native thread
//	oom-direct               OutOfMemoryError: direct buffer memory
//	jvm-launch               the java launcher or the JVM did not start the app
//	exception                an uncaught or ERROR-logged exception chain
//	oom-killed               SIGKILL from the kernel's OOM killer (cgroup evidence)
//	exec-failed              the command could not be started
//	signal                   killed by a signal, or stopped by holdfast; says who sent it
//	exit-code                a non-zero exit no rule explains
//	unknown                  nothing known about the end, nothing matched
//
// What is read, and what it costs, whatever the app writes: the first
// 256 KiB of each stream (headBytes) are read line by line as they pass,
// which is where a failed startup is whole; after that, each chunk is only
// copied into a 128 KiB window of the stream's last bytes and its newlines
// counted (for line numbers), and the window is read line by line at Close,
// which is where a late failure is. Evidence between the head and the
// tail is not read; the exit facts (a heap dump, the OOM-kill counter, an
// hs_err file) still speak for it. The memory held per run is at most
// about 300 KiB (Footprint): per stream either a partial line of at most
// 64 KiB (head) or the window and 1024 chunk marks (tail), and short
// strings for one candidate per rank; reading a window at Close copies it
// once more for that moment. A relay that keeps the run's output in memory
// anyway can hand the Extractor each stream's tail at Close (NewWithTail):
// then the Extractor keeps no window and, after the head, only counts
// newlines.
//
// The package reads bytes and files it is given. It must not start
// processes, read the state dir or the cgroup itself, log, or decide what
// holdfast does with a run: the supervisor gives it the facts and records
// the Cause.
package cause
