// Command holdfast is a container entrypoint: a correct PID 1 that
// supervises one app and, when the app keeps crashing at startup, holds the
// container for diagnosis instead of letting it crash-loop.
//
// This is the only package that knows every part: it parses flags, wires
// the launcher, the supervisor, the probe, control and ssh servers, and
// turns the result into an exit code.
package main

import (
	"fmt"
	"os"

	"github.com/holdfast-dev/holdfast/internal/version"
	"github.com/holdfast-dev/holdfast/shellsrv"
)

func main() {
	// The ssh server's sftp helper is this binary under another argv[0].
	if code, ok := shellsrv.HelperMain(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:]))
}

// run dispatches to a subcommand or to entrypoint mode. A command named
// like a subcommand can still be run as the app after "--".
func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "version":
			fmt.Println(version.Info())
			return 0
		case "status", "runs", "logs", "restart", "release", "stop", "hold", "probe":
			return subcommand(args[0], args[1:])
		}
	}
	return entrypoint(args)
}
