// Package capture relays the app's stdout and stderr and retains them.
//
// Each run gets two pipes, one per stream, so that holdfast's own stdout and
// stderr keep the app's streams apart (what `kubectl logs` and a container
// runtime expect). Per pipe, a reading goroutine reads each chunk once,
// straight into the run's retained log, and hands that same memory to a
// writing goroutine that passes it, byte for byte, to the Console, which
// owns holdfast's stdout and stderr:
//
//   - The retained log keeps the first half of the run's cap (the head,
//     where a startup failure's first stack trace is) and the last half (the
//     tail), with one marker line for what was dropped between. It is kept
//     in memory for `holdfast logs`, in the order holdfast read the chunks.
//   - A Budget shared by all runs bounds that memory (--retain-memory): once
//     a run has ended and its output.log is complete, it gives up its memory
//     copy (oldest first) and Output reads the file; a run with no file gets
//     caps that fit the budget and is dropped, oldest first, to make room
//     for newer runs. The run in progress with a file keeps up to its cap
//     until it ends: output.log's tail is written from memory then.
//   - A slow console delays no retention: the reader runs a few chunks
//     ahead of the writer, and only then waits, so the app feels a stalled
//     console as it would a bare pipe. A console whose reader is gone
//     (EPIPE) is logged once and the app's pipe is still drained.
//   - A run's Finish waits only so long. When it stops waiting, the readers
//     take what is left in the pipes without waiting for the console (the
//     app has exited, so that is the end of its output), and output.log has
//     it all. Console.Drain, called once before holdfast exits, waits until
//     every run's output has reached EOF and the console, so a slow log
//     reader at exit loses nothing.
//   - output.log in the run directory is written from the retained log by a
//     goroutine of its own, so a full or slow disk cannot slow the app:
//     retention to the file degrades (logged once) and nothing else changes.
//     While the run is under its cap the file grows live; past the cap it
//     holds the first cap bytes until Finish rewrites it as head, marker and
//     tail, equal to Run.Bytes.
//
// The Console also carries holdfast's own log lines to stderr. A log line
// never lands inside an app line: when the app's last stderr chunk ended
// mid-line, the line waits for the app's newline, or at most a short
// deadline after which it is written after a line break of its own. The
// app's bytes are never changed. Log lines are queued, never blocking the
// caller; Console.Flush writes them out before holdfast exits.
//
// When holdfast's stdout or stderr is a terminal (docker run -it), that
// stream gets no pipe: the app is handed the terminal itself, as under tini,
// so it sees a terminal there (isatty, the window size, colours, line
// buffering). Such a stream is neither relayed nor kept; the run's retained
// log, and so output.log, starts with a note naming it, and the console
// logs the hand-over once. A pty of holdfast's own with a relay would keep
// the stream but would make a second terminal whose size, modes and
// foreground group must be kept in step with the real one.
//
// Writing to a closed fd 1 or 2 raises SIGPIPE, which kills a Go program
// unless it is notified (os/signal); launcher.RouteSignals does that.
//
// Each chunk also goes to the run's cause extractor (package cause), in
// the order of the retained log and under its lock, so that the
// extractor's line numbers are output.log's. The extractor reads each
// stream's head as it passes; it keeps no tail of its own when the
// retained log's tail is at least as long as the one it reads
// (cause.TailBytes): Finish hands it each stream's last bytes from the
// retained log (cause.NewWithTail) before the budget may release them.
// Run.Cause then gives the run's cause with the exit facts, its line
// mapped past holdfast's note and the omitted middle to output.log's.
//
// This package does not start or wait for processes (that is the launcher's
// Reaper) and does not decide what to keep across runs (that is crashhold's
// run records). It never reads the app's output for meaning itself: that
// is package cause's.
package capture
