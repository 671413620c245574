package tarcp

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// Usage is the line printed for an invocation kubectl cp does not use.
const Usage = "holdfast's tar supports only what kubectl cp uses: " +
	"tar cf - PATH; tar -xmf - [-C DIR]; tar --no-same-permissions --no-same-owner -xmf - [-C DIR]"

// Main runs one tar invocation; argv[0] is the program's name. It returns
// the exit status: 0, 2 for a bad invocation or when a member or file was
// refused or failed (as GNU tar's "Exiting with failure status").
func Main(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args := argv
	if len(args) > 0 {
		args = args[1:]
	}
	if path, ok := parseCreate(args); ok {
		return create(path, stdout, stderr)
	}
	if x, ok := parseExtract(args); ok {
		return extract(x, stdin, stderr)
	}
	fmt.Fprintln(stderr, "tar: "+Usage)
	return 2
}

// parseCreate accepts exactly: cf - PATH.
func parseCreate(args []string) (string, bool) {
	if len(args) == 3 && args[0] == "cf" && args[1] == "-" && args[2] != "" {
		return args[2], true
	}
	return "", false
}

// extraction is a parsed extract invocation.
type extraction struct {
	dir        string
	noSamePerm bool
	noSameOwn  bool
}

// parseExtract accepts exactly kubectl's two forms, each with or without
// -C DIR at the end.
func parseExtract(args []string) (extraction, bool) {
	var x extraction
	if len(args) >= 2 && args[0] == "--no-same-permissions" && args[1] == "--no-same-owner" {
		x.noSamePerm, x.noSameOwn = true, true
		args = args[2:]
	}
	if len(args) < 2 || !slices.Equal(args[:2], []string{"-xmf", "-"}) {
		return x, false
	}
	switch rest := args[2:]; {
	case len(rest) == 0:
		x.dir = "."
	case len(rest) == 2 && rest[0] == "-C" && rest[1] != "":
		x.dir = rest[1]
	default:
		return x, false
	}
	return x, true
}

// failures collects the messages of one run and decides the exit status.
type failures struct {
	w      io.Writer
	failed bool
}

func (f *failures) fail(format string, a ...any) {
	fmt.Fprintf(f.w, "tar: "+format+"\n", a...)
	f.failed = true
}

func (f *failures) note(format string, a ...any) {
	fmt.Fprintf(f.w, "tar: "+format+"\n", a...)
}

func (f *failures) status() int {
	if f.failed {
		fmt.Fprintln(f.w, "tar: Exiting with failure status due to previous errors")
		return 2
	}
	return 0
}

var euid = os.Geteuid
