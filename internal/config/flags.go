package config

// flagSpec is one entrypoint flag. The table below is the single source of
// the flag names, their defaults (applied through set, so the help text
// cannot drift from the behaviour), their env twins and their help.
type flagSpec struct {
	name    string
	arg     string // placeholder in the help text; "" for a boolean
	boolean bool
	def     string // the default, applied before the env twin and the flag
	shown   string // the default as the help shows it, when def is a placeholder
	help    string
	set     func(c *Config, v string) error
}

const hostKeyName = "ssh_host_ed25519_key"

func lookup(name string) *flagSpec {
	for _, f := range flags {
		if f.name == name {
			return f
		}
	}
	return nil
}

// flags in the order the help lists them: crash handling, probes, ssh, state.
var flags = []*flagSpec{
	{name: "hold", boolean: true, def: "true",
		help: "crash-hold on; false = never hold: startup crashes are restarted up to --max-restarts, then holdfast exits with the app's code (--hold=false --max-restarts=0 is plain tini behaviour)",
		set:  func(c *Config, v string) (err error) { c.Hold, err = parseBool(v); return }},
	{name: "hold-window", arg: "DURATION", def: "10m",
		help: "a run that crashes before it has lived this long (or before the app first reports ready, with --app-ready-url) is a startup crash",
		set:  func(c *Config, v string) (err error) { c.HoldWindow, err = parseDuration(v, false); return }},
	{name: "max-restarts", arg: "N", def: "2",
		help: "startup crashes restarted before holding; 0 = hold at the first one",
		set:  func(c *Config, v string) (err error) { c.MaxRestarts, err = parseCount(v, 0); return }},
	{name: "backoff", arg: "DURATION", def: "1s",
		help: "delay before the first restart; it doubles for each further one",
		set:  func(c *Config, v string) (err error) { c.Backoff, err = parseDuration(v, false); return }},
	{name: "backoff-max", arg: "DURATION", def: "30s",
		help: "cap of the doubling restart delay; not less than --backoff",
		set:  func(c *Config, v string) (err error) { c.BackoffMax, err = parseDuration(v, false); return }},
	{name: "on-late-crash", arg: "exit|restart", def: "exit",
		help: "a crash after the hold window: exit (pass the app's code on; the platform restarts the container) or restart",
		set:  func(c *Config, v string) (err error) { c.OnLateCrash, err = parseChoice(v, "exit", "restart"); return }},
	{name: "hold-timeout", arg: "DURATION", def: "0",
		help: "0 = hold until released; otherwise exit with the app's last code when the hold has lasted this long",
		set:  func(c *Config, v string) (err error) { c.HoldTimeout, err = parseDuration(v, false); return }},
	{name: "grace", arg: "DURATION", def: "10s",
		help: "time between the stop signal and SIGKILL of the app's process group",
		set:  func(c *Config, v string) (err error) { c.Grace, err = parseDuration(v, false); return }},
	{name: "stop-signal", arg: "SIGNAL", def: "TERM",
		help: "what the app gets on stop",
		set:  func(c *Config, v string) (err error) { c.StopSignal, err = parseSignal(v); return }},
	{name: "parent-death-signal", arg: "SIGNAL", def: "",
		help: "the signal holdfast gets when its parent process ends (tini's -p), e.g. TERM: it then stops the app as on that signal; empty = none: holdfast and the app keep running",
		set:  func(c *Config, v string) (err error) { c.ParentDeathSignal, err = parseParentDeathSignal(v); return }},
	{name: "signal-map", arg: "FROM:TO,...", def: "",
		help: "rewrite signals forwarded to the app, e.g. TERM:QUIT,HUP:USR1",
		set:  func(c *Config, v string) (err error) { c.SignalMap, err = parseSignalMap(v); return }},

	{name: "probe-addr", arg: "HOST:PORT", def: ":8558",
		help: "HTTP listener for /livez, /readyz, /status and /metrics; empty disables",
		set:  func(c *Config, v string) (err error) { c.ProbeAddr, err = parseAddr(v); return }},
	{name: "app-ready-url", arg: "URL", def: "",
		help: "the app's readiness URL, e.g. Spring Boot's /actuator/health/readiness; holdfast's ready follows it, and a run that has once been ready is past the hold window",
		set:  func(c *Config, v string) (err error) { c.AppReadyURL, err = parseURL(v); return }},
	{name: "app-live-url", arg: "URL", def: "",
		help: "the app's liveness URL, e.g. /actuator/health/liveness; failing it is a hang",
		set:  func(c *Config, v string) (err error) { c.AppLiveURL, err = parseURL(v); return }},
	{name: "app-probe-period", arg: "DURATION", def: "2s",
		help: "how often the app URLs are probed",
		set:  func(c *Config, v string) (err error) { c.AppProbePeriod, err = parseDuration(v, true); return }},
	{name: "app-probe-timeout", arg: "DURATION", def: "1s",
		help: "timeout of one app URL probe",
		set:  func(c *Config, v string) (err error) { c.AppProbeTimeout, err = parseDuration(v, true); return }},
	{name: "app-probe-failure-threshold", arg: "N", def: "3",
		help: "consecutive failed probes before the app counts as not ready or not live",
		set:  func(c *Config, v string) (err error) { c.AppProbeFailures, err = parseCount(v, 1); return }},
	{name: "hold-on-hang", boolean: true, def: "false",
		help: "when --app-live-url fails, hold (reason hang) with the app's process kept alive for thread dumps, instead of restarting it",
		set:  func(c *Config, v string) (err error) { c.HoldOnHang, err = parseBool(v); return }},
	{name: "app-ready", arg: "listen|process|url", def: "", shown: "url with --app-ready-url, else listen",
		help: "what ready (/readyz) means: listen = the app's process tree has a listening TCP socket; process = the app's process exists; url = --app-ready-url answers 2xx/3xx",
		set:  func(c *Config, v string) (err error) { c.AppReady, err = parseReadyRule(v); return }},
	{name: "startup-timeout", arg: "DURATION", def: "", shown: "--hold-window",
		help: "with --app-ready-url, a run not ready this long after its start gets a thread dump and is held with its process alive (reason never-ready); 0 = no limit",
		set:  func(c *Config, v string) (err error) { c.StartupTimeout, err = parseOptionalDuration(v); return }},

	{name: "ssh-addr", arg: "HOST:PORT", def: ":2222",
		help: "embedded ssh server; it starts only when authorized keys are configured; empty disables",
		set:  func(c *Config, v string) (err error) { c.SSHAddr, err = parseAddr(v); return }},
	{name: "ssh-authorized-keys", arg: "FILE", def: "/etc/holdfast/authorized_keys",
		help: "authorized_keys file; HOLDFAST_SSH_AUTHORIZED_KEYS may instead hold the keys themselves",
		set:  func(c *Config, v string) error { c.SSHAuthorizedKeysFile = v; return nil }},
	{name: "ssh-host-key", arg: "FILE", def: "", shown: "<state-dir>/" + hostKeyName,
		help: "ed25519 host key, generated (mode 0600) when absent",
		set:  func(c *Config, v string) error { c.SSHHostKey = v; return nil }},
	{name: "ssh-max-sessions", arg: "N", def: "16",
		help: "concurrent ssh sessions",
		set:  func(c *Config, v string) (err error) { c.SSHMaxSessions, err = parseCount(v, 1); return }},
	{name: "ssh-login-shell", boolean: true, def: "false",
		help: "start ssh shells as login shells (they then source /etc/profile, which may reset PATH)",
		set:  func(c *Config, v string) (err error) { c.SSHLoginShell, err = parseBool(v); return }},
	{name: "ssh-allow-root", boolean: true, def: "false",
		help: "with --user, a login as root (holdfast's own account) gets a session as holdfast's uid; without it every ssh session runs as --user",
		set:  func(c *Config, v string) (err error) { c.SSHAllowRoot, err = parseBool(v); return }},

	{name: "state-dir", arg: "DIR", def: "/var/lib/holdfast",
		help: "runs, evidence, control socket, host key; mount an emptyDir here in Kubernetes",
		set:  func(c *Config, v string) (err error) { c.StateDir, err = parseNonEmpty(v); return }},
	{name: "keep-runs", arg: "N", def: "20",
		help: "run directories kept",
		set:  func(c *Config, v string) (err error) { c.KeepRuns, err = parseCount(v, 1); return }},
	{name: "log-max-bytes", arg: "SIZE", def: "64MiB",
		help: "the app output kept per run, at least 4KiB",
		set:  func(c *Config, v string) (err error) { c.LogMaxBytes, err = parseSize(v, 4096); return }},
	{name: "retain-memory", arg: "SIZE", def: "8MiB",
		help: "memory for the kept output of all runs together, at least 4KiB; older runs are then served from output.log, or dropped (oldest first) when the state dir is not writable",
		set:  func(c *Config, v string) (err error) { c.RetainMemory, err = parseSize(v, 4096); return }},
	{name: "capture", boolean: true, def: "true",
		help: "keep the app's output (output.log, holdfast logs); false = the app writes straight to holdfast's stdout and stderr as under tini: full pipe speed, but nothing is kept and holdfast's log lines may split the app's stderr lines",
		set:  func(c *Config, v string) (err error) { c.Capture, err = parseBool(v); return }},
	{name: "trim-memory", boolean: true, def: "false",
		help: "once the app has run (or been held) for a second with nothing changing, give back the pages of holdfast's binary that only its start-up used (idle RSS about 2 MiB instead of 10); off by default: the kernel reclaims those clean pages under memory pressure anyway, and each one used again is read back, which slows the next signals",
		set:  func(c *Config, v string) (err error) { c.TrimMemory, err = parseBool(v); return }},
	{name: "memory-watch", boolean: true, def: "true",
		help: "while the app runs, sample the container's memory once a second into runs/<N>/memory.timeline, keep limit, peak and last in run.json, and save evidence (memory/, a JVM thread dump) when usage first reaches 90% of the limit",
		set:  func(c *Config, v string) (err error) { c.MemoryWatch, err = parseBool(v); return }},
	{name: "jvm", arg: "auto|on|off", def: "auto",
		help: "inject JVM evidence paths (heap dump, hs_err) via JAVA_TOOL_OPTIONS: auto = when the command is java",
		set:  func(c *Config, v string) (err error) { c.JVM, err = parseChoice(v, "auto", "on", "off"); return }},
	{name: "user", arg: "USER[:GROUP]", def: "",
		help: "run the app as this user (name or uid) and group (name or gid); without a group, the user's primary group",
		set:  func(c *Config, v string) error { c.User = v; return nil }},
}
