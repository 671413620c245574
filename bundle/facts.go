package bundle

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/redact"
)

// Facts is facts.json: what holdfast knows about itself, the app and the
// machine, with the app's secrets left out.
type Facts struct {
	CollectedAt time.Time `json:"collected_at"`
	// Source says who collected them: the running holdfast, or a command
	// that read the state dir without one (then the app's environment is
	// not known).
	Source      string        `json:"source,omitempty"`
	Holdfast    HoldfastFacts `json:"holdfast"`
	App         AppFacts      `json:"app"`
	Cgroup      CgroupFacts   `json:"cgroup"`
	Kernel      string        `json:"kernel"`         // /proc/sys/kernel/osrelease
	KernelBuild string        `json:"kernel_version"` // /proc/sys/kernel/version
	Hostname    string        `json:"hostname"`
	// UptimeSeconds is the machine's (/proc/uptime), not holdfast's.
	UptimeSeconds float64 `json:"uptime_seconds"`
}

// HoldfastFacts: the version and the command line holdfast was started
// with (redacted), its flags included.
type HoldfastFacts struct {
	Version string   `json:"version"`
	Args    []string `json:"args"`
	PID     int      `json:"pid"`
}

// AppFacts: the app's command and environment as holdfast starts it.
type AppFacts struct {
	Argv []string `json:"argv"`
	// JavaToolOptions and JDKJavaOptions are the effective values (with the
	// flags holdfast added), redacted; null when not set.
	JavaToolOptions *string `json:"java_tool_options"`
	JDKJavaOptions  *string `json:"jdk_java_options"`
	// Env lists every variable by name, in the app's order.
	Env []EnvVar `json:"env"`
	// EnvSource says where Env was read: the app's process, or the
	// environment holdfast starts the app with.
	EnvSource string `json:"env_source,omitempty"`
}

// EnvVar is one variable of the app's environment. Value is null unless
// the name is allow-listed and does not look secret; Hidden says why not.
type EnvVar struct {
	Name   string  `json:"name"`
	Value  *string `json:"value"`
	Hidden string  `json:"hidden,omitempty"` // "secret-looking name", "not allow-listed"
}

// CgroupFacts are the app's cgroup limits as the files say them ("max" is
// no limit); empty when the file is not there.
type CgroupFacts struct {
	Version string `json:"version"` // "v2", "v1" or "" when none is found
	// MemoryLimit: v2 memory.max, v1 memory.limit_in_bytes.
	MemoryLimit string `json:"memory_limit"`
	// MemoryHigh: v2 memory.high.
	MemoryHigh string `json:"memory_high,omitempty"`
	// CPUMax: v2 cpu.max ("<quota> <period>"); v1 "<cfs_quota_us> <cfs_period_us>".
	CPUMax string `json:"cpu_max"`
	// CPUs is quota/period, 0 when unlimited or unknown.
	CPUs float64 `json:"cpus,omitempty"`
}

// FactsInput is what the caller knows and Facts cannot find itself.
type FactsInput struct {
	Version      string
	HoldfastArgs []string // os.Args of holdfast
	HoldfastPID  int
	AppArgv      []string
	AppEnv       []string // NAME=value, the app's environment as it is started
	// ProcRoot and CgroupRoot default to /proc and /sys/fs/cgroup.
	ProcRoot   string
	CgroupRoot string
	Now        time.Time
}

// AllowedEnv reports whether a variable's value may go into facts.json
// when its name does not look secret: the JVM's option variables (JAVA_*,
// JDK_JAVA_OPTIONS, _JAVA_OPTIONS), SPRING_PROFILES_ACTIVE, LANG, TZ,
// HOSTNAME, PATH and HOLDFAST_*.
func AllowedEnv(name string) bool {
	switch name {
	case "SPRING_PROFILES_ACTIVE", "LANG", "TZ", "HOSTNAME", "PATH", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS":
		return true
	}
	return strings.HasPrefix(name, "JAVA_") || strings.HasPrefix(name, "HOLDFAST_")
}

// Env filters an environment (NAME=value entries) for facts.json: every
// name, a value only when AllowedEnv and not redact.Secret, and that value
// redacted with redact.Argv (a -Dx.password=… inside JAVA_TOOL_OPTIONS).
func Env(env []string) []EnvVar {
	out := make([]EnvVar, 0, len(env))
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		v := EnvVar{Name: name}
		switch {
		case redact.Secret(name):
			v.Hidden = "secret-looking name"
		case !AllowedEnv(name):
			v.Hidden = "not allow-listed"
		default:
			r := redactValue(name, value)
			v.Value = &r
		}
		out = append(out, v)
	}
	return out
}

// redactValue redacts a value as the argument NAME=value.
func redactValue(name, value string) string {
	r := redact.Argv([]string{name + "=" + value})[0]
	return strings.TrimPrefix(r, name+"=")
}

// lookup returns the last value of name in env, or nil.
func lookup(env []string, name string) *string {
	var found *string
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			r := redactValue(name, v)
			found = &r
		}
	}
	return found
}

// CollectFacts reads the machine's facts from ProcRoot and CgroupRoot and
// combines them with in. Whatever cannot be read is left empty.
func CollectFacts(in FactsInput) Facts {
	proc := orDefault(in.ProcRoot, "/proc")
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	f := Facts{
		CollectedAt: now.UTC(),
		Holdfast:    HoldfastFacts{Version: in.Version, Args: redact.Argv(in.HoldfastArgs), PID: in.HoldfastPID},
		App: AppFacts{
			Argv:            redact.Argv(in.AppArgv),
			JavaToolOptions: lookup(in.AppEnv, "JAVA_TOOL_OPTIONS"),
			JDKJavaOptions:  lookup(in.AppEnv, "JDK_JAVA_OPTIONS"),
			Env:             Env(in.AppEnv),
		},
		Cgroup:      readCgroup(orDefault(in.CgroupRoot, "/sys/fs/cgroup")),
		Kernel:      readLine(filepath.Join(proc, "sys/kernel/osrelease")),
		KernelBuild: readLine(filepath.Join(proc, "sys/kernel/version")),
		Hostname:    readLine(filepath.Join(proc, "sys/kernel/hostname")),
	}
	if up := strings.Fields(readLine(filepath.Join(proc, "uptime"))); len(up) > 0 {
		f.UptimeSeconds, _ = strconv.ParseFloat(up[0], 64)
	}
	return f
}

// readCgroup reads the limits of the cgroup mounted at root: v2 when
// cgroup.controllers is there, else the v1 memory and cpu controllers.
func readCgroup(root string) CgroupFacts {
	var c CgroupFacts
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		c.Version = "v2"
		c.MemoryLimit = readLine(filepath.Join(root, "memory.max"))
		c.MemoryHigh = readLine(filepath.Join(root, "memory.high"))
		c.CPUMax = readLine(filepath.Join(root, "cpu.max"))
	} else {
		mem := readLine(filepath.Join(root, "memory", "memory.limit_in_bytes"))
		quota, period := "", ""
		for _, d := range []string{"cpu,cpuacct", "cpu"} {
			quota = readLine(filepath.Join(root, d, "cpu.cfs_quota_us"))
			period = readLine(filepath.Join(root, d, "cpu.cfs_period_us"))
			if quota != "" {
				break
			}
		}
		if mem == "" && quota == "" {
			return c
		}
		c.Version = "v1"
		c.MemoryLimit = v1Limit(mem)
		if quota != "" {
			c.CPUMax = strings.TrimSpace(v1Quota(quota) + " " + period)
		}
	}
	c.CPUs = cpus(c.CPUMax)
	return c
}

// v1Limit says "max" for v1's "no limit" (a page-rounded huge number).
func v1Limit(s string) string {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n >= 1<<62 {
		return "max"
	}
	return s
}

func v1Quota(s string) string {
	if s == "-1" {
		return "max"
	}
	return s
}

// cpus is "<quota> <period>" as a number of CPUs, 0 when unlimited.
func cpus(max string) float64 {
	f := strings.Fields(max)
	if len(f) != 2 {
		return 0
	}
	q, err1 := strconv.ParseFloat(f[0], 64)
	p, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return 0
	}
	return q / p
}

// readLine is a small file's first line, trimmed; "" when unreadable.
func readLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, _ := f.Read(buf)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	return strings.TrimSpace(line)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
