package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// zcrelay runs argv with its stdout on a pipe and relays that pipe to our
// stdout the cheapest way Linux offers to a relay that also keeps the
// output: tee(2) duplicates each chunk's pages into a private pipe, which
// a second thread splice(2)s to stdout, and splice(2) then moves the chunk
// into a ring file of ring bytes on tmpfs. No byte is copied through user
// space. It is the throughput table's answer to "would splice/tee reach
// bare speed?"; it keeps nothing in order across streams and serves no
// reader of the ring, so it is a bound, not a design.
func zcrelay(ring int64, argv []string) {
	appR, appW := bigPipe()
	midR, midW := bigPipe()
	f, err := os.CreateTemp("/dev/shm", "benchapp-ring-")
	if err != nil {
		fail(fmt.Sprintf("cannot create the ring: %v", err))
	}
	os.Remove(f.Name())
	if err := f.Truncate(ring); err != nil {
		fail(fmt.Sprintf("cannot size the ring: %v", err))
	}
	ringFd := int(f.Fd())

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = os.NewFile(uintptr(appW), "app-stdout")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fail(fmt.Sprintf("cannot start %q: %v", argv, err))
	}
	syscall.Close(appW)

	done := make(chan struct{})
	go func() { // the console side: private pipe -> stdout
		defer close(done)
		for {
			n, err := syscall.Splice(midR, nil, 1, nil, 1<<20, spliceMove)
			if err != nil {
				fail(fmt.Sprintf("splice to stdout: %v", err))
			}
			if n == 0 {
				return
			}
		}
	}()
	var off int64
	for {
		n, err := syscall.Tee(appR, midW, 1<<20, 0)
		if err != nil {
			fail(fmt.Sprintf("tee: %v", err))
		}
		if n == 0 {
			break
		}
		for left := n; left > 0; {
			k := min(left, ring-off)
			o := off
			m, err := syscall.Splice(appR, nil, ringFd, &o, int(k), spliceMove)
			if err != nil || m <= 0 {
				fail(fmt.Sprintf("splice to the ring: %d, %v", m, err))
			}
			off = (off + m) % ring
			left -= m
		}
	}
	syscall.Close(midW)
	<-done
	code := 0
	if err := cmd.Wait(); err != nil {
		code = 1
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Exited() {
			code = st.ExitStatus()
		}
	}
	os.Exit(code)
}

const (
	spliceMove = 1    // SPLICE_F_MOVE
	setPipeSz  = 1031 // F_SETPIPE_SZ
	getPipeSz  = 1032 // F_GETPIPE_SZ
)

// growPipe grows fd to 1 MiB when it is a pipe of the kernel's default
// 64 KiB, as holdfast does with its own stdout and stderr.
func growPipe(fd int) {
	if n, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), getPipeSz, 0); e == 0 && n == 64<<10 {
		syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), setPipeSz, 1<<20)
	}
}

// bigpipes grows stdin and stdout as growPipe does and then becomes argv:
// `cat` on the pipes holdfast would use.
func bigpipes(argv []string) {
	growPipe(0)
	growPipe(1)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fail(err.Error())
	}
	fail(fmt.Sprintf("exec %s: %v", path, syscall.Exec(path, argv, os.Environ())))
}

// bigPipe is a blocking pipe of 1 MiB, as holdfast makes for the app.
func bigPipe() (r, w int) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		fail(fmt.Sprintf("pipe: %v", err))
	}
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[0]), setPipeSz, 1<<20)
	return p[0], p[1]
}
