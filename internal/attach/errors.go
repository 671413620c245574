package attach

import (
	"errors"
	"fmt"
)

// The kinds of failure. Every error this package returns is an *Error whose
// Unwrap gives one of these, so callers test with errors.Is.
var (
	ErrNoProcess  = errors.New("no such process")
	ErrNotJVM     = errors.New("not a JVM")
	ErrNotHotSpot = errors.New("not a HotSpot JVM")
	ErrDisabled   = errors.New("attach is disabled in this JVM")
	ErrPermission = errors.New("permission denied")
	ErrTimeout    = errors.New("timed out")
	ErrRefused    = errors.New("the JVM refused the connection")
	ErrProtocol   = errors.New("protocol error")
	ErrBadRequest = errors.New("bad request")
	ErrCommand    = errors.New("the command failed")
	ErrOutput     = errors.New("writing the output failed")
)

// Error is one failed attach: which pid, what kind of failure, and a detail
// that says why in the caller's terms. Error() is one line.
type Error struct {
	PID    int
	Kind   error  // one of the Err* values above
	Detail string // what was seen, e.g. "no libjvm.so mapped"
	Err    error  // the underlying system error, if any
}

func (e *Error) Error() string {
	s := fmt.Sprintf("attach to pid %d: %v", e.PID, e.Kind)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newError(pid int, kind error, err error, format string, args ...any) *Error {
	return &Error{PID: pid, Kind: kind, Detail: fmt.Sprintf(format, args...), Err: err}
}

// CommandError is the JVM's answer to a request it could not carry out: the
// status it sent and its message (e.g. a Java exception for an unknown
// diagnostic command). It unwraps to ErrCommand.
type CommandError struct {
	PID     int
	Status  int
	Message string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("attach to pid %d: %v (status %d): %s", e.PID, ErrCommand, e.Status, firstLine(e.Message))
}

func (e *CommandError) Unwrap() error { return ErrCommand }

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
