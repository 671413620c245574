package memwatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (path relative to root → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const hybridMountinfo = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func v1Files(dir, limit string) map[string]string {
	return map[string]string{
		dir + "/memory.usage_in_bytes":     "52428800\n",
		dir + "/memory.limit_in_bytes":     limit + "\n",
		dir + "/memory.max_usage_in_bytes": "60000000\n",
		dir + "/memory.oom_control":        "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
		dir + "/memory.stat":               "cache 4096\nrss 52424704\nhierarchical_memory_limit 67108864\n",
	}
}

func TestFindV1Hybrid(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("sys/fs/cgroup/memory/process_api/abc", "67108864"))
	writeTree(t, root, map[string]string{
		"sys/fs/cgroup/unified/cgroup.procs": "",
		"proc/cgroup":                        "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n",
		"proc/mountinfo":                     hybridMountinfo,
	})
	cg, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != nil {
		t.Fatal(err)
	}
	want := Cgroup{Version: V1, Dir: filepath.Join(root, "sys/fs/cgroup/memory/process_api/abc")}
	if cg != want {
		t.Fatalf("got %+v, want %+v", cg, want)
	}
	r, err := cg.Read()
	if err != nil {
		t.Fatal(err)
	}
	if r != (Reading{Usage: 52428800, Limit: 67108864, Peak: 60000000, OOMKills: 3}) {
		t.Fatalf("reading %+v", r)
	}
	st, err := cg.Stat()
	if err != nil || st["rss"] != 52424704 || st["hierarchical_memory_limit"] != 67108864 {
		t.Fatalf("stat %v %v", st, err)
	}
}

func TestV1NoLimit(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("m", "9223372036854771712"))
	cg := Cgroup{Version: V1, Dir: filepath.Join(root, "m")}
	u, l, err := cg.Usage()
	if err != nil || u != 52428800 || l != NoLimit {
		t.Fatalf("usage %d limit %d err %v", u, l, err)
	}
}

// A v1 container without a cgroup namespace: /proc/self/cgroup shows the
// host path, the mount shows the container's own cgroup as its root.
func TestFindV1ContainerBindMount(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("sys/fs/cgroup/memory", "67108864"))
	writeTree(t, root, map[string]string{
		"proc/cgroup":    "4:memory:/kubepods/pod1/ctr\n",
		"proc/mountinfo": "34 30 0:31 /kubepods/pod1/ctr /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n",
	})
	cg, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != nil {
		t.Fatal(err)
	}
	if cg.Version != V1 || cg.Dir != filepath.Join(root, "sys/fs/cgroup/memory") {
		t.Fatalf("got %+v", cg)
	}
}

func v2Files(dir, max string, peak bool) map[string]string {
	m := map[string]string{
		dir + "/memory.current": "1048576\n",
		dir + "/memory.max":     max + "\n",
		dir + "/memory.events":  "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 1\n",
		dir + "/memory.stat":    "anon 900000\nfile 100000\n",
	}
	if peak {
		m[dir+"/memory.peak"] = "2097152\n"
	}
	return m
}

// A v2 container with a private cgroup namespace: "0::/" and the unified
// hierarchy mounted at /sys/fs/cgroup.
func TestFindV2Container(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("sys/fs/cgroup", "134217728", true))
	writeTree(t, root, map[string]string{
		"proc/cgroup":    "0::/\n",
		"proc/mountinfo": "25 20 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
	})
	cg, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != nil {
		t.Fatal(err)
	}
	if cg != (Cgroup{Version: V2, Dir: filepath.Join(root, "sys/fs/cgroup")}) {
		t.Fatalf("got %+v", cg)
	}
	r, err := cg.Read()
	if err != nil {
		t.Fatal(err)
	}
	if r != (Reading{Usage: 1048576, Limit: 134217728, Peak: 2097152, OOMKills: 1}) {
		t.Fatalf("reading %+v", r)
	}
}

// A v2 host: the process's cgroup is a path below the mount; memory.max is
// "max" and an older kernel has no memory.peak.
func TestFindV2HostNoLimitNoPeak(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("sys/fs/cgroup/system.slice/app.service", "max", false))
	writeTree(t, root, map[string]string{
		"proc/cgroup":    "0::/system.slice/app.service\n",
		"proc/mountinfo": "25 20 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
	})
	cg, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cg.Read()
	if err != nil {
		t.Fatal(err)
	}
	if r != (Reading{Usage: 1048576, Limit: NoLimit, OOMKills: 1}) {
		t.Fatalf("reading %+v", r)
	}
}

// After unshare --cgroup without a new mount, the old mount shows the
// hierarchy from above the namespace: refuse rather than read the wrong
// cgroup (here the host's root).
func TestFindOutsideNamespace(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("sys/fs/cgroup/memory", "9223372036854771712"))
	writeTree(t, root, map[string]string{
		"proc/cgroup":    "4:memory:/\n",
		"proc/mountinfo": "34 30 0:31 /../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
	})
	_, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != ErrOutsideNamespace {
		t.Fatalf("err %v, want ErrOutsideNamespace", err)
	}
}

// A container runtime's fresh mount over a tmpfs: mountinfo lists the
// host's hidden mount first (outside the namespace) and the container's
// later; the later one wins.
func TestFindHiddenMount(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("sys/fs/cgroup/memory", "100663296"))
	writeTree(t, root, map[string]string{
		"proc/cgroup": "4:memory:/\n",
		"proc/mountinfo": "53 49 0:31 /../../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
			"66 65 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup memcg rw,memory\n",
	})
	cg, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != nil || cg.Dir != filepath.Join(root, "sys/fs/cgroup/memory") {
		t.Fatalf("got %+v %v", cg, err)
	}
}

func TestFindNone(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"proc/cgroup":    "0::/\n",
		"proc/mountinfo": "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n",
	})
	_, err := FindFrom(filepath.Join(root, "proc/cgroup"), filepath.Join(root, "proc/mountinfo"), root)
	if err != ErrNoCgroup {
		t.Fatalf("err %v, want ErrNoCgroup", err)
	}
}

func TestMalformedFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"a/memory.current": "lots\n",
		"a/memory.max":     "max\n",
		"a/memory.events":  "oom 1\n",
	})
	cg := Cgroup{Version: V2, Dir: filepath.Join(root, "a")}
	if _, err := cg.Read(); err == nil || !strings.Contains(err.Error(), "memory.current") {
		t.Fatalf("want an error naming memory.current, got %v", err)
	}
	if _, err := cg.OOMKills(); err == nil {
		t.Fatal("memory.events without oom_kill: want an error")
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b\\`); got != `/a b\\` {
		t.Fatalf("got %q", got)
	}
}

func TestParseVmRSS(t *testing.T) {
	v, err := parseVmRSS([]byte("Name:\tjava\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\nRssAnon:\t 1 kB\n"))
	if err != nil || v != 2048*1024 {
		t.Fatalf("got %d %v", v, err)
	}
	v, err = parseVmRSS([]byte("Name:\tzombie\nState:\tZ (zombie)\n"))
	if err != nil || v != 0 {
		t.Fatalf("zombie: got %d %v", v, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\nVmRSS:\t12 MB\n")); err == nil {
		t.Fatal("want an error for a unit other than kB")
	}
	own, err := RSS(os.Getpid())
	if err != nil || own == 0 {
		t.Fatalf("own RSS %d %v", own, err)
	}
}

func TestOOMKilledDuring(t *testing.T) {
	if OOMKilledDuring(3, 3) || !OOMKilledDuring(3, 4) {
		t.Fatal("OOMKilledDuring")
	}
}
