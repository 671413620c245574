package kubelet

// One standalone node: containerd and the kubelet started by the test inside the test's
// network namespace, configured per NOTES §3. Everything lives under one fixed root that
// the teardown (teardown_test.go) removes again.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	nodeName   = "holdfast-e2e"  // --hostname-override; static pod x shows as x-holdfast-e2e
	cgroupRoot = "/holdfast-e2e" // the kubelet's cgroupRoot: kubepods and every pod go under it
	cniNetwork = "holdfast-e2e"  // the CNI network name (host-local and libcni key files by it)
	cniBridge  = "hf-e2e0"
	podSubnet  = "10.199.0.0/24" // only inside the test's namespace, so it cannot clash
	// readOnlyPort serves /pods (with the real restartCount and ready) and /metrics/probes
	// without auth; only the test's namespace can reach it.
	readOnlyPort = 10255
	healthzPort  = 10248
	pauseImage   = "holdfast.local/pause:e2e"
)

// cluster is the running node.
type cluster struct {
	t     testing.TB
	tools tools
	root  string // the fixed root: everything the run creates on disk

	netns      string // the test's network namespace, bound to a file under the root
	sock       string // containerd's CRI socket
	manifests  string // the kubelet's staticPodPath
	podLogs    string // the kubelet's podLogsDir
	containerd *daemon
	kubelet    *daemon
}

// defaultRoot is fixed rather than a fresh temp dir, so that a run killed before its
// cleanup is swept by the next one (teardown knows where to look).
func defaultRoot() string {
	if r := os.Getenv("HOLDFAST_E2E_KUBELET_ROOT"); r != "" {
		return r
	}
	return "/var/tmp/holdfast-e2e-kubelet"
}

func (c *cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.root}, elem...)...)
}

// startCluster sweeps what an earlier run left, starts containerd, imports the images of
// the OCI layout tar archive and starts the kubelet. Cleanup tears it all down.
func startCluster(t *testing.T, tl tools, archive string) *cluster {
	t.Helper()
	c := &cluster{t: t, tools: tl, root: defaultRoot()}
	lockRoot(t, c.root)
	if left := teardown(c.root); len(left) > 0 {
		t.Logf("swept an earlier run:\n  %s", strings.Join(left, "\n  "))
	}
	t.Cleanup(c.stop)

	c.netns = c.path("netns")
	c.sock = c.path("containerd", "containerd.sock")
	c.manifests = c.path("manifests")
	c.podLogs = c.path("pod-logs")
	for _, d := range []string{"logs", "containerd", "runc", "cni/net.d", "cni/ipam", "kubelet/root",
		"kubelet/pki", "kubelet/volume-plugins", "manifests", "pod-logs", "images"} {
		if err := os.MkdirAll(c.path(d), 0o755); err != nil {
			t.Fatalf("cannot create %s: %v", c.path(d), err)
		}
	}
	// A persistent namespace bound to a file under the root, not `ip netns add`: that
	// would also turn /run/netns into a shared mount for good.
	writeFile(t, c.netns, "")
	if _, err := run("unshare", "--net="+c.netns, "true"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("nsenter", "--net="+c.netns, "ip", "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	if err := makeCgroupRoot(); err != nil {
		t.Fatal(err)
	}

	c.writeContainerdConfig(t)
	writeFile(t, c.path("crictl.yaml"), fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\n",
		c.sock, c.sock))
	start := time.Now()
	c.containerd = startDaemon(t, "containerd", c.netns, c.path("logs", "containerd.log"),
		tl.containerd, "--config", c.path("containerd", "config.toml"))
	err := waitFor(30*time.Second, 100*time.Millisecond, func() error {
		if c.containerd.exited() {
			return fmt.Errorf("containerd exited: %v", c.containerd.err)
		}
		_, err := c.crictl("info")
		return err
	})
	if err != nil {
		t.Fatalf("cannot start containerd: %v\n%s", err, c.containerd.tail(40))
	}
	t.Logf("containerd up in %v", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if _, err := run(tl.ctr, "--address", c.sock, "--namespace", "k8s.io", "images", "import", archive); err != nil {
		t.Fatal(err)
	}
	t.Logf("images imported in %v", time.Since(start).Round(time.Millisecond))

	c.writeKubeletConfig(t)
	start = time.Now()
	c.kubelet = startDaemon(t, "kubelet", c.netns, c.path("logs", "kubelet.log"),
		tl.kubelet, "--config", c.path("kubelet", "config.yaml"),
		"--root-dir", c.path("kubelet", "root"), "--cert-dir", c.path("kubelet", "pki"),
		"--hostname-override", nodeName, "--v", "2")
	err = waitFor(60*time.Second, 200*time.Millisecond, func() error {
		if c.kubelet.exited() {
			return fmt.Errorf("kubelet exited: %v", c.kubelet.err)
		}
		body, err := c.get(fmt.Sprintf("http://127.0.0.1:%d/healthz", healthzPort))
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(body)) != "ok" {
			return fmt.Errorf("healthz says %q", body)
		}
		_, err = c.get(fmt.Sprintf("http://127.0.0.1:%d/pods", readOnlyPort))
		return err
	})
	if err != nil {
		t.Fatalf("cannot start the kubelet: %v\n%s", err, c.kubelet.tail(60))
	}
	t.Logf("kubelet up in %v", time.Since(start).Round(time.Millisecond))
	return c
}

// writeContainerdConfig: own root, state, socket and runc root; cgroupfs; a local pause
// image; the private CNI dirs; restrict_oom_score_adj, because root lacks
// CAP_SYS_RESOURCE on these machines and the sandbox's -998 fails every pod with "can't
// get final child's PID from pipe: EOF" (NOTES §3).
func (c *cluster) writeContainerdConfig(t testing.TB) {
	t.Helper()
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q

[grpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  # The pods' network namespaces under the state dir, not the global /var/run/netns:
  # the teardown then finds them with every other mount under the root.
  netns_mounts_under_state_dir = true

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = %q

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = %q
  conf_dir = %q
  max_conf_num = 1
`, c.path("containerd", "root"), c.path("containerd", "state"), c.sock, c.path("containerd", "opt"),
		pauseImage, c.path("runc"), c.tools.cniBin, c.path("cni", "net.d"))
	writeFile(t, c.path("containerd", "config.toml"), cfg)

	// One bridge network with host-local addresses; containerd adds the pod's loopback
	// itself with the loopback plugin. The conf dir is private, so ours is the only file
	// (in a shared /etc/cni/net.d it would have to sort first, NOTES §3).
	conflist := fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": %q,
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
`, cniNetwork, cniBridge, c.path("cni", "ipam"), podSubnet)
	writeFile(t, c.path("cni", "net.d", "10-holdfast-e2e.conflist"), conflist)
}

// writeKubeletConfig: standalone (no kubeconfig), static pods only, NOTES §3's settings.
func (c *cluster) writeKubeletConfig(t testing.TB) {
	t.Helper()
	// podLogsDir is under the root, which every run starts without: static pods keep
	// their UIDs across runs (a hash of manifest, node and path), and the kubelet takes
	// a restartCount back from old pod log files (NOTES §3).
	cfg := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
staticPodPath: %s
fileCheckFrequency: 1s
podLogsDir: %s
volumePluginDir: %s
cgroupDriver: cgroupfs
cgroupRoot: %s
# Kubernetes 1.35+ refuses cgroup v1 unless told otherwise; these machines are hybrid v1.
failCgroupV1: false
failSwapOn: false
# The kubelet's own oom_score_adj -999 needs CAP_SYS_RESOURCE, which root lacks here.
oomScoreAdj: 0
address: 127.0.0.1
readOnlyPort: %d
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
# A shared box's disk and memory are not the pods' business: no evictions, no image GC.
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: ""
`, c.sock, c.sock, c.manifests, c.podLogs, c.path("kubelet", "volume-plugins"), cgroupRoot,
		readOnlyPort, healthzPort)
	writeFile(t, c.path("kubelet", "config.yaml"), cfg)
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatalf("cannot write %s: %v", path, err)
	}
}

// stop is the Cleanup: pods first (so the kubelet stops them gracefully and containerd
// releases their networks), then the daemons, then the sweep of what is left.
func (c *cluster) stop() {
	t := c.t
	if c.kubelet != nil && !c.kubelet.exited() {
		c.deleteAllPods()
	}
	if t.Failed() {
		if c.kubelet != nil {
			t.Logf("kubelet log (tail):\n%s", c.kubelet.tail(80))
		}
		if c.containerd != nil {
			t.Logf("containerd log (tail):\n%s", c.containerd.tail(40))
		}
	}
	if c.kubelet != nil {
		if err := c.kubelet.stop(20 * time.Second); err != nil {
			t.Errorf("cannot stop the kubelet cleanly: %v", err)
		}
	}
	// The kubelet makes its root dir an rshared bind mount of itself at start and leaves
	// it there (as it does on a real node): removing it is not a leftover.
	_ = syscall.Unmount(c.path("kubelet", "root"), syscall.MNT_DETACH)
	if c.containerd != nil && !c.containerd.exited() {
		if out, err := c.crictl("rmp", "--all", "--force"); err != nil {
			t.Errorf("cannot remove the pod sandboxes: %v\n%s", err, out)
		}
		if err := c.containerd.stop(20 * time.Second); err != nil {
			t.Errorf("cannot stop containerd cleanly: %v", err)
		}
	}
	if left := teardown(c.root); len(left) > 0 {
		t.Errorf("the teardown found leftovers:\n  %s", strings.Join(left, "\n  "))
	}
	if left := leftovers(c.root); len(left) > 0 {
		t.Errorf("still there after the teardown:\n  %s", strings.Join(left, "\n  "))
	}
}

// deleteAllPods removes every manifest and waits for the kubelet to stop the pods.
func (c *cluster) deleteAllPods() {
	entries, _ := os.ReadDir(c.manifests)
	for _, e := range entries {
		_ = os.Remove(filepath.Join(c.manifests, e.Name()))
	}
	err := waitFor(90*time.Second, 250*time.Millisecond, func() error {
		out, err := c.crictl("ps", "--quiet", "--state", "running")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("containers still running: %s", strings.Fields(out))
		}
		return nil
	})
	if err != nil {
		c.t.Errorf("cannot stop the pods by removing their manifests: %v", err)
	}
}
