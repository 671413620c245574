package kubelet

// The tools the test drives (kubelet, crictl, containerd, ctr, the CNI plugins) come from
// scripts/kubelet-env.sh, which installs or builds what is missing and prints where each
// is. The holdfast binary is $HOLDFAST_BIN or built here, statically, as it ships.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// repoRoot is the holdfast repository, two levels up from this package.
const repoRoot = "../.."

// tools are the absolute paths scripts/kubelet-env.sh reports.
type tools struct {
	kubelet, crictl, containerd, ctr, cniBin string
}

// prepareTools runs scripts/kubelet-env.sh (idempotent: seconds when cached, minutes
// when it must build the kubelet) and reads its KEY=VALUE lines.
func prepareTools(t testing.TB) tools {
	t.Helper()
	script, err := filepath.Abs(filepath.Join(repoRoot, "scripts", "kubelet-env.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("cannot prepare the kubelet environment (%s): %v\n%s", script, err, stderr.String())
	}
	t.Logf("scripts/kubelet-env.sh took %v\n%s", time.Since(start).Round(time.Second), strings.TrimSpace(stderr.String()))
	env := make(map[string]string)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	tl := tools{
		kubelet:    env["HOLDFAST_E2E_KUBELET"],
		crictl:     env["HOLDFAST_E2E_CRICTL"],
		containerd: env["HOLDFAST_E2E_CONTAINERD"],
		ctr:        env["HOLDFAST_E2E_CTR"],
		cniBin:     env["HOLDFAST_E2E_CNI_BIN"],
	}
	for name, p := range map[string]string{"kubelet": tl.kubelet, "crictl": tl.crictl,
		"containerd": tl.containerd, "ctr": tl.ctr, "CNI bridge": filepath.Join(tl.cniBin, "bridge")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("cannot use %s %q from scripts/kubelet-env.sh (stdout:\n%s)", name, p, stdout.String())
		}
	}
	for _, tool := range []string{"ip", "unshare", "nsenter", "runc", "javac", "jar"} {
		hfrun.NeedTool(t, tool)
	}
	return tl
}

// holdfastBinary is $HOLDFAST_BIN, or a static build of ./cmd/holdfast into dir.
func holdfastBinary(t testing.TB, dir string) string {
	t.Helper()
	if p := os.Getenv("HOLDFAST_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(dir, "holdfast")
	goBuild(t, out, "./cmd/holdfast", repoRoot)
	return out
}

// goBuild builds pkg statically (images carry no libc) from the module in dir.
func goBuild(t testing.TB, out, pkg, dir string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot build %s (CGO_ENABLED=0 go build %s in %s): %v\n%s", out, pkg, dir, err, b)
	}
}

// lockRoot takes an exclusive lock next to root, so two runs on one machine (which share
// the fixed root, cgroup root and namespace name) take turns instead of tearing down each
// other's pods. The lock dies with the process, so a killed run never blocks the next.
func lockRoot(t testing.TB, root string) {
	t.Helper()
	path := root + ".lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("cannot open the lock %s: %v", path, err)
	}
	deadline := time.Now().Add(20 * time.Minute)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("cannot lock %s (another kubelet e2e run holds it?): %v", path, err)
		}
		time.Sleep(time.Second)
	}
	// Registered first, so it runs last: after the teardown.
	t.Cleanup(func() { f.Close() })
}

// run runs a short command and returns its combined output.
func run(argv ...string) (string, error) {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("cannot run %s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}
