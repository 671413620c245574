package memwatch

import (
	"os"
	"strconv"
)

// RSS reads the resident set size (VmRSS) of a process from
// /proc/<pid>/status.
func RSS(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseVmRSS(data)
}
