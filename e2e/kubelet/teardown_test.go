package kubelet

// The teardown removes what a run may leave behind, whether the run ended normally (the
// daemons are stopped by then) or was killed (then this sweeps at the next start):
// processes that name the root (shims, a stray daemon), processes in the cgroup root,
// mounts under the root (among them the pods' and the test's network namespaces), the
// cgroup tree, the kubelet's /var/log/containers links, libcni's result cache entries,
// and the root itself.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// teardown removes everything the run under root made and returns what it had to remove
// by force: nothing after a clean stop (the cgroup tree, the test's network namespace, the
// log links and the root itself are always removed here and not reported).
func teardown(root string) []string {
	var did []string
	note := func(format string, a ...any) { did = append(did, fmt.Sprintf(format, a...)) }

	for _, pid := range pidsNaming(root) {
		cmd := cmdline(pid)
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			note("killed pid %d (%s)", pid, cmd)
		}
	}
	if n := killCgroupTree(); n > 0 {
		note("killed %d processes in cgroup %s", n, cgroupRoot)
	}
	for _, m := range mountsUnder(root) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			note("cannot unmount %s: %v", m, err)
		} else if m != filepath.Join(root, "netns") {
			// The test's own namespace is always unbound here, ending it and the bridge.
			note("unmounted %s", m)
		}
	}
	for _, d := range cgroupDirs() {
		if err := removeCgroupTree(d); err != nil {
			note("%v", err)
		}
	}
	if links, err := filepath.Glob("/var/log/containers/*.log"); err == nil {
		for _, l := range links {
			// The kubelet removes a link with its container, by a GC that may not have
			// run before it was stopped: removing them is part of a normal teardown.
			if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, root+"/") {
				_ = os.Remove(l)
			}
		}
	}
	// libcni caches each ADD under <network>-<sandbox>-<ifname> until the DEL that a
	// killed run never sent: ours by network name, and containerd's own loopback network
	// by the sandbox ids in the root.
	cached, _ := filepath.Glob("/var/lib/cni/results/" + cniNetwork + "-*")
	for _, dir := range []string{"containerd/state/io.containerd.grpc.v1.cri/sandboxes",
		"containerd/root/io.containerd.grpc.v1.cri/sandboxes"} {
		sandboxes, _ := os.ReadDir(filepath.Join(root, dir))
		for _, sb := range sandboxes {
			cached = append(cached, "/var/lib/cni/results/cni-loopback-"+sb.Name()+"-lo")
		}
	}
	slices.Sort(cached)
	for _, f := range slices.Compact(cached) {
		if os.Remove(f) == nil {
			note("removed the CNI cache entry %s", f)
		}
	}
	if err := os.RemoveAll(root); err != nil {
		note("cannot remove %s: %v", root, err)
	}
	return did
}

// leftovers lists what is still there after a teardown: it must be nothing.
func leftovers(root string) []string {
	var left []string
	if _, err := os.Stat(root); err == nil {
		left = append(left, "the root "+root)
	}
	for _, m := range mountsUnder(root) {
		left = append(left, "mount "+m)
	}
	for _, d := range cgroupDirs() {
		left = append(left, "cgroup "+d)
	}
	for _, pid := range pidsNaming(root) {
		left = append(left, fmt.Sprintf("process %d: %s", pid, cmdline(pid)))
	}
	return left
}

// pidsNaming lists processes (other than this one) whose command line mentions root:
// containerd, the kubelet and every containerd-shim (-address <root>/...).
func pidsNaming(root string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(cmdline(pid), root+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.TrimSpace(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// mountsUnder lists the mount points at or below root, deepest first.
func mountsUnder(root string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if m := fields[4]; m == root || strings.HasPrefix(m, root+"/") {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return slices.Compact(ms)
}

// cgroupMounts lists the mount points of every cgroup hierarchy, v1 and v2 (in hybrid
// mode runc also makes each container's cgroup in the unified one).
func cgroupMounts() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var ms []string
	for _, line := range strings.Split(string(b), "\n") {
		_, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		if fs := strings.Fields(post); len(fs) > 0 && (fs[0] == "cgroup" || fs[0] == "cgroup2") {
			ms = append(ms, strings.Fields(line)[4])
		}
	}
	return ms
}

// cgroupDirs lists our cgroup root in each hierarchy that has it.
func cgroupDirs() []string {
	var ds []string
	for _, m := range cgroupMounts() {
		d := filepath.Join(m, cgroupRoot)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			ds = append(ds, d)
		}
	}
	return ds
}

// makeCgroupRoot creates the kubelet's cgroupRoot in every hierarchy (the kubelet refuses
// a cgroupRoot that does not exist), with cpuset's cpus and mems copied from the top, as
// a v1 cpuset cgroup cannot take tasks while they are empty.
func makeCgroupRoot() error {
	for _, m := range cgroupMounts() {
		d := filepath.Join(m, cgroupRoot)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("cannot create the cgroup %s: %w", d, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(m, f)); err == nil {
				if err := os.WriteFile(filepath.Join(d, f), v, 0o644); err != nil {
					return fmt.Errorf("cannot set %s of %s: %w", f, d, err)
				}
			}
		}
	}
	return nil
}

// killCgroupTree SIGKILLs every process in the cgroup root (any hierarchy) until none is
// left, for up to 30 s; it returns how many it killed.
func killCgroupTree() int {
	killed := 0
	_ = waitFor(30*time.Second, 50*time.Millisecond, func() error {
		var pids []int
		for _, d := range cgroupDirs() {
			_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() && e.Name() == "cgroup.procs" {
					b, _ := os.ReadFile(p)
					for _, f := range strings.Fields(string(b)) {
						if pid, err := strconv.Atoi(f); err == nil {
							pids = append(pids, pid)
						}
					}
				}
				return nil
			})
		}
		slices.Sort(pids)
		pids = slices.Compact(pids)
		for _, pid := range pids {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		if len(pids) > 0 {
			return errNotYet
		}
		return nil
	})
	return killed
}

// removeCgroupTree removes d and its children, deepest first (a cgroup is removed by
// rmdir, and only once it has no children and no tasks).
func removeCgroupTree(d string) error {
	var dirs []string
	_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	for _, p := range dirs {
		err := waitFor(10*time.Second, 50*time.Millisecond, func() error {
			if err := syscall.Rmdir(p); err != nil && err != syscall.ENOENT {
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("cannot remove the cgroup %s: %w", p, err)
		}
	}
	return nil
}
