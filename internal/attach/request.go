package attach

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of HotSpot's listener (AttachOperation): a request that exceeds
// them is dropped without an answer, so they are checked before sending.
const (
	protocolVersion = "1"
	maxNameLen      = 16
	maxArgLen       = 1024
	maxArgs         = 3
	// statusBadVersion is the status a listener answers a protocol
	// version it does not speak with.
	statusBadVersion = 101
	// maxStatusLine bounds the status line read before the output.
	maxStatusLine = 32
)

// Request is one attach operation: a command the listener knows and up to
// three arguments.
type Request struct {
	Command string
	Args    []string
}

// Jcmd is a diagnostic command as jcmd sends it: the whole command line
// ("Thread.print -l", "GC.heap_dump /tmp/x.hprof") as one argument.
func Jcmd(line string) Request { return Request{Command: "jcmd", Args: []string{line}} }

func (r Request) check() error {
	if r.Command == "" || len(r.Command) > maxNameLen {
		return fmt.Errorf("command name %q must be 1 to %d bytes", r.Command, maxNameLen)
	}
	if len(r.Args) > maxArgs {
		return fmt.Errorf("%d arguments, at most %d", len(r.Args), maxArgs)
	}
	for _, s := range append([]string{r.Command}, r.Args...) {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%q contains a NUL byte", s)
		}
	}
	for _, a := range r.Args {
		if len(a) > maxArgLen {
			return fmt.Errorf("argument of %d bytes, at most %d", len(a), maxArgLen)
		}
	}
	return nil
}

// encode gives the request's bytes: the version, the command and exactly
// three arguments, each terminated by a NUL.
func (r Request) encode() []byte {
	var b bytes.Buffer
	b.WriteString(protocolVersion)
	b.WriteByte(0)
	b.WriteString(r.Command)
	b.WriteByte(0)
	for i := 0; i < maxArgs; i++ {
		if i < len(r.Args) {
			b.WriteString(r.Args[i])
		}
		b.WriteByte(0)
	}
	return b.Bytes()
}

// errNoStatus is an answer that ended before its status line: the listener
// closes a connection whose peer credentials it does not accept this way.
var errNoStatus = errors.New("connection closed before the status line")

// readStatus reads the decimal status line that starts every answer.
func readStatus(r *bufio.Reader) (int, error) {
	var line []byte
	for {
		c, err := r.ReadByte()
		if err == io.EOF && len(line) == 0 {
			return 0, errNoStatus
		}
		if err != nil {
			return 0, err
		}
		if c == '\n' {
			break
		}
		line = append(line, c)
		if len(line) > maxStatusLine {
			return 0, fmt.Errorf("status line longer than %d bytes: %q", maxStatusLine, line)
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(line)))
	if err != nil {
		return 0, fmt.Errorf("status line %q is not a number", line)
	}
	return n, nil
}
