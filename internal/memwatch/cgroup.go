package memwatch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Version is the cgroup interface a Cgroup speaks.
type Version int

const (
	V1 Version = 1 // the v1 memory controller
	V2 Version = 2 // the unified hierarchy
)

func (v Version) String() string { return "v" + strconv.Itoa(int(v)) }

// Cgroup is one memory cgroup directory.
type Cgroup struct {
	Version Version
	Dir     string // e.g. /sys/fs/cgroup or /sys/fs/cgroup/memory/<path>
}

// NoLimit is the Limit of a Reading when the cgroup has none.
const NoLimit = 0

// v1Unlimited: a v1 limit at or above this is the kernel's "no limit"
// (PAGE_COUNTER_MAX pages, 9223372036854771712 bytes with 4 KiB pages).
const v1Unlimited = 1 << 62

// Reading is one look at a cgroup's memory. Zero values mean "not known".
type Reading struct {
	Usage    uint64 // memory.current / memory.usage_in_bytes
	Limit    uint64 // memory.max / memory.limit_in_bytes; NoLimit if none
	Peak     uint64 // memory.peak / memory.max_usage_in_bytes; 0 if absent
	OOMKills uint64 // memory.events oom_kill / memory.oom_control oom_kill
}

// ErrNoCgroup is returned by Find when the process has no memory cgroup it
// can read.
var ErrNoCgroup = errors.New("memwatch: no memory cgroup found")

// ErrOutsideNamespace is returned by Find when the only cgroup mount shows
// a hierarchy from above the process's cgroup namespace (a mount root of
// "/.."), as after unshare --cgroup without a new mount: the process's
// cgroup cannot be told from there.
var ErrOutsideNamespace = errors.New("memwatch: the cgroup mount's root is outside this cgroup namespace")

// Find returns the memory cgroup of the calling process.
func Find() (Cgroup, error) {
	return FindFrom("/proc/self/cgroup", "/proc/self/mountinfo", "")
}

// FindFrom is Find with the two proc files named and every mount point
// prefixed with root (for tests on a fake tree; "" on a real system).
func FindFrom(procCgroup, mountinfo, root string) (Cgroup, error) {
	cgData, err := os.ReadFile(procCgroup)
	if err != nil {
		return Cgroup{}, err
	}
	miData, err := os.ReadFile(mountinfo)
	if err != nil {
		return Cgroup{}, err
	}
	paths := parseProcCgroup(cgData)
	mounts := parseMountinfo(miData)
	// A later mount at the same point hides an earlier one: try the
	// latest first.
	slices.Reverse(mounts)
	outside := false
	// v1 memory controller first: on a hybrid host the unified hierarchy
	// exists but carries no memory controller.
	if p, ok := paths["memory"]; ok {
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasOption(m.superOpts, "memory") {
				if isOutside(m) {
					outside = true
					continue
				}
				if dir, ok := resolve(m, p, root); ok {
					return Cgroup{Version: V1, Dir: dir}, nil
				}
			}
		}
	}
	if p, ok := paths[""]; ok {
		for _, m := range mounts {
			if m.fstype == "cgroup2" {
				if isOutside(m) {
					outside = true
					continue
				}
				dir, ok := resolve(m, p, root)
				if ok && fileExists(filepath.Join(dir, "memory.current")) {
					return Cgroup{Version: V2, Dir: dir}, nil
				}
			}
		}
	}
	if outside {
		return Cgroup{}, ErrOutsideNamespace
	}
	return Cgroup{}, ErrNoCgroup
}

// isOutside reports whether a mount shows the hierarchy from above the
// reader's cgroup namespace.
func isOutside(m mount) bool {
	return m.root == "/.." || strings.HasPrefix(m.root, "/../")
}

// parseProcCgroup maps each controller of /proc/<pid>/cgroup to its path;
// the unified hierarchy ("0::/path") maps from "".
func parseProcCgroup(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			if parts[0] == "0" {
				out[""] = parts[2]
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

type mount struct {
	root, point, fstype, superOpts string
}

// parseMountinfo reads the fields of /proc/<pid>/mountinfo that locate a
// cgroup: the mount's root inside its hierarchy, the mount point, the
// filesystem type and the super options.
func parseMountinfo(data []byte) []mount {
	var out []mount
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		out = append(out, mount{
			root:      unescapeMount(fields[3]),
			point:     unescapeMount(fields[4]),
			fstype:    fields[sep+1],
			superOpts: fields[sep+3],
		})
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 etc.) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// resolve turns a cgroup path from /proc/self/cgroup into a directory under
// mount m. The mount shows the hierarchy from m.root down; inside a
// container with a private cgroup namespace both are "/", on a host (or a
// container without one) the path starts with the mount's root.
func resolve(m mount, cgPath, root string) (string, bool) {
	rel := cgPath
	switch {
	case m.root == "/":
	case rel == m.root:
		rel = "/"
	case strings.HasPrefix(rel, m.root+"/"):
		rel = strings.TrimPrefix(rel, m.root)
	default:
		// The process's cgroup is outside what this mount shows; a
		// container that bind-mounts its own cgroup at the mount point
		// sees its own files there.
		rel = "/"
	}
	dir := filepath.Join(root+m.point, rel)
	return dir, dirExists(dir)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Read takes one look at the cgroup. Usage and Limit are required; the
// others are left 0 when their files are absent.
func (c Cgroup) Read() (Reading, error) {
	var r Reading
	var err error
	switch c.Version {
	case V2:
		if r.Usage, err = readUint(c.file("memory.current")); err != nil {
			return r, err
		}
		if r.Limit, err = readLimitV2(c.file("memory.max")); err != nil {
			return r, err
		}
		r.Peak, _ = readUint(c.file("memory.peak"))
	case V1:
		if r.Usage, err = readUint(c.file("memory.usage_in_bytes")); err != nil {
			return r, err
		}
		if r.Limit, err = readUint(c.file("memory.limit_in_bytes")); err != nil {
			return r, err
		}
		if r.Limit >= v1Unlimited {
			r.Limit = NoLimit
		}
		r.Peak, _ = readUint(c.file("memory.max_usage_in_bytes"))
	default:
		return r, fmt.Errorf("memwatch: unknown cgroup version %d", c.Version)
	}
	r.OOMKills, _ = c.OOMKills()
	return r, nil
}

// Usage reads only the current usage and the limit: the two files a sample
// needs.
func (c Cgroup) Usage() (usage, limit uint64, err error) {
	if c.Version == V2 {
		if usage, err = readUint(c.file("memory.current")); err != nil {
			return 0, 0, err
		}
		limit, err = readLimitV2(c.file("memory.max"))
		return usage, limit, err
	}
	if usage, err = readUint(c.file("memory.usage_in_bytes")); err != nil {
		return 0, 0, err
	}
	if limit, err = readUint(c.file("memory.limit_in_bytes")); err != nil {
		return 0, 0, err
	}
	if limit >= v1Unlimited {
		limit = NoLimit
	}
	return usage, limit, nil
}

// OOMKills reads how many processes the kernel's OOM killer has killed in
// this cgroup: "oom_kill" of memory.events on v2 (which counts the subtree),
// of memory.oom_control on v1 (kernels 4.13 and later).
func (c Cgroup) OOMKills() (uint64, error) {
	name := "memory.events"
	if c.Version == V1 {
		name = "memory.oom_control"
	}
	data, err := os.ReadFile(c.file(name))
	if err != nil {
		return 0, err
	}
	v, ok := keyedValue(data, "oom_kill")
	if !ok {
		return 0, fmt.Errorf("memwatch: %s has no oom_kill line", c.file(name))
	}
	return v, nil
}

// OOMKilledDuring reports whether the OOM-kill counter rose between two
// readings taken before and after a run: the kernel OOM-killed something
// in this cgroup during the run.
func OOMKilledDuring(before, after uint64) bool { return after > before }

// StatPath is the path of the cgroup's memory.stat.
func (c Cgroup) StatPath() string { return c.file("memory.stat") }

// Stat reads memory.stat into a map of its keys to their values.
func (c Cgroup) Stat() (map[string]uint64, error) {
	data, err := os.ReadFile(c.StatPath())
	if err != nil {
		return nil, err
	}
	return parseKeyed(data), nil
}

func (c Cgroup) file(name string) string { return filepath.Join(c.Dir, name) }

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memwatch: %s: %w", path, err)
	}
	return v, nil
}

func readLimitV2(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := string(bytes.TrimSpace(data))
	if s == "max" {
		return NoLimit, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memwatch: %s: %w", path, err)
	}
	return v, nil
}

// parseKeyed reads "key value" lines (memory.stat, memory.events,
// memory.oom_control).
func parseKeyed(data []byte) map[string]uint64 {
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			out[f[0]] = v
		}
	}
	return out
}

func keyedValue(data []byte, key string) (uint64, bool) {
	v, ok := parseKeyed(data)[key]
	return v, ok
}

// parseVmRSS finds "VmRSS: <n> kB" in a /proc/<pid>/status without
// allocating. A process without an address space (a zombie, a kernel
// thread) has no such line: its RSS is 0.
func parseVmRSS(status []byte) (uint64, error) {
	const key = "\nVmRSS:"
	i := bytes.Index(status, []byte(key))
	if i < 0 {
		return 0, nil
	}
	line := status[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, fmt.Errorf("memwatch: malformed VmRSS line %q", line)
	}
	var kb uint64
	for _, c := range f[0] {
		if c < '0' || c > '9' || kb > (1<<54) {
			return 0, fmt.Errorf("memwatch: malformed VmRSS line %q", line)
		}
		kb = kb*10 + uint64(c-'0')
	}
	return kb * 1024, nil
}
