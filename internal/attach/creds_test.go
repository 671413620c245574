package attach

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A switched thread connects with the target's euid and egid (what the
// JVM reads with SO_PEERCRED), creates files as that user, and is gone
// once its goroutine returns; the process keeps its own credentials.
func TestSwitchThread(t *testing.T) {
	needRoot(t)
	dir := openTempDir(t)
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Like the JVM's: mode 0600, the user's own.
	if err := os.Chmod(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sock, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	peer := make(chan *unix.Ucred, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			peer <- nil
			return
		}
		defer c.Close()
		raw, _ := c.(*net.UnixConn).SyscallConn()
		var cred *unix.Ucred
		raw.Control(func(fd uintptr) {
			cred, _ = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		})
		peer <- cred
	}()

	type seen struct {
		tid      int
		status   string
		fileUID  uint32
		dialErr  error
		switchEr error
	}
	got := make(chan seen, 1)
	go onSpareThread(func() bool {
		var s seen
		s.tid = unix.Gettid()
		if _, s.switchEr = switchThread(identity{uid: nobody, gid: nobody}); s.switchEr != nil {
			got <- s
			return true
		}
		b, _ := os.ReadFile("/proc/thread-self/status")
		s.status = string(b)
		f := filepath.Join(dir, "made-by-thread")
		if err := os.WriteFile(f, nil, 0o600); err == nil {
			fi, _ := os.Stat(f)
			if ownedBy(fi, nobody) {
				s.fileUID = nobody
			}
		}
		var c net.Conn
		if c, s.dialErr = net.Dial("unix", sock); s.dialErr == nil {
			c.Close()
		}
		got <- s
		return true
	})
	s := <-got
	if s.switchEr != nil {
		t.Fatal(s.switchEr)
	}
	if !strings.Contains(s.status, fmt.Sprintf("Uid:\t0\t%d\t0\t%d", nobody, nobody)) {
		t.Errorf("switched thread's status:\n%s", s.status)
	}
	if s.fileUID != nobody {
		t.Errorf("a file the switched thread made is not nobody's")
	}
	if s.dialErr != nil {
		t.Fatal(s.dialErr)
	}
	cred := <-peer
	if cred == nil || cred.Uid != nobody || cred.Gid != nobody || int(cred.Pid) != os.Getpid() {
		t.Errorf("SO_PEERCRED %+v, want uid and gid %d, pid %d", cred, nobody, os.Getpid())
	}
	// The process is unchanged, and the thread has ended.
	if os.Geteuid() != 0 || os.Getegid() != 0 {
		t.Errorf("process euid %d egid %d", os.Geteuid(), os.Getegid())
	}
	waitFor(t, 10*time.Second, "the switched thread ends", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", s.tid))
		return err != nil
	})
	if bad := foreignThreads(); len(bad) > 0 {
		for _, p := range bad {
			b, _ := os.ReadFile(p)
			t.Logf("%s:\n%s", p, b)
		}
		t.Errorf("threads with other credentials: %v (switched: %d)", bad, s.tid)
	}
}

// Work never runs on the main thread, which the runtime would park instead
// of ending (the race detector's runtime hands it out readily).
func TestSpareThreadIsNotMain(t *testing.T) {
	for i := 0; i < 200; i++ {
		var tid int
		onSpareThread(func() bool { tid = unix.Gettid(); return false })
		if tid == os.Getpid() {
			t.Fatalf("run %d: work ran on the main thread", i)
		}
	}
}
