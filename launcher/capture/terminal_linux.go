package capture

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal: isatty(3), which is
// tcgetattr(3) succeeding.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	tty := false
	_ = rc.Control(func(fd uintptr) {
		_, terr := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		tty = terr == nil
	})
	return tty
}

// terminalNote is the line a run's retained log starts with when streams
// went straight to holdfast's terminal: it says what the log lacks.
func terminalNote(direct []Stream) []byte {
	names := make([]string, len(direct))
	for i, s := range direct {
		names[i] = s.String()
	}
	verb := "is"
	if len(direct) > 1 {
		verb = "are"
	}
	return []byte("[holdfast: the app's " + strings.Join(names, " and ") +
		" went straight to holdfast's terminal and " + verb + " not kept]\n")
}
