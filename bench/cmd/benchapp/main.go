// Command benchapp is the app that the benchmark runs under each init. One
// binary, one mode per measurement, so every init starts the same program:
//
//	benchapp true               exit 0 (the cost of starting a static Go binary)
//	benchapp ready              print "ready", then sleep until killed (idle RSS)
//	benchapp sigrecv FIFO       print "ready"; on each SIGUSR1/SIGTERM write
//	                            "<signal> <CLOCK_MONOTONIC ns>" to FIFO; exit 0 after SIGTERM
//	benchapp write BYTES CHUNK [STAMP]
//	                            write BYTES to stdout in CHUNK-sized writes (throughput);
//	                            STAMP gets the CLOCK_MONOTONIC ns of the first write
//	benchapp crash FILE         append "start <ns>" and "exit <ns>" to FILE, exit 1 (restarts)
//	benchapp stamp FIFO         write "start <CLOCK_MONOTONIC ns>" to FIFO, then sleep until killed
//	                            (start to app running, idle costs of a supervisor)
//	benchapp lines BYTES DIR [MARK]
//	                            write DIR/ready, wait for DIR/go, write BYTES to stdout as
//	                            128-byte log lines in 64 KiB writes (then the line MARK), then
//	                            DIR/done holds "<first write ns> <last write ns>" (output
//	                            capture of a supervisor; the kubelet log-path benchmark)
//	benchapp sigrecord N OUT    print "ready"; stamp each SIGUSR1 in memory, and after N of
//	                            them (or SIGTERM) write the stamps to OUT, one per line
//	benchapp zcrelay RING CMD...
//	                            run CMD, relay its stdout with tee(2)/splice(2) only, keeping
//	                            the last RING bytes in a tmpfs ring (the zero-copy relay row)
//	benchapp keeprelay KEEP FILE CMD...
//	                            run CMD, relay its stdout with read(2)/write(2), keeping the first
//	                            and last KEEP/2 bytes in memory and the first KEEP in FILE (the
//	                            floor of a relay that keeps the output)
//	benchapp bigpipes CMD...    grow stdin and stdout to 1 MiB when they are pipes of the default
//	                            64 KiB, as holdfast grows its own, then exec CMD (cat on such pipes)
//
// It must stay free of anything that differs between inits: it never reads
// its stdin and never looks at its parent.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

func main() {
	// The first thing main does: the restart benchmark wants the earliest
	// point the app can observe.
	startNs := mono.Now()
	if len(os.Args) < 2 {
		fail("usage: benchapp true|ready|sigrecv FIFO|write BYTES CHUNK|crash FILE|zcrelay RING CMD...|keeprelay KEEP FILE CMD...")
	}
	switch os.Args[1] {
	case "true":
		os.Exit(0)
	case "ready":
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "sigrecv":
		sigrecv(arg(2))
	case "write":
		stamp := ""
		if len(os.Args) > 4 {
			stamp = os.Args[4]
		}
		write(num(arg(2)), num(arg(3)), stamp)
	case "crash":
		crash(arg(2), startNs)
	case "stamp":
		stamp(arg(2))
	case "lines":
		lines(num(arg(2)), arg(3), optArg(4))
	case "sigrecord":
		sigrecord(int(num(arg(2))), arg(3))
	case "zcrelay":
		if len(os.Args) < 4 {
			fail("usage: benchapp zcrelay RING CMD [ARG...]")
		}
		zcrelay(num(arg(2)), os.Args[3:])
	case "keeprelay":
		if len(os.Args) < 5 {
			fail("usage: benchapp keeprelay KEEP FILE CMD [ARG...]")
		}
		keeprelay(num(arg(2)), arg(3), os.Args[4:])
	case "bigpipes":
		if len(os.Args) < 3 {
			fail("usage: benchapp bigpipes CMD [ARG...]")
		}
		bigpipes(os.Args[2:])
	default:
		fail("unknown mode " + os.Args[1])
	}
}

// sigrecv stamps each signal the moment the Go runtime hands it over. The
// runtime's own delivery path (handler, signal goroutine, channel) is in
// every sample alike; the bare row shows it.
func sigrecv(fifo string) {
	c := make(chan os.Signal, 16)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGTERM)
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		fail(fmt.Sprintf("cannot open fifo %s: %v", fifo, err))
	}
	fmt.Println("ready")
	buf := make([]byte, 0, 64)
	for s := range c {
		now := mono.Now()
		name := "USR1"
		if s == syscall.SIGTERM {
			name = "TERM"
		}
		buf = append(buf[:0], name...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, now, 10)
		buf = append(buf, '\n')
		if _, err := f.Write(buf); err != nil {
			fail(fmt.Sprintf("cannot write fifo %s: %v", fifo, err))
		}
		if s == syscall.SIGTERM {
			os.Exit(0)
		}
	}
}

// write stamps its start only after the buffer is ready, so the stamp marks
// the first byte leaving: the init's startup is not in the measured span.
func write(total, chunk int64, stamp string) {
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = 'a' + byte(i%26)
	}
	out := os.Stdout
	if stamp != "" {
		if err := os.WriteFile(stamp, strconv.AppendInt(nil, mono.Now(), 10), 0o644); err != nil {
			fail(fmt.Sprintf("cannot write %s: %v", stamp, err))
		}
	}
	for total > 0 {
		n := min(chunk, total)
		if _, err := out.Write(buf[:n]); err != nil {
			fail(fmt.Sprintf("cannot write stdout: %v", err))
		}
		total -= n
	}
}

func crash(path string, startNs int64) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(fmt.Sprintf("cannot open %s: %v", path, err))
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "start %d\n", startNs)
	w.Flush()
	// One write per line, each O_APPEND: lines of consecutive runs never mix.
	fmt.Fprintf(w, "exit %d\n", mono.Now())
	w.Flush()
	os.Exit(1)
}

// optArg is argument i, or "" when there is none.
func optArg(i int) string {
	if len(os.Args) <= i {
		return ""
	}
	return os.Args[i]
}

func arg(i int) string {
	if len(os.Args) <= i {
		fail("missing argument " + strconv.Itoa(i))
	}
	return os.Args[i]
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		fail("not a positive number: " + s)
	}
	return n
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "benchapp:", msg)
	os.Exit(3)
}
