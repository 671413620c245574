package dumps

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// maxSearch bounds the processes FindJVM looks at.
const maxSearch = 256

// FindJVM returns the JVM of an app whose process is pid: pid itself when
// it is one (or may be: its name is "java", or nothing else is), else its
// first descendant named "java", found breadth first (a wrapper script
// that starts java as its child). It reads only /proc/<pid>/comm and the
// children lists, which every user may, so it works for root without
// CAP_SYS_PTRACE as well; whether the process really is a HotSpot JVM is
// the attach's to check.
func FindJVM(pid int) int {
	if comm(pid) == "java" {
		return pid
	}
	queue := children(pid)
	for seen := 0; len(queue) > 0 && seen < maxSearch; seen++ {
		p := queue[0]
		queue = queue[1:]
		if comm(p) == "java" {
			return p
		}
		queue = append(queue, children(p)...)
	}
	return pid
}

func comm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// children lists pid's children from /proc/<pid>/task/<tid>/children.
func children(pid int) []int {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
