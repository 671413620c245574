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
	"path/filepath"
	"runtime"

	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/tarcp"
	"github.com/holdfast-dev/holdfast/internal/version"
	"github.com/holdfast-dev/holdfast/shellsrv"
)

// init keeps the main goroutine on the thread-group leader, the thread
// the kernel offers a signal sent to the process first: in entrypoint mode
// it waits there for the signals to forward (superviseOnLeader). Every
// other mode lets go of it at once.
func init() { runtime.LockOSThread() }

func main() {
	// The ssh server's sftp helper is this binary under another argv[0].
	if shellsrv.IsHelper(os.Args) || isTar(os.Args) {
		runtime.UnlockOSThread()
	}
	if code, ok := shellsrv.HelperMain(os.Args); ok {
		os.Exit(code)
	}
	if isTar(os.Args) {
		os.Exit(tarcp.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:]))
}

// isTar reports whether holdfast was invoked as tar (argv[0]'s base name,
// the symlink /usr/local/bin/tar -> holdfast): then it is the tar that
// kubectl cp runs in the container, and takes no holdfast flags.
func isTar(argv []string) bool { return len(argv) > 0 && filepath.Base(argv[0]) == "tar" }

// run dispatches to a subcommand or to entrypoint mode. Global flags may
// come before a subcommand (`holdfast --state-dir=X status`). Without "--",
// the first word after the flags is a subcommand when it names one, "help"
// prints the help, and a word that is neither a subcommand nor a command
// (no "/" and not found on PATH) is a usage error with a suggestion; it
// never starts an app. After "--" every word is the app's.
func run(args []string) int {
	lead, rest, dashdash, err := config.Split(args)
	if err != nil || dashdash || len(rest) == 0 {
		return entrypoint(args) // reports a bad flag, -h, or runs the app
	}
	word := rest[0]
	if word != "help" && word != "version" && !isSubcommand(word) && !notACommand(word) {
		return entrypoint(args)
	}
	runtime.UnlockOSThread() // a subcommand: see init
	switch {
	case word == "help":
		fmt.Print(config.Usage())
		return cliOK
	case word == "version":
		if _, err := config.ClientStateDir(lead, os.LookupEnv); err != nil {
			fmt.Fprintf(os.Stderr, "holdfast version: %v\n", err)
			return cliUsage
		}
		fmt.Println(version.Info())
		return cliOK
	case isSubcommand(word):
		return subcommand(word, lead, rest[1:])
	}
	fmt.Fprintln(os.Stderr, unknownWord(word)) // notACommand(word)
	return cliUsage
}
