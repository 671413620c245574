package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// keeprelay runs argv with its stdout on a 1 MiB pipe (its own stdout, a
// pipe, grown to 1 MiB as holdfast grows it) and relays it the
// plainest way a relay that keeps the output can: one thread, blocking
// read(2)s of 128 KiB into one buffer, each chunk written to our stdout,
// copied into an in-memory head (the first keep/2 bytes) and tail ring (the
// last keep/2), and the first keep bytes also written to file, as
// holdfast's output.log is while a run is under its cap. No locks, no
// second thread, no reader of what it keeps: the floor of the stdout
// table's CPU per GiB for holdfast's job, not a design.
func keeprelay(keep int64, file string, argv []string) {
	appR, appW := bigPipe()
	growPipe(1) // as holdfast grows its stdout
	f, err := os.Create(file)
	if err != nil {
		fail(fmt.Sprintf("cannot create %s: %v", file, err))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = os.NewFile(uintptr(appW), "app-stdout")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fail(fmt.Sprintf("cannot start %q: %v", argv, err))
	}
	syscall.Close(appW)

	head := make([]byte, 0, keep/2)
	ring := make([]byte, keep-keep/2)
	var total, filed int64
	buf := make([]byte, 128<<10)
	for {
		n, err := syscall.Read(appR, buf)
		if n <= 0 {
			if err == syscall.EINTR {
				continue
			}
			break
		}
		p := buf[:n]
		writeAll(1, p)
		if filed < keep {
			k := min(int64(n), keep-filed)
			writeAll(int(f.Fd()), p[:k])
			filed += k
		}
		if room := cap(head) - len(head); room > 0 {
			k := min(room, n)
			head = append(head, p[:k]...)
			p = p[k:]
		}
		for len(p) > 0 {
			at := int(total % int64(len(ring)))
			k := copy(ring[at:], p)
			p = p[k:]
			total += int64(k)
		}
	}
	if err := cmd.Wait(); err != nil {
		fail(fmt.Sprintf("%q: %v", argv, err))
	}
	f.Close()
}

func writeAll(fd int, p []byte) {
	for len(p) > 0 {
		n, err := syscall.Write(fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fail(fmt.Sprintf("write: %v", err))
		}
		p = p[n:]
	}
}
