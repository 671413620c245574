package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/subcmd"
	"github.com/holdfast-dev/holdfast/runrec"
	"golang.org/x/sys/unix"
)

// Exit codes of the subcommands: 0 success (for probe: healthy), 1 failure
// or no holdfast running (docs/contract.md "Exit codes"), 2 bad usage.
const (
	cliOK    = 0
	cliFail  = 1
	cliUsage = 2
)

// opts are a subcommand's parsed flags and positional words.
type opts struct {
	asJSON    bool
	follow    bool
	why       bool
	run, tail int
	args      []string
	stateDir  string // where runs, logs and bundle read when no holdfast answers
	// bundle's
	all, withHeap bool
	out           string
}

// handler is how cmd/holdfast carries out a client row of subcmd.All that
// is not an action (actions all go through cmdAction): the flags it adds
// beyond --state-dir, and either run (exit 0, or 1 with its error) or code
// (its own exit code); or raw, which takes the words after the
// subcommand's name as they are (jcmd: the JVM's command line is not
// holdfast's to parse).
type handler struct {
	flags func(*flag.FlagSet, *opts)
	run   func(*control.Client, opts) error
	code  func(*control.Client, opts) int
	raw   func(lead, args []string) int
}

func jsonFlag(fs *flag.FlagSet, o *opts) { fs.BoolVar(&o.asJSON, "json", false, "print JSON") }

var handlers = map[string]handler{
	"status": {flags: jsonFlag, run: func(c *control.Client, o opts) error { return cmdStatus(c, os.Stdout, o.asJSON) }},
	"runs": {flags: jsonFlag, run: func(c *control.Client, o opts) error {
		err := cmdRuns(c, os.Stdout, o.asJSON)
		if err != nil {
			_, err = offlineOr(err, o.stateDir, offlineRuns(os.Stdout, o.asJSON))
		}
		return err
	}},
	"logs": {
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.follow, "f", false, "follow the output")
			fs.BoolVar(&o.follow, "follow", false, "follow the output")
			fs.IntVar(&o.run, "run", 0, "run number (default: the current or last run)")
			fs.IntVar(&o.tail, "tail", 0, "only the last N lines")
			fs.BoolVar(&o.why, "why", false, "the lines around the cause, with their line numbers (the newest run with a cause, or --run N)")
		},
		run: func(c *control.Client, o opts) error {
			if o.why {
				return cmdWhy(c, os.Stdout, o.run)
			}
			err := cmdLogs(c, o.run, o.tail, o.follow)
			if err != nil {
				_, err = offlineOr(err, o.stateDir, offlineLogs(os.Stdout, o.run, o.tail))
			}
			return err
		},
	},
	"bundle": {flags: bundleFlags, run: cmdBundle},
	"probe":  {code: func(c *control.Client, o opts) int { return cmdProbe(c, o.args[0]) }},
	"jcmd":   {raw: cmdJcmd},
	"dump":   {run: func(c *control.Client, o opts) error { return cmdDump(c, o.args[0]) }},
}

// wantArgs is the usage hint for a subcommand that takes one of args:
// "`holdfast probe live` or `holdfast probe ready`".
func wantArgs(name string, args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "`holdfast %s %s`", name, a)
	}
	return b.String()
}

// subcommand runs one of holdfast's client commands against the running
// holdfast's control socket. lead are the global flags given before the
// subcommand's name; only --state-dir is one.
func subcommand(name string, lead, args []string) int {
	if h := handlers[name]; h.raw != nil {
		return h.raw(lead, args)
	}
	fs := flag.NewFlagSet("holdfast "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	stateDir, err := config.ClientStateDir(lead, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdfast %s: %v\n", name, err)
		return cliUsage
	}
	fs.StringVar(&stateDir, "state-dir", stateDir, "holdfast's state dir (env HOLDFAST_STATE_DIR); also accepted before the subcommand")
	cmd, _ := subcmd.Lookup(name)
	h := handlers[name]
	var o opts
	if h.flags != nil {
		h.flags(fs, &o)
	}
	// Flags may come before or after positional arguments
	// (`holdfast probe live --state-dir X`); flag.Parse stops at the first.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return cliOK
			}
			return cliUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(cmd.Args) > 0 {
		if len(rest) != 1 || !slices.Contains(cmd.Args, rest[0]) {
			fmt.Fprintf(os.Stderr, "holdfast %s: want %s\n", name, wantArgs(name, cmd.Args))
			return cliUsage
		}
	} else if len(rest) > 0 {
		fmt.Fprintf(os.Stderr, "holdfast %s: unexpected argument %q\n", name, rest[0])
		return cliUsage
	}
	if o.run < 0 || o.tail < 0 {
		fmt.Fprintf(os.Stderr, "holdfast %s: --run and --tail take a whole number >= 0\n", name)
		return cliUsage
	}
	if o.why && (o.follow || o.tail > 0) {
		fmt.Fprintf(os.Stderr, "holdfast logs: --why shows the lines around the cause; it does not go with -f or --tail\n")
		return cliUsage
	}
	if stateDir, err = config.StateDir(stateDir); err != nil {
		fmt.Fprintf(os.Stderr, "holdfast %s: %v\n", name, err)
		return cliUsage
	}

	o.args, o.stateDir = rest, stateDir
	c := control.NewClient(stateDir)
	if h.code != nil {
		return h.code(c, o)
	}
	if cmd.Action {
		err = cmdAction(c, cmd)
	} else {
		err = h.run(c, o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdfast %s: %v\n", name, err)
		if _, ok := err.(usageError); ok {
			return cliUsage
		}
		return cliFail
	}
	return cliOK
}

func cmdStatus(c *control.Client, w io.Writer, asJSON bool) error {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	if asJSON {
		var raw json.RawMessage
		if err := c.Status(ctx, &raw); err != nil {
			return err
		}
		return writeLine(w, raw)
	}
	var snap state.Snapshot
	if err := c.Status(ctx, &snap); err != nil {
		return err
	}
	_, err := io.WriteString(w, formatStatus(snap))
	return err
}

func cmdRuns(c *control.Client, w io.Writer, asJSON bool) error {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	runs, err := c.Runs(ctx)
	if err != nil {
		return err
	}
	var snap state.Snapshot
	if !asJSON {
		if err := c.Status(ctx, &snap); err != nil {
			return err
		}
	}
	return writeRuns(w, runs, snap, asJSON)
}

// writeRuns prints the runs list: the table, or with asJSON the records.
func writeRuns(w io.Writer, runs []runrec.RunRecord, snap state.Snapshot, asJSON bool) error {
	if asJSON {
		// As the control socket sends it: indented, one array.
		if runs == nil {
			runs = []runrec.RunRecord{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	}
	_, err := io.WriteString(w, formatRuns(runs, snap, termWidth(w)))
	return err
}

// defaultWidth is the width of a table written anywhere but a terminal.
const defaultWidth = 80

// termWidth is how wide a table written to w may be: $COLUMNS when it is a
// number (as ls and ps take it), else the width of w's terminal, else
// defaultWidth.
func termWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return defaultWidth
}

// writeLine writes b and, when b does not end in one, a newline: JSON on a
// terminal or through `| jq` ends its line.
func writeLine(w io.Writer, b []byte) error {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

func cmdLogs(c *control.Client, run, tail int, follow bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	return c.Logs(ctx, os.Stdout, run, tail, follow)
}

func cmdAction(c *control.Client, cmd subcmd.Cmd) error {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	if err := c.Action(ctx, cmd.Name); err != nil {
		return err
	}
	fmt.Println(cmd.Done)
	return nil
}

// cmdProbe is for exec probes: exit 0 when healthy, 1 when not (or when no
// holdfast answers).
func cmdProbe(c *control.Client, which string) int {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	ok, reason, err := c.Probe(ctx, which)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "holdfast probe %s: %v\n", which, err)
		return cliFail
	case !ok:
		fmt.Fprintf(os.Stderr, "holdfast probe %s: not %s: %s\n", which, which, reason)
		return cliFail
	}
	return cliOK
}
