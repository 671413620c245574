// Command orphans makes N orphans for its PID 1 and reports how long PID 1
// takes to reap them:
//
//	orphans N
//
// For each of N it forks a child that forks a grandchild and exits at once;
// the helper reaps the child, so the grandchild is reparented to PID 1. Every
// grandchild blocks on a pipe until all N exist, then the helper closes the
// pipe and all N exit together. From that moment the helper polls
// /proc/1/task/*/children (zombies stay listed until reaped) until it is the
// only child left. It prints one line:
//
//	spawn_ns=S drain_ns=D total_ns=T
//
// drain is release -> no orphan left (the init's reaping throughput); total
// also includes spawning, which is the same work under every init.
//
// The forks are raw clone(2) calls from a single-threaded copy of the
// helper (see factory), not os/exec: a fork+exec of a Go binary per orphan
// would make spawning far slower than the reaping it measures.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/holdfast-dev/holdfast/bench/internal/mono"
)

// Globals, so that the forked code allocates nothing: a grandchild's
// one-byte read and the factory's wait status land here.
var (
	leafBuf    [1]byte
	factoryWst int32
)

// factoryBatch is how many children the factory forks before it reaps them.
const factoryBatch = 64

// Exit codes of the factory, each naming the call that failed.
const (
	exitForkChild = 10 + iota
	exitForkGrandchild
	exitWaitChild
)

// factory runs in a forked copy of this process and forks the n orphans.
// The copy has one thread: forking from the multi-threaded Go process makes
// every copy-on-write fault flush the TLB on each CPU the runtime's threads
// ran on (measured: ~5 ms of CPU per orphan on a PVM guest), which would
// time the helper, not the init. In the copy and its children only raw
// system calls are allowed: the Go runtime is not there (no scheduler, no
// allocation, no stack growth: nosplit; signals are blocked by the caller),
// the discipline of syscall.forkAndExecInChild.
//
//go:nosplit
func factory(n, rfd, wfd int) {
	live := 0
	for i := 0; i < n; i++ {
		pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		if e != 0 {
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, exitForkChild, 0, 0)
		}
		if pid == 0 {
			// The child: fork the grandchild, then exit so that it is orphaned.
			gpid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
			if e != 0 {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, exitForkGrandchild, 0, 0)
			}
			if gpid == 0 {
				// The grandchild holds only the read end, so the helper's close is EOF.
				syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(wfd), 0, 0)
				syscall.RawSyscall(syscall.SYS_READ, uintptr(rfd), uintptr(unsafe.Pointer(&leafBuf[0])), 1)
			}
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		// Reap the children in batches: one wait per fork would make every
		// fork wait for a trip through a busy run queue.
		live++
		if live < factoryBatch && i < n-1 {
			continue
		}
		for ; live > 0; live-- {
			_, _, e = syscall.RawSyscall6(syscall.SYS_WAIT4, ^uintptr(0) /* -1: any child */, uintptr(unsafe.Pointer(&factoryWst)), 0, 0, 0, 0)
			if e != 0 {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, exitWaitChild, 0, 0)
			}
		}
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
}

// startFactory forks the factory; it returns the factory's pid in the parent
// and never returns in the copy.
//
//go:nosplit
func startFactory(n, rfd, wfd int) (int, syscall.Errno) {
	pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || pid != 0 {
		return int(pid), e
	}
	factory(n, rfd, wfd)
	return 0, 0
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: orphans N")
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n <= 0 {
		fail("not a positive count: " + os.Args[1])
	}
	if os.Getpid() == 1 {
		fail("run me under an init: as PID 1 the orphans would be my own")
	}
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		fail(fmt.Sprintf("cannot create pipe: %v", err))
	}

	// One factory per CPU (at most 4): spawning is the same work under
	// every init, so it may as well use the whole machine.
	k := min(runtime.NumCPU(), 4, n)
	t0 := mono.Now()
	runtime.LockOSThread()
	// Block every signal on this thread across the forks, as
	// runtime_BeforeFork does: a Go signal handler must never run in a copy.
	all := ^uint64(0)
	var old uint64
	sigmask(&all, &old)
	var pids []int
	for i := range k {
		share := n / k
		if i == 0 {
			share += n % k
		}
		pid, e := startFactory(share, p[0], p[1])
		if e != 0 {
			sigmask(&old, nil)
			fail(fmt.Sprintf("cannot fork a factory: %v", e))
		}
		pids = append(pids, pid)
	}
	sigmask(&old, nil)
	runtime.UnlockOSThread()
	for _, pid := range pids {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			fail(fmt.Sprintf("cannot wait for the factory %d: %v", pid, err))
		}
		if !ws.Exited() || ws.ExitStatus() != 0 {
			fail(fmt.Sprintf("factory failed: %v (10 fork child, 11 fork grandchild, 12 wait child)", ws))
		}
	}

	spawned := mono.Now()
	syscall.Close(p[1]) // every grandchild reads EOF and exits
	syscall.Close(p[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		left, err := initChildren()
		if err != nil {
			fail(err.Error())
		}
		if left <= 1 { // only this helper
			break
		}
		if time.Now().After(deadline) {
			fail(fmt.Sprintf("%d orphans still unreaped after 60s", left-1))
		}
		time.Sleep(500 * time.Microsecond)
	}
	done := mono.Now()
	fmt.Printf("spawn_ns=%d drain_ns=%d total_ns=%d\n", spawned-t0, done-spawned, done-t0)
}

func sigmask(set, old *uint64) {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		fail(fmt.Sprintf("cannot set signal mask: %v", e))
	}
}

// initChildren counts PID 1's children, zombies included, over all its
// threads (an orphan is reparented to one of the reaper's threads).
func initChildren() (int, error) {
	tasks, err := os.ReadDir("/proc/1/task")
	if err != nil {
		return 0, fmt.Errorf("cannot list /proc/1/task: %w", err)
	}
	count := 0
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/1/task/" + t.Name() + "/children")
		if err != nil {
			continue // the thread exited
		}
		count += len(strings.Fields(string(b)))
	}
	return count, nil
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "orphans:", msg)
	os.Exit(3)
}
