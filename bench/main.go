package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type config struct {
	holdfast, tini, dumbInit, catatonit string
	holdfastBase                        string // optional: an older build for side-by-side rows
	src, workRoot, tmpfsRoot            string
	iters, rssReps                      int
	orphans, orphanReps                 int
	signals                             int
	bytes                               int64
	tputReps                            int
	restarts, restartRounds             int
	idle                                time.Duration
	retainRuns, retainReps              int
	retainBytes                         int64
	only                                string
	pebble, svGo, svPy                  string
	peerIters, peerReps, peerRestarts   int
	peerRounds, peerScrapes             int
	peerBytes                           int64
	peerIdle                            time.Duration
	sig2N                               int
	sig2Gap                             time.Duration
	invokedAs                           string
}

type bench struct {
	cfg      config
	holdfast string
	app      string // cmd/benchapp
	orphans  string // cmd/orphans
	sigstamp string // csrc/sigstamp.c, static
	work     string // scratch on disk: fifos, logs, disk state dirs
	log      io.Writer
}

func main() { os.Exit(run()) }

func run() int {
	var c config
	flag.StringVar(&c.holdfast, "holdfast", "../bin/holdfast", "holdfast binary")
	flag.StringVar(&c.holdfastBase, "holdfast-base", "", "an older holdfast binary measured side by side (a row after holdfast's) in the signals, signals2, stdout, restart and retain sections (optional)")
	flag.IntVar(&c.retainRuns, "retain-runs", 20, "crash-loop runs in the retain section")
	flag.Int64Var(&c.retainBytes, "retain-bytes", 100<<20, "bytes the app writes per run in the retain section")
	flag.IntVar(&c.retainReps, "retain-reps", 1, "retain sessions per row")
	flag.StringVar(&c.tini, "tini", "/usr/bin/tini", "tini binary")
	flag.StringVar(&c.dumbInit, "dumb-init", "/usr/bin/dumb-init", "dumb-init binary")
	flag.StringVar(&c.catatonit, "catatonit", "/usr/bin/catatonit", "catatonit binary")
	flag.StringVar(&c.src, "src", ".", "this module's directory (to build the helpers)")
	flag.StringVar(&c.workRoot, "work", "/var/tmp", "disk directory for scratch and holdfast's on-disk state dirs")
	flag.StringVar(&c.tmpfsRoot, "tmpfs", "/dev/shm", "tmpfs directory for the tmpfs state-dir variant")
	flag.IntVar(&c.iters, "iters", 200, "startup runs per PID 1")
	flag.IntVar(&c.rssReps, "rss-reps", 3, "idle-RSS sessions per PID 1")
	flag.IntVar(&c.orphans, "orphans", 10000, "orphans per reaping round")
	flag.IntVar(&c.orphanReps, "orphan-reps", 1, "reaping rounds per PID 1")
	flag.IntVar(&c.signals, "signals", 500, "SIGUSR1 per PID 1")
	flag.Int64Var(&c.bytes, "bytes", 4<<30, "bytes the app writes to stdout per throughput run")
	flag.IntVar(&c.tputReps, "tput-reps", 5, "throughput runs per PID 1 and sink")
	flag.IntVar(&c.restarts, "restarts", 50, "restarts per restart round (--max-restarts)")
	flag.IntVar(&c.restartRounds, "restart-rounds", 4, "restart rounds per row")
	flag.DurationVar(&c.idle, "idle", 30*time.Second, "idle-wakeup window")
	flag.StringVar(&c.invokedAs, "invoked-as", "", "the command shown in the report (default: this program's command line)")
	flag.StringVar(&c.only, "only", "", "comma list of startup,rss,reap,signals,stdout,restart,idle,retain,peers (or a part: peers-start, -idle, -restart, -output, -scrape, -exec),signals2 (default all)")
	flag.StringVar(&c.pebble, "pebble", "/var/cache/holdfast-bench/bin/pebble", "Pebble binary (peers section)")
	flag.StringVar(&c.svGo, "supervisord-go", "/var/cache/holdfast-bench/bin/supervisord-go", "supervisord, the Go port (peers section)")
	flag.StringVar(&c.svPy, "supervisord", "/usr/bin/supervisord", "supervisord, Python (peers section)")
	flag.IntVar(&c.peerIters, "peer-iters", 20, "start-to-running runs per peer")
	flag.IntVar(&c.peerReps, "peer-reps", 3, "output-capture runs per peer (and idle rounds)")
	flag.IntVar(&c.peerRestarts, "peer-restarts", 30, "restarts per restart round of a peer")
	flag.IntVar(&c.peerRounds, "peer-rounds", 3, "restart rounds per peer")
	flag.IntVar(&c.peerScrapes, "peer-scrapes", 500, "metrics scrapes per peer")
	flag.Int64Var(&c.peerBytes, "peer-bytes", 512<<20, "bytes the app writes per output-capture run of a peer")
	flag.DurationVar(&c.peerIdle, "peer-idle", 20*time.Second, "idle window of the peers")
	flag.IntVar(&c.sig2N, "signals2", 3000, "SIGUSR1 per init and app in the two-method signal section")
	flag.DurationVar(&c.sig2Gap, "signals2-gap", time.Millisecond, "gap between two signals in the recorded (unpaced) method")
	flag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root: every PID 1 runs in a new pid namespace (unshare --pid)")
		return 2
	}
	for _, p := range []string{c.holdfast, c.tini, c.dumbInit, c.catatonit} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(os.Stderr, "bench: cannot find %s: %v (scripts/bench.sh installs and builds everything)\n", p, err)
			return 2
		}
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		fmt.Fprintln(os.Stderr, "bench: cannot find unshare (util-linux)")
		return 2
	}
	hf, err := filepath.Abs(c.holdfast)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot resolve %s: %v\n", c.holdfast, err)
		return 2
	}
	if c.holdfastBase != "" {
		if c.holdfastBase, err = filepath.Abs(c.holdfastBase); err != nil {
			fmt.Fprintf(os.Stderr, "bench: cannot resolve %s: %v\n", c.holdfastBase, err)
			return 2
		}
	}
	work, err := os.MkdirTemp(c.workRoot, "holdfast-bench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot create work dir: %v\n", err)
		return 2
	}
	defer os.RemoveAll(work)
	shm, err := os.MkdirTemp(c.tmpfsRoot, "holdfast-bench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot create tmpfs dir: %v\n", err)
		return 2
	}
	defer os.RemoveAll(shm)
	b := &bench{cfg: c, holdfast: hf, work: work, log: os.Stderr}
	if b.app, b.orphans, b.sigstamp, err = buildHelpers(c.src, work); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 2
	}
	b.report(os.Stdout, shm)
	return 0
}

func (b *bench) want(section string) bool {
	if b.cfg.only == "" {
		return true
	}
	for _, s := range strings.Split(b.cfg.only, ",") {
		if strings.TrimSpace(s) == section {
			return true
		}
	}
	return false
}

// wantPrefix is want for a section or any of its parts ("peers-restart").
func (b *bench) wantPrefix(section string) bool {
	if b.want(section) {
		return true
	}
	for _, s := range strings.Split(b.cfg.only, ",") {
		if strings.HasPrefix(strings.TrimSpace(s), section+"-") {
			return true
		}
	}
	return false
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

func (b *bench) failed(what string, err error) *table {
	t := &table{title: what, header: []string{"error"}}
	t.add(err.Error())
	return t
}

// report runs the selected sections and writes the two markdown sections.
func (b *bench) report(w io.Writer, shm string) {
	c := b.cfg
	diskRoot := filepath.Join(b.work, "state")
	os.MkdirAll(diskRoot, 0o755)
	var (
		bareV   = bare()
		tini    = peer("tini", c.tini)
		dumb    = peer("dumb-init", c.dumbInit)
		cata    = peer("catatonit", c.catatonit)
		hfDisk  = holdfastAs("holdfast", b.holdfast, diskRoot)
		hfTmpfs = holdfastAs("holdfast (tmpfs state)", b.holdfast, shm)
		hfProbe = holdfastAs("holdfast (probe on)", b.holdfast, diskRoot, "--probe-addr=127.0.0.1:0")
	)
	// withBase adds a row for the older build (-holdfast-base) right after
	// the row of v, with the same flags and state dir.
	withBase := func(vs []variant, v variant, name string, extra ...string) []variant {
		if c.holdfastBase == "" {
			return vs
		}
		i := slices.IndexFunc(vs, func(x variant) bool { return x.name == v.name })
		return slices.Insert(vs, i+1, holdfastAs(name, c.holdfastBase, v.stateRoot, extra...))
	}
	started := time.Now()
	load0 := loadavg()
	var pid1, sup []*table
	timed := func(name string, f func() *table) *table {
		b.progress("%s ...", name)
		t0 := time.Now()
		t := f()
		b.progress("%s done in %s (load %s)", name, time.Since(t0).Round(time.Second), loadavg())
		t.note("Section time %s; load average after it %s.", time.Since(t0).Round(time.Second), loadavg())
		return t
	}
	if b.want("startup") {
		pid1 = append(pid1, timed("startup", func() *table {
			goTrue := variant{name: "bare Go binary (`benchapp true`)", argv: func([]string, string) []string { return []string{b.app, "true"} }}
			return b.benchStartup([]variant{bareV, goTrue, tini, dumb, cata, hfDisk, hfTmpfs})
		}))
	}
	if b.want("rss") {
		pid1 = append(pid1, timed("rss", func() *table {
			trimmed := holdfastAs("holdfast --trim-memory", b.holdfast, diskRoot, "--trim-memory")
			addr, err := freeAddr()
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				os.Exit(1)
			}
			probed := holdfastAs("holdfast (probe on, probed)", b.holdfast, diskRoot, "--probe-addr="+addr)
			return b.benchRSS([]variant{tini, dumb, cata, hfDisk, trimmed, hfTmpfs, hfProbe, probed}, c.rssReps,
				map[string]func() error{probed.name: func() error { return probeTwice(addr) }})
		}))
	}
	// Reaping runs last (its table is still printed third): its 10,000
	// orphans leave a load average past 1,000 that would otherwise weigh on
	// every section after it.
	reapAt := len(pid1)
	if b.want("signals") {
		pid1 = append(pid1, timed("signals", func() *table {
			trimmed := holdfastAs("holdfast --trim-memory", b.holdfast, diskRoot, "--trim-memory")
			vs := withBase([]variant{bareV, tini, dumb, cata, hfDisk, trimmed}, hfDisk, "holdfast base (-holdfast-base)")
			return b.benchSignals(vs, c.signals)
		}))
	}
	if b.want("stdout") {
		pid1 = append(pid1, timed("stdout", func() *table {
			// The floor of any relay that sees every byte: the app piped
			// through cat, which copies each byte in and out and keeps none.
			catRelay := variant{name: catRelayName, argv: func(app []string, _ string) []string {
				return append([]string{"/bin/sh", "-c", `"$@" | cat`, "sh"}, app...)
			}}
			// cat again, on 1 MiB pipes as holdfast sizes its own stdout
			// and the app's: what the pipe size alone is worth to cat.
			catBig := variant{name: "bare piped through cat, 1 MiB pipes (no init)", argv: func(app []string, _ string) []string {
				return append([]string{"/bin/sh", "-c", `"$@" | "$0" bigpipes cat`, b.app}, app...)
			}}
			// The cheapest relay that keeps the output: tee(2) and splice(2),
			// no byte through user space, the last 32 MiB in a tmpfs ring.
			zcRelay := variant{name: "bare through a zero-copy relay (tee+splice, keeps 32 MiB; no init)", argv: func(app []string, _ string) []string {
				return append([]string{b.app, "zcrelay", "33554432"}, app...)
			}}
			// The floor of holdfast's job: read(2)/write(2) on one thread, the
			// first and last 32 MiB kept in memory, the first 64 MiB in a file
			// in a file on the disk of holdfast's state dirs.
			keepLog := filepath.Join(b.work, "keeprelay-output.log")
			defer os.Remove(keepLog)
			keepRelay := variant{name: "bare through a plain keeping relay (keeps 64 MiB in memory and a file; no init)",
				argv: func(app []string, _ string) []string {
					return append([]string{b.app, "keeprelay", "67108864", keepLog}, app...)
				}}
			// The app writes to holdfast's own stdout, as under tini: nothing is kept.
			hfPass := holdfastAs("holdfast --capture=false", b.holdfast, diskRoot, "--capture=false")
			vs := []variant{bareV, catRelay, catBig, zcRelay, keepRelay, tini, dumb, cata, hfDisk, hfTmpfs, hfPass}
			vs = withBase(vs, hfDisk, "holdfast base (-holdfast-base)")
			vs = withBase(vs, hfPass, "holdfast base --capture=false", "--capture=false")
			return b.benchThroughput(vs, c.bytes, c.tputReps)
		}))
	}
	if b.want("restart") {
		sup = append(sup, timed("restart", func() *table {
			vs := withBase([]variant{hfDisk, hfTmpfs}, hfDisk, "holdfast base (-holdfast-base)")
			return b.benchRestart(vs, c.restarts, c.restartRounds)
		}))
	}
	if b.want("idle") {
		sleep := []string{"sleep", "3600"}
		sup = append(sup, timed("idle", func() *table {
			return b.benchIdle([]idleCase{
				{name: "holdfast held (probe on, ssh off)", v: hfDisk, app: []string{b.app, "crash", os.DevNull},
					flags: []string{"--hold=true", "--max-restarts=0", "--probe-addr=127.0.0.1:0"}, held: true},
				{name: "holdfast held, sampling off, ready=process", v: hfDisk, app: []string{b.app, "crash", os.DevNull},
					flags: []string{"--hold=true", "--max-restarts=0", "--probe-addr=127.0.0.1:0", "--memory-watch=false", "--app-ready=process"}, held: true},
				{name: "holdfast, app running (probe on)", v: hfDisk, app: sleep, flags: []string{"--probe-addr=127.0.0.1:0"}},
				{name: "holdfast, app running (probe off)", v: hfDisk, app: sleep},
				{name: "holdfast, app running, memory sampling on, ready=process", v: hfDisk, app: sleep,
					flags: []string{"--memory-watch=true", "--app-ready=process"}},
				{name: "holdfast, app running, memory sampling off, ready=process", v: hfDisk, app: sleep,
					flags: []string{"--memory-watch=false", "--app-ready=process"}},
				{name: "holdfast, app running, sampling off, ready=listen (never listens)", v: hfDisk, app: sleep,
					flags: []string{"--memory-watch=false", "--app-ready=listen"}},
				{name: "tini", v: tini, app: sleep},
				{name: "dumb-init", v: dumb, app: sleep},
				{name: "catatonit", v: cata, app: sleep},
			}, c.idle)
		}))
	}

	if b.want("retain") {
		sup = append(sup, timed("retain", func() *table {
			vs := []variant{hfDisk}
			if c.holdfastBase != "" {
				vs = append(vs, holdfastAs("holdfast base (-holdfast-base)", c.holdfastBase, diskRoot))
			}
			return b.benchRetain(vs, c.retainRuns, c.retainBytes, c.retainReps)
		}))
	}

	var peers []*table
	if b.wantPrefix("peers") {
		ps := []peerSup{
			{name: "bare", kind: kindBare},
			{name: "holdfast", kind: kindHoldfast, bin: b.holdfast},
			{name: "Pebble", kind: kindPebble, bin: c.pebble},
			{name: "Pebble --verbose", kind: kindPebbleV, bin: c.pebble},
			{name: "supervisord (Go port)", kind: kindSvGo, bin: c.svGo},
			{name: "supervisord (Python)", kind: kindSvPy, bin: c.svPy},
		}
		noV := slices.DeleteFunc(slices.Clone(ps), func(p peerSup) bool { return p.kind == kindPebbleV })
		withCat := slices.Insert(slices.Clone(ps), 1, peerSup{name: "bare piped through cat (keeps nothing)", kind: kindCat})
		for _, sec := range []struct {
			name string
			run  func() *table
		}{
			{"start", func() *table { return b.peerStartup(noV, c.peerIters) }},
			{"idle", func() *table {
				// holdfast's defaults watch the app (the listen check of
				// --app-ready=listen, memory sampling), which the peers do
				// not; the second row does the peers' work, the third gives
				// back its start-up pages. Each runs its own copy of the
				// binary: the rows run at once, and pages of one file shared
				// by three processes would split their Pss and keep
				// --trim-memory from paging any of them out.
				idle := slices.Insert(slices.Clone(noV), 2,
					peerSup{name: "holdfast --app-ready=process --memory-watch=false", kind: kindHoldfast, bin: b.binCopy("holdfast-same-work"),
						flags: []string{"--app-ready=process", "--memory-watch=false"}},
					peerSup{name: "holdfast --app-ready=process --memory-watch=false --trim-memory", kind: kindHoldfast, bin: b.binCopy("holdfast-trim"),
						flags: []string{"--app-ready=process", "--memory-watch=false", "--trim-memory"}})
				return b.peerIdle(idle, c.peerIdle, c.peerReps)
			}},
			{"restart", func() *table { return b.peerRestart(noV, c.peerRestarts, c.peerRounds) }},
			{"output", func() *table { return b.peerOutput(withCat, c.peerBytes, c.peerReps) }},
			{"scrape", func() *table { return b.peerScrape(noV, c.peerScrapes) }},
			{"exec", func() *table { return b.peerExec(noV, 10) }},
		} {
			if b.want("peers") || b.want("peers-"+sec.name) {
				peers = append(peers, timed("peers: "+sec.name, sec.run))
			}
		}
	}
	if b.want("signals2") {
		peers = append(peers, timed("signals two ways", func() *table {
			vs := withBase([]variant{bareV, tini, hfDisk}, hfDisk, "holdfast base (-holdfast-base)")
			return b.benchSignalsTwoWays(vs, c.sig2N, c.sig2Gap)
		}))
	}

	if b.want("reap") {
		t := timed("reap", func() *table {
			return b.benchReap([]variant{tini, dumb, cata, hfDisk}, c.orphans, c.orphanReps)
		})
		pid1 = slices.Insert(pid1, reapAt, t)
	}

	fmt.Fprintln(w, "## Run")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Run of %s, %s in all; load average %s at the start, %s at the end.\n\n",
		started.UTC().Format("2006-01-02 15:04 UTC"), time.Since(started).Round(time.Second), load0, loadavg())
	bins := map[string]string{"tini": c.tini, "dumb-init": c.dumbInit, "catatonit": c.catatonit}
	if b.wantPrefix("peers") {
		bins["Pebble"], bins["supervisord (Go port)"], bins["supervisord (Python)"] = c.pebble, c.svGo, c.svPy
	}
	for _, l := range machine(b.holdfast, bins) {
		fmt.Fprintf(w, "- %s\n", l)
	}
	cmdline := c.invokedAs
	if cmdline == "" {
		cmdline = strings.Join(os.Args, " ")
	}
	fmt.Fprintf(w, "- Command: `%s`\n\n", cmdline)
	section := func(title string, ts []*table) {
		if len(ts) == 0 {
			return
		}
		fmt.Fprintf(w, "## %s\n\n", title)
		for _, t := range ts {
			t.write(w)
		}
	}
	section("PID 1", pid1)
	section("Supervisor", sup)
	section("Peers", peers)
}
