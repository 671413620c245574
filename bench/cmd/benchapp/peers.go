package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

// stamp tells the benchmark the instant main ran, then idles: the start of
// an app under a supervisor, and the app its idle costs are read beside.
func stamp(fifo string) {
	now := mono.Now()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		fail(fmt.Sprintf("cannot open fifo %s: %v", fifo, err))
	}
	if _, err := f.Write(strconv.AppendInt([]byte("start "), now, 10)); err != nil {
		fail(fmt.Sprintf("cannot write fifo %s: %v", fifo, err))
	}
	f.Write([]byte("\n"))
	for {
		time.Sleep(time.Hour)
	}
}

// lines writes log lines (127 bytes and a newline, 512 to a write), as a
// service logs, once the benchmark has read the supervisor's CPU time and
// said go. Each supervisor splits or stamps output by line, so the app must
// write lines for all of them to do their ordinary work.
func lines(total int64, dir, mark string) {
	const line, chunk = 128, 64 << 10
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = 'a' + byte(i%26)
		if i%line == line-1 {
			buf[i] = '\n'
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644); err != nil {
		fail(fmt.Sprintf("cannot write %s/ready: %v", dir, err))
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	first := mono.Now()
	for left := total; left > 0; {
		n := min(chunk, left)
		if _, err := os.Stdout.Write(buf[:n]); err != nil {
			fail(fmt.Sprintf("cannot write stdout: %v", err))
		}
		left -= n
	}
	if mark != "" {
		if _, err := os.Stdout.WriteString(mark + "\n"); err != nil {
			fail(fmt.Sprintf("cannot write stdout: %v", err))
		}
	}
	last := mono.Now()
	done := fmt.Sprintf("%d %d\n", first, last)
	if err := os.WriteFile(filepath.Join(dir, "done.tmp"), []byte(done), 0o644); err != nil {
		fail(fmt.Sprintf("cannot write %s/done: %v", dir, err))
	}
	os.Rename(filepath.Join(dir, "done.tmp"), filepath.Join(dir, "done"))
	for {
		time.Sleep(time.Hour)
	}
}

// sigrecord stamps each SIGUSR1 as the Go runtime hands it over and keeps
// the stamps in memory: nothing but the stamp happens per signal, so the
// app adds no write of its own between two signals.
func sigrecord(n int, out string) {
	c := make(chan os.Signal, 4096)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGTERM)
	stamps := make([]int64, 0, n)
	fmt.Println("ready")
	for s := range c {
		if s == syscall.SIGTERM {
			break
		}
		stamps = append(stamps, mono.Now())
		if len(stamps) == n {
			break
		}
	}
	buf := make([]byte, 0, 20*len(stamps))
	for _, t := range stamps {
		buf = strconv.AppendInt(buf, t, 10)
		buf = append(buf, '\n')
	}
	if err := os.WriteFile(out, buf, 0o644); err != nil {
		fail(fmt.Sprintf("cannot write %s: %v", out, err))
	}
	os.Exit(0)
}
