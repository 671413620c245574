package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/bundle"
	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/internal/jvmflags"
	"github.com/holdfast-dev/holdfast/internal/offline"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/statedir"
	"github.com/holdfast-dev/holdfast/internal/version"
	"github.com/holdfast-dev/holdfast/launcher/capture"
	"github.com/holdfast-dev/holdfast/runrec"
)

func bundleFlags(fs *flag.FlagSet, o *opts) {
	fs.IntVar(&o.run, "run", 0, "only this run (default: every run kept)")
	fs.BoolVar(&o.all, "all", false, "also run dirs the runs list does not name (a copy of a state dir, runs of an earlier holdfast)")
	fs.BoolVar(&o.withHeap, "with-heap", false, "include heap dumps (*.hprof; they can be GiBs)")
	fs.StringVar(&o.out, "o", "", "write the bundle to `FILE` (default: stdout)")
}

// cmdBundle writes the evidence bundle (package bundle) to stdout or -o
// FILE, from the running holdfast or, when none answers, from the state
// dir alone. What it put in and left out goes to stderr in one line.
func cmdBundle(c *control.Client, o opts) error {
	if o.run > 0 && o.all {
		return usageError("--run and --all exclude each other")
	}
	if (o.out == "" || o.out == "-") && isTerminal(os.Stdout) {
		return usageError("stdout is a terminal: redirect it (holdfast bundle > bundle.tgz) or give -o FILE")
	}
	in, err := liveBundle(c, o.stateDir)
	if err != nil {
		in, err = offlineOr(err, o.stateDir, offlineBundle)
	}
	if err != nil {
		return err
	}
	in.Select = bundle.Selection{Run: o.run, All: o.all}
	in.WithHeap = o.withHeap
	w, finish, err := bundleOutput(o.out)
	if err != nil {
		return err
	}
	res, err := bundle.Write(w, in)
	if err = finish(err); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "holdfast bundle: %d files, %d bytes before compression, runs %v; %d left out, %d changed while read (SUMMARY.txt says which)\n",
		res.Files, res.Bytes, res.Runs, len(res.LeftOut), len(res.Warnings))
	return nil
}

// bundleOutput is stdout, or FILE made with mode 0600 (the bundle holds
// the app's output). finish closes it and, when the bundle failed,
// removes the partial file.
func bundleOutput(name string) (io.Writer, func(error) error, error) {
	if name == "" || name == "-" {
		return os.Stdout, func(err error) error { return err }, nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, func(err error) error {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
		}
		return err
	}, nil
}

// liveBundle gathers the bundle's inputs from the running holdfast.
func liveBundle(c *control.Client, stateDir string) (bundle.Options, error) {
	ctx, cancel := control.WithTimeout()
	defer cancel()
	var in bundle.Options
	var raw json.RawMessage
	if err := c.Status(ctx, &raw); err != nil {
		return in, err
	}
	var snap state.Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return in, fmt.Errorf("cannot decode the status: %w", err)
	}
	recs, err := c.Runs(ctx)
	if err != nil {
		return in, err
	}
	if in.Runs, err = bundleRuns(recs); err != nil {
		return in, err
	}
	in.Status = raw
	in.RunsDir = filepath.Join(stateDir, statedir.RunsDir)
	in.Fetch = fetchFunc(c, recs)
	var api *control.APIError
	switch err := c.Facts(ctx, &in.Facts); {
	case errors.As(err, &api) && api.Status == http.StatusNotFound:
		// An older holdfast: what this command knows itself.
		in.Facts = bundle.CollectFacts(bundle.FactsInput{Version: version.Version, AppArgv: snap.Command})
		in.Facts.Source = "holdfast bundle (holdfast " + snap.Version + " serves no facts; the app's environment is not known)"
	case err != nil:
		return in, err
	}
	return in, nil
}

// fetchFunc gives the bundle the files of a run dir that the caller may not
// read (holdfast's run.json and output.log, mode 0600, when the bundle is
// made as the app's user): the record from the runs list, and the output
// through the control socket, spooled to an unlinked temp file so that
// memory stays constant.
func fetchFunc(c *control.Client, recs []runrec.RunRecord) func(int, string) (io.ReadCloser, int64, error) {
	return func(run int, name string) (io.ReadCloser, int64, error) {
		switch name {
		case runrec.RunFile:
			for _, r := range recs {
				if r.Run == run {
					b, err := json.MarshalIndent(r, "", "  ")
					return io.NopCloser(bytes.NewReader(b)), int64(len(b)), err
				}
			}
		case runrec.OutputFile:
			return spoolLogs(c, run)
		}
		return nil, 0, fs.ErrNotExist
	}
}

// spoolLogs copies run's output from the running holdfast into an unlinked
// temp file and returns it at its start.
func spoolLogs(c *control.Client, run int) (io.ReadCloser, int64, error) {
	f, err := os.CreateTemp("", "holdfast-bundle-")
	if err != nil {
		return nil, 0, err
	}
	os.Remove(f.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Logs(ctx, f, run, 0, false); err != nil {
		f.Close()
		return nil, 0, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}

// bundleRuns turns the records into the bundle's runs list, each kept
// whole for runs.json.
func bundleRuns(recs []runrec.RunRecord) ([]bundle.Run, error) {
	if recs == nil {
		recs = []runrec.RunRecord{}
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return nil, err
	}
	return bundle.DecodeRuns(b)
}

// offlineStatus is status.json of a bundle made without a holdfast.
type offlineStatus struct {
	Phase    string `json:"phase"`
	Offline  bool   `json:"offline"`
	StateDir string `json:"state_dir"`
	Note     string `json:"note"`
}

// offlineBundle gathers the bundle's inputs from the state dir alone.
func offlineBundle(s *offline.State) (bundle.Options, error) {
	var in bundle.Options
	recs, err := s.Runs()
	if err != nil {
		return in, err
	}
	if in.Runs, err = bundleRuns(recs); err != nil {
		return in, err
	}
	in.RunsDir = s.RunsDir()
	in.Status, _ = json.MarshalIndent(offlineStatus{Phase: "unknown", Offline: true, StateDir: s.Path(),
		Note: "no holdfast answered on the control socket; the state dir was read directly"}, "", "  ")
	var argv []string
	if len(recs) > 0 {
		argv = recs[len(recs)-1].Command
	}
	in.Facts = bundle.CollectFacts(bundle.FactsInput{Version: version.Version, AppArgv: argv})
	in.Facts.Source = "holdfast bundle, reading the state dir " + s.Path() + " without a holdfast (the app's environment is not known; machine facts are of where the bundle was made)"
	return in, nil
}

// offlineOr handles a subcommand whose holdfast did not answer: when none
// is running (control.ErrNotRunning), it says so on stderr and runs off
// against the state dir itself; any other error is returned as it is.
func offlineOr[T any](err error, stateDir string, off func(*offline.State) (T, error)) (T, error) {
	var zero T
	if !errors.Is(err, control.ErrNotRunning) {
		return zero, err
	}
	s, oerr := offline.Open(stateDir)
	if oerr != nil {
		return zero, fmt.Errorf("%v; %v", err, oerr)
	}
	defer s.Close()
	fmt.Fprintf(os.Stderr, "holdfast: no holdfast is running; reading the state dir %s directly\n", s.Path())
	return off(s)
}

// offlineRuns is `holdfast runs` from the state dir.
func offlineRuns(w io.Writer, asJSON bool) func(*offline.State) (struct{}, error) {
	return func(s *offline.State) (struct{}, error) {
		recs, err := s.Runs()
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, writeRuns(w, recs, state.Snapshot{}, asJSON)
	}
}

// offlineTailMax bounds what `holdfast logs --tail N` reads of an output.log
// in the state dir: its last 16 MiB.
const offlineTailMax = 16 << 20

// offlineLogs is `holdfast logs` from the state dir: the output as it
// was left (-f has nothing to follow).
func offlineLogs(w io.Writer, run, tail int) func(*offline.State) (struct{}, error) {
	return func(s *offline.State) (struct{}, error) {
		f, _, err := s.Output(run)
		if err != nil {
			return struct{}{}, err
		}
		defer f.Close()
		if tail == 0 {
			_, err = io.Copy(w, f)
			return struct{}{}, err
		}
		if fi, err := f.Stat(); err == nil && fi.Size() > offlineTailMax {
			if _, err := f.Seek(fi.Size()-offlineTailMax, io.SeekStart); err != nil {
				return struct{}{}, err
			}
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, io.LimitReader(f, offlineTailMax)); err != nil {
			return struct{}{}, err
		}
		_, err = w.Write(capture.TailLines(b.Bytes(), tail))
		return struct{}{}, err
	}
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// usageError is a subcommand's bad usage: exit 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// factsFunc is what the control socket serves as GET /v1/facts: the
// facts of package bundle, collected in holdfast's own process (its
// flags, /proc and cgroup), with the app's environment filtered here, so
// that no secret value leaves the process.
func factsFunc(cfg *config.Config, store *state.Store) func() any {
	return func() any {
		snap := store.Load()
		env, from := appEnv(cfg, snap)
		f := bundle.CollectFacts(bundle.FactsInput{Version: version.Version, HoldfastArgs: os.Args,
			HoldfastPID: os.Getpid(), AppArgv: cfg.Command, AppEnv: env, Now: time.Now()})
		f.Source = fmt.Sprintf("holdfast (pid %d)", os.Getpid())
		f.App.EnvSource = from
		return f
	}
}

// appEnv is the app's environment and where it was read: the app's process
// while it runs; else the environment holdfast starts it with, plus the JVM
// evidence flags the current run got (jvmflags.EnvFor), which point at the
// run's jvm/ dir (at the evidence dir itself when records are in memory).
func appEnv(cfg *config.Config, snap state.Snapshot) ([]string, string) {
	if snap.PID > 0 {
		if e, err := procEnviron(snap.PID); err == nil {
			return e, fmt.Sprintf("the app's process (pid %d, run %d)", snap.PID, snap.Run)
		}
	}
	env := os.Environ()
	if snap.EvidenceDir == nil {
		return env, "the environment holdfast starts the app with"
	}
	dir := *snap.EvidenceDir
	if snap.StateDirWritable {
		dir = filepath.Join(dir, runrec.AppDirName)
	}
	return jvmflags.EnvFor(cfg.JVM, cfg.Command, env, dir),
		fmt.Sprintf("the environment holdfast started run %d with (the app is not running)", snap.Run)
}

// procEnviron is the initial environment of process pid.
func procEnviron(pid int) ([]string, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range bytes.Split(b, []byte{0}) {
		if len(kv) > 0 {
			env = append(env, string(kv))
		}
	}
	return env, nil
}
