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
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// Exit codes of the subcommands: 0 success (for probe: healthy), 1 failure
// or no holdfast running (docs/contract.md "Exit codes"), 2 bad usage.
const (
	cliOK    = 0
	cliFail  = 1
	cliUsage = 2
)

// subcommand runs one of holdfast's client commands against the running
// holdfast's control socket. lead are the global flags given before the
// subcommand's name; only --state-dir is one.
func subcommand(name string, lead, args []string) int {
	fs := flag.NewFlagSet("holdfast "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	stateDir, err := config.ClientStateDir(lead, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdfast %s: %v\n", name, err)
		return cliUsage
	}
	fs.StringVar(&stateDir, "state-dir", stateDir, "holdfast's state dir (env HOLDFAST_STATE_DIR); also accepted before the subcommand")
	asJSON := false
	if name == "status" || name == "runs" {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	var follow bool
	var run, tail int
	if name == "logs" {
		fs.BoolVar(&follow, "f", false, "follow the output")
		fs.BoolVar(&follow, "follow", false, "follow the output")
		fs.IntVar(&run, "run", 0, "run number (default: the current or last run)")
		fs.IntVar(&tail, "tail", 0, "only the last N lines")
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
	if name == "probe" {
		if len(rest) != 1 || (rest[0] != "live" && rest[0] != "ready") {
			fmt.Fprintln(os.Stderr, "holdfast probe: want `holdfast probe live` or `holdfast probe ready`")
			return cliUsage
		}
	} else if len(rest) > 0 {
		fmt.Fprintf(os.Stderr, "holdfast %s: unexpected argument %q\n", name, rest[0])
		return cliUsage
	}
	if run < 0 || tail < 0 {
		fmt.Fprintf(os.Stderr, "holdfast logs: --run and --tail take a whole number >= 0\n")
		return cliUsage
	}
	if stateDir, err = config.StateDir(stateDir); err != nil {
		fmt.Fprintf(os.Stderr, "holdfast %s: %v\n", name, err)
		return cliUsage
	}

	c := control.NewClient(stateDir)
	switch name {
	case "status":
		err = cmdStatus(c, os.Stdout, asJSON)
	case "runs":
		err = cmdRuns(c, os.Stdout, asJSON)
	case "logs":
		err = cmdLogs(c, run, tail, follow)
	case "probe":
		return cmdProbe(c, rest[0])
	default:
		err = cmdAction(c, name)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdfast %s: %v\n", name, err)
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
	if asJSON {
		// As the control socket sends it: indented, one array.
		if runs == nil {
			runs = []runrec.RunRecord{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	}
	var snap state.Snapshot
	if err := c.Status(ctx, &snap); err != nil {
		return err
	}
	_, err = io.WriteString(w, formatRuns(runs, snap))
	return err
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

func cmdAction(c *control.Client, action string) error {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	if err := c.Action(ctx, action); err != nil {
		return err
	}
	fmt.Println(actionDone[action])
	return nil
}

var actionDone = map[string]string{
	"restart": "holdfast: restarting the app with a fresh restart budget (watch it with `holdfast status` or `holdfast logs -f`)",
	"release": "holdfast: hold released; holdfast exits with the app's last exit code",
	"stop":    "holdfast: stopping the app; holdfast exits when it is gone",
	"hold":    "holdfast: the app will be held instead of restarted",
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
