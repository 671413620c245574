package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func envOf(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustParse(t *testing.T, args []string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse(args, envOf(env))
	if err != nil {
		t.Fatalf("Parse(%q, %v): %v", args, env, err)
	}
	return c
}

// usageError parses and returns the message of the *UsageError it must get.
func usageError(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	c, err := Parse(args, envOf(env))
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("Parse(%q, %v) = %+v, %v; want a *UsageError", args, env, c, err)
	}
	if ue.Error() != ue.Msg {
		t.Errorf("Error() = %q, Msg = %q", ue.Error(), ue.Msg)
	}
	return ue.Msg
}

// noAccountFiles points --user resolution at files that do not exist.
func noAccountFiles(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	setAccountFiles(t, filepath.Join(dir, "passwd"), filepath.Join(dir, "group"))
}

func setAccountFiles(t *testing.T, passwd, group string) {
	t.Helper()
	oldP, oldG := passwdFile, groupFile
	passwdFile, groupFile = passwd, group
	t.Cleanup(func() { passwdFile, groupFile = oldP, oldG })
}

func TestDefaults(t *testing.T) {
	want := &Config{
		Command:               []string{"app"},
		Hold:                  true,
		HoldWindow:            10 * time.Minute,
		MaxRestarts:           2,
		Backoff:               time.Second,
		BackoffMax:            30 * time.Second,
		OnLateCrash:           "exit",
		Grace:                 10 * time.Second,
		StopSignal:            syscall.SIGTERM,
		SignalMap:             map[syscall.Signal]syscall.Signal{},
		ProbeAddr:             ":8558",
		AppProbePeriod:        2 * time.Second,
		AppProbeTimeout:       time.Second,
		AppProbeFailures:      3,
		AppReady:              "listen",
		StartupTimeout:        10 * time.Minute,
		SSHAddr:               ":2222",
		SSHAuthorizedKeysFile: "/etc/holdfast/authorized_keys",
		SSHHostKey:            "/var/lib/holdfast/ssh_host_ed25519_key",
		SSHMaxSessions:        16,
		StateDir:              "/var/lib/holdfast",
		KeepRuns:              20,
		LogMaxBytes:           64 << 20,
		RetainMemory:          8 << 20,
		Capture:               true,
		TrimMemory:            false,
		MemoryWatch:           true,
		JVM:                   "auto",
	}
	for _, getenv := range []LookupEnv{nil, envOf(nil)} {
		got, err := Parse([]string{"app"}, getenv)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
		}
	}
}

// flagCase gives two valid values for a flag (a differs from the default)
// and what each must produce.
type flagCase struct {
	a, b         string
	wantA, wantB any
	get          func(*Config) any
	pre          []string // flags the value needs to be valid
}

type cred struct {
	User string
	Cred *syscall.Credential
}

var flagCases = map[string]flagCase{
	"hold":          {a: "false", b: "true", wantA: false, wantB: true, get: func(c *Config) any { return c.Hold }},
	"hold-window":   {a: "90s", b: "1h", wantA: 90 * time.Second, wantB: time.Hour, get: func(c *Config) any { return c.HoldWindow }},
	"max-restarts":  {a: "0", b: "7", wantA: 0, wantB: 7, get: func(c *Config) any { return c.MaxRestarts }},
	"backoff":       {a: "5s", b: "0", wantA: 5 * time.Second, wantB: time.Duration(0), get: func(c *Config) any { return c.Backoff }},
	"backoff-max":   {a: "1m", b: "2m", wantA: time.Minute, wantB: 2 * time.Minute, get: func(c *Config) any { return c.BackoffMax }},
	"on-late-crash": {a: "restart", b: "EXIT", wantA: "restart", wantB: "exit", get: func(c *Config) any { return c.OnLateCrash }},
	"hold-timeout":  {a: "1h30m", b: "5m", wantA: 90 * time.Minute, wantB: 5 * time.Minute, get: func(c *Config) any { return c.HoldTimeout }},
	"grace":         {a: "0", b: "1m", wantA: time.Duration(0), wantB: time.Minute, get: func(c *Config) any { return c.Grace }},
	"stop-signal":   {a: "SIGQUIT", b: "2", wantA: syscall.SIGQUIT, wantB: syscall.SIGINT, get: func(c *Config) any { return c.StopSignal }},
	"parent-death-signal": {a: "TERM", b: "", wantA: syscall.SIGTERM, wantB: syscall.Signal(0),
		get: func(c *Config) any { return c.ParentDeathSignal }},
	"signal-map": {a: "TERM:QUIT,HUP:USR1", b: "INT:TERM",
		wantA: map[syscall.Signal]syscall.Signal{syscall.SIGTERM: syscall.SIGQUIT, syscall.SIGHUP: syscall.SIGUSR1},
		wantB: map[syscall.Signal]syscall.Signal{syscall.SIGINT: syscall.SIGTERM},
		get:   func(c *Config) any { return c.SignalMap }},
	"probe-addr": {a: "0.0.0.0:9100", b: "", wantA: "0.0.0.0:9100", wantB: "", get: func(c *Config) any { return c.ProbeAddr }},
	"app-ready-url": {a: "http://127.0.0.1:8080/actuator/health/readiness", b: "https://app.local/ready",
		wantA: "http://127.0.0.1:8080/actuator/health/readiness", wantB: "https://app.local/ready",
		get: func(c *Config) any { return c.AppReadyURL }},
	"app-live-url": {a: "http://[::1]:8080/live", b: "http://localhost/l",
		wantA: "http://[::1]:8080/live", wantB: "http://localhost/l", get: func(c *Config) any { return c.AppLiveURL }},
	"app-probe-period":            {a: "500ms", b: "10s", wantA: 500 * time.Millisecond, wantB: 10 * time.Second, get: func(c *Config) any { return c.AppProbePeriod }},
	"app-probe-timeout":           {a: "3s", b: "250ms", wantA: 3 * time.Second, wantB: 250 * time.Millisecond, get: func(c *Config) any { return c.AppProbeTimeout }},
	"app-probe-failure-threshold": {a: "1", b: "10", wantA: 1, wantB: 10, get: func(c *Config) any { return c.AppProbeFailures }},
	"hold-on-hang": {a: "true", b: "false", wantA: true, wantB: false, get: func(c *Config) any { return c.HoldOnHang },
		pre: []string{"--app-live-url=http://127.0.0.1:1/live"}},
	"app-ready": {a: "process", b: "listen", wantA: "process", wantB: "listen", get: func(c *Config) any { return c.AppReady }},
	"startup-timeout": {a: "90s", b: "0", wantA: 90 * time.Second, wantB: time.Duration(0),
		get: func(c *Config) any { return c.StartupTimeout }},
	"ssh-addr":            {a: "[::1]:2200", b: "", wantA: "[::1]:2200", wantB: "", get: func(c *Config) any { return c.SSHAddr }},
	"ssh-authorized-keys": {a: "/keys/a", b: "/keys/b", wantA: "/keys/a", wantB: "/keys/b", get: func(c *Config) any { return c.SSHAuthorizedKeysFile }},
	"ssh-host-key":        {a: "/k/host", b: "/k/other", wantA: "/k/host", wantB: "/k/other", get: func(c *Config) any { return c.SSHHostKey }},
	"ssh-max-sessions":    {a: "1", b: "100", wantA: 1, wantB: 100, get: func(c *Config) any { return c.SSHMaxSessions }},
	"ssh-allow-root":      {a: "true", b: "false", wantA: true, wantB: false, get: func(c *Config) any { return c.SSHAllowRoot }},
	"ssh-login-shell":     {a: "true", b: "false", wantA: true, wantB: false, get: func(c *Config) any { return c.SSHLoginShell }},
	"state-dir":           {a: "/tmp/hf-a", b: "/tmp/hf-b", wantA: "/tmp/hf-a", wantB: "/tmp/hf-b", get: func(c *Config) any { return c.StateDir }},
	"keep-runs":           {a: "1", b: "500", wantA: 1, wantB: 500, get: func(c *Config) any { return c.KeepRuns }},
	"log-max-bytes":       {a: "512KiB", b: "4096", wantA: int64(512 << 10), wantB: int64(4096), get: func(c *Config) any { return c.LogMaxBytes }},
	"retain-memory":       {a: "16MiB", b: "4096", wantA: int64(16 << 20), wantB: int64(4096), get: func(c *Config) any { return c.RetainMemory }},
	"capture":             {a: "false", b: "true", wantA: false, wantB: true, get: func(c *Config) any { return c.Capture }},
	"trim-memory":         {a: "true", b: "false", wantA: true, wantB: false, get: func(c *Config) any { return c.TrimMemory }},
	"memory-watch":        {a: "false", b: "true", wantA: false, wantB: true, get: func(c *Config) any { return c.MemoryWatch }},
	"jvm":                 {a: "off", b: "On", wantA: "off", wantB: "on", get: func(c *Config) any { return c.JVM }},
	"user": {a: "1234", b: "5:6",
		wantA: cred{"1234", &syscall.Credential{Uid: 1234}},
		wantB: cred{"5:6", &syscall.Credential{Uid: 5, Gid: 6}},
		get:   func(c *Config) any { return cred{c.User, c.Credential} }},
}

// TestEveryFlag checks each flag's flag forms, env twin and precedence. It
// walks the flag table, so a new flag without a case here fails.
func TestEveryFlag(t *testing.T) {
	noAccountFiles(t)
	for _, f := range flags {
		tc, ok := flagCases[f.name]
		if !ok {
			t.Errorf("--%s has no case in flagCases", f.name)
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			def := tc.get(mustParse(t, append(slices.Clone(tc.pre), "app"), nil))
			if reflect.DeepEqual(def, tc.wantA) {
				t.Fatalf("value a %q equals the default; the test could not see it applied", tc.a)
			}
			forms := [][]string{
				{"--" + f.name + "=" + tc.a},
				{"-" + f.name + "=" + tc.a},
			}
			if !f.boolean {
				forms = append(forms, []string{"--" + f.name, tc.a}, []string{"-" + f.name, tc.a})
			}
			for _, form := range forms {
				args := append(append(slices.Clone(tc.pre), form...), "app", "--x")
				c := mustParse(t, args, nil)
				if got := tc.get(c); !reflect.DeepEqual(got, tc.wantA) {
					t.Errorf("%q: got %#v, want %#v", form, got, tc.wantA)
				}
				if !slices.Equal(c.Command, []string{"app", "--x"}) {
					t.Errorf("%q: command %q", form, c.Command)
				}
			}
			env := map[string]string{EnvName(f.name): tc.a}
			if got := tc.get(mustParse(t, append(slices.Clone(tc.pre), "app"), env)); !reflect.DeepEqual(got, tc.wantA) {
				t.Errorf("env %v: got %#v, want %#v", env, got, tc.wantA)
			}
			args := append(slices.Clone(tc.pre), "--"+f.name+"="+tc.b, "app")
			if got := tc.get(mustParse(t, args, env)); !reflect.DeepEqual(got, tc.wantB) {
				t.Errorf("flag %q over env %v: got %#v, want %#v", args, env, got, tc.wantB)
			}
		})
	}
	for name := range flagCases {
		if lookup(name) == nil {
			t.Errorf("flagCases has %q, which is not a flag", name)
		}
	}
}

func TestBareBoolFlagsAreTrue(t *testing.T) {
	c := mustParse(t, []string{"--hold-on-hang", "--app-live-url=http://h/l", "--ssh-login-shell", "--hold", "app"},
		map[string]string{"HOLDFAST_HOLD": "false", "HOLDFAST_SSH_LOGIN_SHELL": "0"})
	if !c.HoldOnHang || !c.SSHLoginShell || !c.Hold {
		t.Errorf("bare bool flags: %+v", c)
	}
}

func TestHostKeyFollowsStateDir(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--state-dir", "/data/hf", "app"}, nil, "/data/hf/ssh_host_ed25519_key"},
		{[]string{"app"}, map[string]string{"HOLDFAST_STATE_DIR": "/data/x/"}, "/data/x/ssh_host_ed25519_key"},
		{[]string{"--state-dir=/s", "--ssh-host-key=/k", "app"}, nil, "/k"},
		{[]string{"--ssh-host-key=", "app"}, map[string]string{"HOLDFAST_SSH_HOST_KEY": "/k"}, "/var/lib/holdfast/ssh_host_ed25519_key"},
	} {
		if got := mustParse(t, tc.args, tc.env).SSHHostKey; got != tc.want {
			t.Errorf("%q %v: host key %q, want %q", tc.args, tc.env, got, tc.want)
		}
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"app"}, []string{"app"}},
		{[]string{"--", "app"}, []string{"app"}},
		{[]string{"--hold=false", "--", "app", "-x"}, []string{"app", "-x"}},
		{[]string{"--", "--hold=false"}, []string{"--hold=false"}},
		{[]string{"--", "-h"}, []string{"-h"}},
		{[]string{"--", "sh", "-c", "x", "--", "y"}, []string{"sh", "-c", "x", "--", "y"}},
		{[]string{"sh", "-c", "x", "--", "y"}, []string{"sh", "-c", "x", "--", "y"}},
		{[]string{"--", "--"}, []string{"--"}},
		{[]string{"app", "--help", "--hold", "false", "--nope"}, []string{"app", "--help", "--hold", "false", "--nope"}},
		{[]string{"app", "", "b", ""}, []string{"app", "", "b", ""}},
		{[]string{"-"}, []string{"-"}},
		{[]string{"--grace", "5s", "java", "-jar", "app.jar"}, []string{"java", "-jar", "app.jar"}},
		{[]string{"--hold", "--", "false"}, []string{"false"}},
		{[]string{"--hold=false", "false"}, []string{"false"}},
	} {
		if got := mustParse(t, tc.args, nil).Command; !slices.Equal(got, tc.want) {
			t.Errorf("%q: command %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestCommandIsACopy(t *testing.T) {
	args := []string{"--", "app", "x"}
	c := mustParse(t, args, nil)
	args[1], args[2] = "changed", "changed"
	if !slices.Equal(c.Command, []string{"app", "x"}) {
		t.Errorf("Command aliases args: %q", c.Command)
	}
}

func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{}, "no command given"},
		{[]string{"--"}, "no command given"},
		{[]string{"--hold=false", "--grace", "1s"}, "no command given"},
		{[]string{""}, "empty command name"},
		{[]string{"--", "", "x"}, "empty command name"},
		{[]string{"--grace"}, "flag needs a value: --grace"},
		{[]string{"--nope", "app"}, "unknown flag --nope"},
		{[]string{"-nope=1", "app"}, "unknown flag -nope"},
		{[]string{"--hold-windows=1m", "app"}, "unknown flag --hold-windows"},
		{[]string{"---hold", "app"}, "bad flag syntax: ---hold"},
		{[]string{"--=x", "app"}, "bad flag syntax: --=x"},
	} {
		msg := usageError(t, tc.args, nil)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%q: %q does not contain %q", tc.args, msg, tc.want)
		}
	}
	if msg := usageError(t, nil, nil); !strings.Contains(msg, synopsis) || !strings.Contains(msg, "--help") {
		t.Errorf("no-command message has no hint: %q", msg)
	}
}

// TestBoolTrap: "--hold false app" must not run "false app" with --hold on.
func TestBoolTrap(t *testing.T) {
	for _, args := range [][]string{
		{"--hold", "false", "app"},
		{"-hold", "FALSE", "app", "x"},
		{"--hold-on-hang", "true", "app"},
		{"--ssh-login-shell", "True", "app"},
		{"--hold", "false"},
	} {
		msg := usageError(t, args, nil)
		want := "--" + strings.TrimLeft(args[0], "-") + "=" + strings.ToLower(args[1])
		if !strings.Contains(msg, want) || !strings.Contains(msg, args[0]) {
			t.Errorf("%q: %q does not tell to write %s", args, msg, want)
		}
	}
	// Negative controls: the same words are fine where they are not a trap.
	for _, args := range [][]string{
		{"--hold=false", "app"},
		{"--hold", "app", "false"},
		{"--grace", "1s", "true"},
		{"--hold", "--", "true", "x"},
	} {
		mustParse(t, args, nil)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"-help"}, {"--hold=false", "-h", "app"}, {"--help=1"}, {"-h", "--nope"},
	} {
		if _, err := Parse(args, nil); !errors.Is(err, ErrHelp) {
			t.Errorf("%q: %v, want ErrHelp", args, err)
		}
	}
	for _, args := range [][]string{{"app", "-h"}, {"--", "-h"}, {"--user", "-h", "app"}} {
		if _, err := Parse(args, nil); errors.Is(err, ErrHelp) {
			t.Errorf("%q: ErrHelp, but -h belongs to the command or a value", args)
		}
	}
	if _, err := Parse([]string{"--hel"}, nil); errors.Is(err, ErrHelp) || err == nil {
		t.Errorf("--hel: %v, want an unknown flag error", err)
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"hold":                        "HOLDFAST_HOLD",
		"hold-window":                 "HOLDFAST_HOLD_WINDOW",
		"app-probe-failure-threshold": "HOLDFAST_APP_PROBE_FAILURE_THRESHOLD",
		"ssh-authorized-keys":         "HOLDFAST_SSH_AUTHORIZED_KEYS",
	} {
		if got := EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestParseCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	mustParse(t, []string{"--state-dir", dir, "app"}, nil)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Parse touched %s: %v", dir, err)
	}
}

// An empty twin means what the empty flag means where the flag takes ""
// (HOLDFAST_SSH_ADDR= disables ssh, as --ssh-addr= does); elsewhere it is
// unset.
func TestEmptyTwin(t *testing.T) {
	for _, f := range flags {
		env := map[string]string{EnvName(f.name): ""}
		fromEnv, err := Parse([]string{"app"}, envOf(env))
		if err != nil {
			t.Errorf("%s=: %v", EnvName(f.name), err)
			continue
		}
		want := mustParse(t, []string{"app"}, nil) // unset
		if emptyMeans(f) {
			want = mustParse(t, []string{"--" + f.name + "=", "app"}, nil)
		}
		if !reflect.DeepEqual(fromEnv, want) {
			t.Errorf("%s= gives %+v\nwant %+v", EnvName(f.name), fromEnv, want)
		}
	}
	c := mustParse(t, []string{"app"}, map[string]string{"HOLDFAST_SSH_ADDR": "", "HOLDFAST_PROBE_ADDR": ""})
	if c.SSHAddr != "" || c.ProbeAddr != "" {
		t.Errorf("empty twins left ssh on %q, probes on %q", c.SSHAddr, c.ProbeAddr)
	}
	// The flag still wins over an empty twin.
	if c := mustParse(t, []string{"--probe-addr=:9", "app"}, map[string]string{"HOLDFAST_PROBE_ADDR": ""}); c.ProbeAddr != ":9" {
		t.Errorf("probe addr %q, want the flag's :9", c.ProbeAddr)
	}
}

// A relative state dir is made absolute once, at start: subcommands run
// from another directory must find the same one.
func TestRelativeStateDirMadeAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := mustParse(t, []string{"--state-dir=rel/state", "app"}, nil)
	if c.StateDir != filepath.Join(dir, "rel/state") || c.SSHHostKey != filepath.Join(dir, "rel/state", hostKeyName) {
		t.Errorf("state dir %q, host key %q; want them under %s", c.StateDir, c.SSHHostKey, dir)
	}
	got, err := ClientStateDir([]string{"--state-dir", "rel/state"}, nil)
	if err != nil || got != c.StateDir {
		t.Errorf("ClientStateDir = %q, %v; want %q", got, err, c.StateDir)
	}
}

func TestClientStateDir(t *testing.T) {
	env := envOf(map[string]string{"HOLDFAST_STATE_DIR": "/from/env"})
	for _, c := range []struct {
		lead []string
		env  LookupEnv
		want string
		bad  string
	}{
		{nil, nil, DefaultStateDir, ""},
		{nil, env, "/from/env", ""},
		{[]string{"--state-dir=/flag"}, env, "/flag", ""},
		{[]string{"-state-dir", "/flag"}, env, "/flag", ""},
		{nil, envOf(map[string]string{"HOLDFAST_STATE_DIR": ""}), DefaultStateDir, ""},
		{[]string{"--hold-window=1m"}, nil, "", "--hold-window is an entrypoint flag"},
		{[]string{"--state-dir="}, nil, "", "must not be empty"},
		{[]string{"--nope"}, nil, "", "unknown flag"},
	} {
		got, err := ClientStateDir(c.lead, c.env)
		if c.bad != "" {
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q: %q, %v; want a usage error with %q", c.lead, got, err, c.bad)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.lead, got, err, c.want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		args, lead, rest []string
		dashdash         bool
	}{
		{[]string{"status"}, []string{}, []string{"status"}, false},
		{[]string{"--state-dir", "/x", "status", "--json"}, []string{"--state-dir", "/x"}, []string{"status", "--json"}, false},
		{[]string{"--hold=false", "--", "status"}, []string{"--hold=false"}, []string{"status"}, true},
		{[]string{"--probe-addr="}, []string{"--probe-addr="}, nil, false},
	} {
		lead, rest, dd, err := Split(c.args)
		if err != nil || !slices.Equal(lead, c.lead) || !slices.Equal(rest, c.rest) || dd != c.dashdash {
			t.Errorf("Split(%q) = %q %q %v %v", c.args, lead, rest, dd, err)
		}
	}
	if _, _, _, err := Split([]string{"--nope", "status"}); err == nil {
		t.Error("Split accepted an unknown flag")
	}
}

// TestReadyRule: --app-ready follows --app-ready-url unless set, refuses
// what contradicts it, and --startup-timeout defaults to the hold window.
func TestReadyRule(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		rule    string
		timeout time.Duration
	}{
		{[]string{"app"}, "listen", 10 * time.Minute},
		{[]string{"--app-ready-url=http://127.0.0.1:1/r", "app"}, "url", 10 * time.Minute},
		{[]string{"--app-ready=process", "--hold-window=1m", "app"}, "process", time.Minute},
		{[]string{"--app-ready=url", "--app-ready-url=http://127.0.0.1:1/r", "--startup-timeout=0", "app"}, "url", 0},
	} {
		c := mustParse(t, tc.args, nil)
		if c.AppReady != tc.rule || c.StartupTimeout != tc.timeout {
			t.Errorf("%q: rule %q timeout %s, want %q %s", tc.args, c.AppReady, c.StartupTimeout, tc.rule, tc.timeout)
		}
	}
	for _, args := range [][]string{
		{"--app-ready=url", "app"},
		{"--app-ready=listen", "--app-ready-url=http://127.0.0.1:1/r", "app"},
		{"--app-ready=port", "app"},
		{"--startup-timeout=-1s", "app"},
	} {
		_, err := Parse(args, nil)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), args[0][:strings.Index(args[0], "=")]) {
			t.Errorf("%q: err %v, want a usage error naming the flag", args, err)
		}
	}
}
