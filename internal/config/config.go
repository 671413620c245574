package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// Config is the validated entrypoint configuration.
type Config struct {
	Command []string // the app's argv (everything after the flags, or after "--")

	Hold        bool                              // --hold (true)
	HoldWindow  time.Duration                     // --hold-window (10m)
	MaxRestarts int                               // --max-restarts (2); >= 0
	Backoff     time.Duration                     // --backoff (1s); >= 0
	BackoffMax  time.Duration                     // --backoff-max (30s); >= Backoff
	OnLateCrash string                            // --on-late-crash (exit): "exit" | "restart"
	HoldTimeout time.Duration                     // --hold-timeout (0 = hold until released)
	Grace       time.Duration                     // --grace (10s)
	StopSignal  syscall.Signal                    // --stop-signal (TERM)
	SignalMap   map[syscall.Signal]syscall.Signal // --signal-map "TERM:QUIT,HUP:USR1" (empty, never nil)
	// ParentDeathSignal is --parent-death-signal (""): 0 for none.
	ParentDeathSignal syscall.Signal

	ProbeAddr        string        // --probe-addr (":8558"); "" disables
	AppReadyURL      string        // --app-ready-url (""); http(s) URL when set
	AppLiveURL       string        // --app-live-url ("")
	AppProbePeriod   time.Duration // --app-probe-period (2s); > 0
	AppProbeTimeout  time.Duration // --app-probe-timeout (1s); > 0
	AppProbeFailures int           // --app-probe-failure-threshold (3); >= 1
	HoldOnHang       bool          // --hold-on-hang (false); needs AppLiveURL
	// AppReady is --app-ready: "listen", "process" or "url"; without the
	// flag "url" when AppReadyURL is set, else "listen".
	AppReady string
	// StartupTimeout is --startup-timeout (HoldWindow when unset); 0 = none.
	StartupTimeout time.Duration

	SSHAddr                 string // --ssh-addr (":2222")
	SSHAuthorizedKeysFile   string // --ssh-authorized-keys ("/etc/holdfast/authorized_keys")
	SSHAuthorizedKeysInline string // HOLDFAST_SSH_AUTHORIZED_KEYS when it holds keys rather than a path
	SSHHostKey              string // --ssh-host-key ("<state-dir>/ssh_host_ed25519_key")
	SSHMaxSessions          int    // --ssh-max-sessions (16); >= 1
	SSHLoginShell           bool   // --ssh-login-shell (false)
	SSHAllowRoot            bool   // --ssh-allow-root (false): with --user, a login as root stays holdfast's uid

	StateDir    string              // --state-dir ("/var/lib/holdfast")
	KeepRuns    int                 // --keep-runs (20); >= 1
	LogMaxBytes int64               // --log-max-bytes (64MiB); >= 4096
	Capture     bool                // --capture (true); false = the app writes to holdfast's stdout/stderr directly
	TrimMemory  bool                // --trim-memory (false): page out start-up-only pages of the binary once settled
	MemoryWatch bool                // --memory-watch (true): sample the container's memory while a run lives
	JVM         string              // --jvm (auto): "auto" | "on" | "off"
	User        string              // --user (""): "user[:group]" or "uid[:gid]"
	Credential  *syscall.Credential // resolved from User; nil when User == ""

	// Warnings are problems Parse let pass (an invalid environment twin
	// that a flag overrides); the caller prints them.
	Warnings []string

	// RetainMemory is --retain-memory (8MiB); >= 4096: the memory for the
	// retained output of all runs together.
	RetainMemory int64
}

// UsageError is a bad flag, a bad value or a missing command. The caller
// prints it and exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ErrHelp is returned for -h, -help and --help; the caller prints Usage()
// and exits 0.
var ErrHelp = errors.New("help requested")

// usageErr makes a one-line error: control characters that came in with a
// value (also inside a wrapped error that repeats it) are escaped.
func usageErr(format string, a ...any) *UsageError {
	return &UsageError{Msg: oneLine(fmt.Sprintf(format, a...))}
}

// oneLine escapes the control characters of s as Go's %q would.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// EnvName is the environment twin of a flag: "hold-window" ->
// "HOLDFAST_HOLD_WINDOW".
func EnvName(flag string) string {
	return "HOLDFAST_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// origin records where a flag's value came from, so that a check across two
// flags can name the one the user actually set.
type origin int

const (
	fromDefault origin = iota
	fromEnv
	fromFlag
)

type parser struct {
	c   *Config
	src map[string]origin
	raw map[string]string // the text each value was parsed from
}

// label names a flag the way the user set it: "HOLDFAST_BACKOFF" from the
// environment, else "--backoff".
func (p *parser) label(name string) string {
	if p.src[name] == fromEnv {
		return EnvName(name)
	}
	return "--" + name
}

// invalid is the one shape of every value error.
func (p *parser) invalid(name, reason string) *UsageError {
	return usageErr("invalid value %q for %s: %s", p.raw[name], p.label(name), reason)
}

// LookupEnv is how Parse reads the environment: os.LookupEnv.
type LookupEnv func(string) (string, bool)

// Parse reads the entrypoint's args (without the program name) and the
// HOLDFAST_* twins through lookupEnv. It returns ErrHelp or a *UsageError
// on failure.
//
// An environment twin set to "" means what the empty flag means where the
// flag takes an empty value (--probe-addr= and --ssh-addr= disable the
// listener, --ssh-authorized-keys= configures no keys, and so on: see
// emptyMeans); for any other flag it counts as unset. A twin with an
// invalid value is an error unless its flag is on the command line: the
// flag wins, and the twin is ignored with a warning (Config.Warnings).
func Parse(args []string, lookupEnv LookupEnv) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	p := &parser{c: &Config{}, src: map[string]origin{}, raw: map[string]string{}}
	for _, f := range flags {
		if err := f.set(p.c, f.def); err != nil {
			// A default that does not parse is a bug, caught by the tests.
			panic(fmt.Sprintf("config: default %q of --%s: %v", f.def, f.name, err))
		}
		p.raw[f.name] = f.def
	}
	var envErrs []envError
	for _, f := range flags {
		v, ok := lookupEnv(EnvName(f.name))
		if !ok || (v == "" && !emptyMeans(f)) {
			continue
		}
		if err := p.setEnv(f, v); err != nil {
			envErrs = append(envErrs, envError{f.name, err})
		}
	}
	cmd, err := p.parseArgs(args)
	if err != nil {
		return nil, err
	}
	for _, e := range envErrs {
		if p.src[e.flag] != fromFlag {
			return nil, e.err
		}
		p.c.Warnings = append(p.c.Warnings, fmt.Sprintf("ignoring %v; --%s on the command line wins", e.err, e.flag))
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	p.c.Command = cmd
	return p.c, nil
}

// envError is an invalid environment twin, reported once the command line
// has shown whether its flag overrides it.
type envError struct {
	flag string
	err  error
}

// emptyMeans reports whether the flag takes the empty value, which then
// means something (disable, none, the default): its twin set to "" is
// applied like the empty flag.
func emptyMeans(f *flagSpec) bool {
	return f.set(&Config{}, "") == nil
}

func (p *parser) setEnv(f *flagSpec, v string) error {
	p.src[f.name], p.raw[f.name] = fromEnv, v
	if f.name == "ssh-authorized-keys" && looksLikeInlineKeys(v) {
		// The twin may hold the keys themselves (a Kubernetes Secret as an
		// env var); the file flag keeps its default.
		if err := checkInlineKeys(v); err != nil {
			return usageErr("invalid value for %s (it looks like inline keys): %v", EnvName(f.name), err)
		}
		p.c.SSHAuthorizedKeysInline = v
		return nil
	}
	if err := f.set(p.c, v); err != nil {
		return p.invalid(f.name, err.Error())
	}
	return nil
}

func (p *parser) setFlag(f *flagSpec, v string) error {
	p.src[f.name], p.raw[f.name] = fromFlag, v
	if f.name == "ssh-authorized-keys" {
		p.c.SSHAuthorizedKeysInline = "" // the flag wins over its twin, in either form
	}
	if err := f.set(p.c, v); err != nil {
		return p.invalid(f.name, err.Error())
	}
	return nil
}

const synopsis = "holdfast [FLAGS] [--] COMMAND [ARG...]"

// parseArgs applies the flags and returns the command: everything from the
// first argument that is not a flag, or everything after the first "--".
// The command is returned as a copy and never inspected, so flag-like
// arguments and later "--" belong to the app.
func (p *parser) parseArgs(args []string) ([]string, error) {
	cmd, _, err := scan(args, p.setFlag)
	if err != nil {
		return nil, err
	}
	return p.command(cmd)
}

// scan walks the flags at the front of args, calling visit for each with
// its value, and returns what follows them: from the first argument that
// is not a flag, or after the first "--" (dashdash is then set).
func scan(args []string, visit func(f *flagSpec, value string) error) (rest []string, dashdash bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args[i+1:], true, nil
		}
		if len(a) < 2 || a[0] != '-' {
			return args[i:], false, nil
		}
		typed, value, hasValue := strings.Cut(a, "=")
		name := strings.TrimPrefix(typed[1:], "-")
		if name == "" || name[0] == '-' {
			return nil, false, usageErr("bad flag syntax: %s", printable(a))
		}
		typed = printable(typed)
		if name == "h" || name == "help" {
			return nil, false, ErrHelp
		}
		f := lookup(name)
		if f == nil {
			return nil, false, usageErr("unknown flag %s (run \"holdfast --help\" for the list)", typed)
		}
		switch {
		case hasValue:
		case f.boolean:
			// "--hold false app" would run "false" with --hold on: refuse it.
			if i+1 < len(args) && isBoolWord(args[i+1]) {
				return nil, false, usageErr("%s takes no separate value: write --%s=%s (or put -- before a command named %q)",
					typed, f.name, strings.ToLower(args[i+1]), args[i+1])
			}
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return nil, false, usageErr("flag needs a value: %s", typed)
		}
		if err := visit(f, value); err != nil {
			return nil, false, err
		}
	}
	return nil, false, nil
}

// Split separates the flags in front of args from what follows them,
// without checking any value: lead are the flag arguments, rest starts at
// the first word that is not a flag, or follows "--" (dashdash). The
// dispatcher uses it to find a subcommand behind global flags
// (`holdfast --state-dir=X status`). Bad flag syntax is an error, ErrHelp
// included.
func Split(args []string) (lead, rest []string, dashdash bool, err error) {
	rest, dashdash, err = scan(args, func(*flagSpec, string) error { return nil })
	if err != nil {
		return nil, nil, false, err
	}
	n := len(args) - len(rest)
	if dashdash {
		n--
	}
	return args[:n], rest, dashdash, nil
}

// printable is s, or s quoted when it holds a character that would break
// the one-line message it goes into (a newline, a control character).
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func (p *parser) command(argv []string) ([]string, error) {
	if len(argv) == 0 {
		return nil, usageErr("no command given: usage: %s (run \"holdfast --help\" for the flags)", synopsis)
	}
	if argv[0] == "" {
		return nil, usageErr("empty command name: usage: %s", synopsis)
	}
	return slices.Clone(argv), nil
}

func isBoolWord(s string) bool {
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
}

// finish checks what spans several flags and fills in derived values.
func (p *parser) finish() error {
	c := p.c
	if c.BackoffMax < c.Backoff {
		// Blame the one the user set: "--backoff 1m" alone is wrong because
		// of the 30s default of --backoff-max.
		if p.src["backoff-max"] == fromDefault {
			return p.invalid("backoff", fmt.Sprintf("greater than --backoff-max (%s); raise --backoff-max too", c.BackoffMax))
		}
		return p.invalid("backoff-max", fmt.Sprintf("less than --backoff (%s)", c.Backoff))
	}
	if c.HoldOnHang && c.AppLiveURL == "" {
		return p.invalid("hold-on-hang", "needs --app-live-url: without it no hang can be detected")
	}
	if err := p.finishReady(); err != nil {
		return err
	}
	if !filepath.IsAbs(c.StateDir) {
		// A relative state dir would depend on the working directory of
		// each subcommand too: it is made absolute here, once.
		abs, err := filepath.Abs(c.StateDir)
		if err != nil {
			return p.invalid("state-dir", err.Error())
		}
		c.StateDir = abs
	}
	if c.SSHHostKey == "" {
		c.SSHHostKey = filepath.Join(c.StateDir, hostKeyName)
	}
	if c.User != "" {
		cred, err := resolveUser(c.User)
		if err != nil {
			return p.invalid("user", err.Error())
		}
		c.Credential = cred
	}
	return nil
}
