package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/internal/attach"
	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/internal/dumps"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// cmdJcmd is `holdfast jcmd [--pid N] [--timeout D] COMMAND [ARG...]`: one
// diagnostic command to a JVM through the attach mechanism, from this
// process (as root it attaches with the JVM's uid and gid; as the JVM's
// user it just connects). Without --pid the target is the app's JVM, whose
// pid the running holdfast gives. Its flags come before COMMAND; every word
// from COMMAND on is the JVM's (`holdfast jcmd GC.class_histogram -all`).
// The output is what the JDK's jcmd prints: the pid, then the command's.
func cmdJcmd(lead, args []string) int {
	fs := flag.NewFlagSet("holdfast jcmd", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: holdfast jcmd [--pid N] [--timeout D] COMMAND [ARG...] (holdfast jcmd help lists the JVM's commands)")
		fs.PrintDefaults()
	}
	stateDir, err := config.ClientStateDir(lead, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdfast jcmd: %v\n", err)
		return cliUsage
	}
	fs.StringVar(&stateDir, "state-dir", stateDir, "holdfast's state dir (env HOLDFAST_STATE_DIR), to find the app's JVM")
	pid := fs.Int("pid", 0, "the JVM's pid (default: the app's JVM, from the running holdfast)")
	timeout := fs.Duration("timeout", attach.DefaultTimeout, "bound of the whole attach; a heap dump of a large heap wants more")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cliOK
		}
		return cliUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "holdfast jcmd: want a COMMAND, e.g. `holdfast jcmd Thread.print` (`holdfast jcmd help` lists them)")
		return cliUsage
	}
	if *pid < 0 || *timeout <= 0 {
		fmt.Fprintln(os.Stderr, "holdfast jcmd: --pid takes a pid > 0 and --timeout a duration > 0")
		return cliUsage
	}
	line := strings.Join(fs.Args(), " ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *pid == 0 {
		if stateDir, err = config.StateDir(stateDir); err != nil {
			fmt.Fprintf(os.Stderr, "holdfast jcmd: %v\n", err)
			return cliUsage
		}
		if *pid, err = appJVM(ctx, control.NewClient(stateDir)); err != nil {
			fmt.Fprintf(os.Stderr, "holdfast jcmd: %v\n", err)
			return cliFail
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := jcmd(ctx, *pid, line, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "holdfast jcmd: %v\n", err)
		return cliFail
	}
	return cliOK
}

// appJVM asks the running holdfast for the app's pid and finds its JVM.
func appJVM(ctx context.Context, c *control.Client) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var snap state.Snapshot
	if err := c.Status(ctx, &snap); err != nil {
		return 0, err
	}
	if snap.PID == 0 {
		return 0, fmt.Errorf("no app process is running (phase %s); give --pid to name a JVM", snap.Phase)
	}
	return dumps.FindJVM(snap.PID), nil
}

// jcmd runs line on the JVM pid and writes what the JDK's jcmd would: the
// pid, then the command's output as it arrives. The pid line waits for
// the attach to answer, so a failure is only its one line on stderr.
func jcmd(ctx context.Context, pid int, line string, w io.Writer) error {
	hw := &headedWriter{w: w, head: fmt.Sprintf("%d:\n", pid)}
	if err := attach.Run(ctx, pid, attach.Jcmd(line), hw); err != nil {
		return err
	}
	_, err := hw.Write(nil) // a command without output still gets its pid line
	return err
}

// headedWriter writes head before the first write.
type headedWriter struct {
	w       io.Writer
	head    string
	started bool
}

func (h *headedWriter) Write(b []byte) (int, error) {
	if !h.started {
		h.started = true
		if _, err := io.WriteString(h.w, h.head); err != nil {
			return 0, err
		}
	}
	return h.w.Write(b)
}

// cmdDump asks the running holdfast for a dump of the app's JVM into the
// current run's dir and prints the file's path (or, for a JFR recording
// just started, what happened).
func cmdDump(c *control.Client, kind string) error {
	k, err := dumps.ParseKind(kind)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), control.DumpTimeout+time.Minute)
	defer cancel()
	res, err := c.Dump(ctx, k)
	if err != nil {
		return err
	}
	if res.Path == "" {
		fmt.Println("holdfast: " + res.Note)
		return nil
	}
	fmt.Println(res.Path)
	return nil
}
