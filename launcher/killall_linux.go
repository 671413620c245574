package launcher

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SignalAllOthers sends sig to every process holdfast is responsible for
// besides itself. As PID 1 that is the whole pid namespace: kill(-1, sig)
// reaches every process but the caller and init (kill(2)). As a subreaper
// it is the children it has now (orphans reparent to it); their own
// descendants are reached as they in turn are orphaned.
//
// The children are listed and signalled under the reaper's lock, so none
// of them can be reaped in between: a listed pid is still our child (alive
// or a zombie), never a number the kernel has handed to an unrelated
// process since. Outside a pid namespace of its own that unrelated process
// could be anything on the host, or in another container of the pod.
// It returns how many were signalled (-1 when unknown, as with kill(-1)).
func (r *Reaper) SignalAllOthers(sig syscall.Signal) int {
	if os.Getpid() == 1 {
		_ = unix.Kill(-1, sig)
		return -1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, pid := range childPids() {
		if unix.Kill(pid, sig) == nil {
			n++
		}
	}
	return n
}

// HasChildren reports whether holdfast has any child left, exited or not.
// waitid(2) with WNOWAIT looks without reaping; ECHILD means none.
func HasChildren() bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	return err != unix.ECHILD
}

// childPids lists holdfast's children from /proc/self/task/*/children
// (proc(5), present since Linux 3.5).
func childPids() []int {
	tasks, _ := os.ReadDir("/proc/self/task")
	var pids []int
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
