package kubelet

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/holdfast-dev/holdfast/e2e/image"
)

const (
	// observeHeld is how long the held pod must stay running, not ready, never restarted,
	// while the kubelet probes it: twelve liveness periods of the base template.
	observeHeld = 120 * time.Second
	// deleteWithin bounds the held pod's deletion: far inside its 30 s grace period.
	deleteWithin = 10 * time.Second
	// podWait bounds a pod's way to a state: image already local, but a few JVM starts
	// on a loaded 2-core box.
	podWait = 3 * time.Minute
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The scenarios are concurrent pods on one node and wait on the kubelet, not the CPU:
	// run all of them at once although -parallel defaults to GOMAXPROCS (2 here), unless
	// -parallel was given. Otherwise the crash-loop control waits for a free slot instead
	// of overlapping the held pod's two-minute window.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "4")
	}
	os.Exit(m.Run())
}

// TestKubelet runs the base manifest's pod under a real kubelet: the held pod (springfail
// under holdfast), the negative control (the same app as plain `java -jar` PID 1) and the
// fixed app (health in crash-unless-file mode, fixed and restarted through `holdfast
// restart`) and the held app under the test overlay's exec readiness probe (whose output
// the kubelet records: the cause) run at once on one node; the held pod's deletion ends
// the run.
func TestKubelet(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("the real-kubelet e2e takes minutes (and its first run builds the kubelet); run without -short")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the kubelet e2e needs root (containerd, cgroups, network namespaces)")
	}
	// containerd and the kubelet are started from this goroutine with Pdeathsig, which
	// fires when the forking thread exits: keep this goroutine on one thread until its
	// cleanups (which stop them) have run. The thread is retired with the goroutine.
	runtime.LockOSThread()

	tl := prepareTools(t)
	tmpl := baseTemplate(t)
	start := time.Now()
	archive := buildImages(t, t.TempDir())
	t.Logf("images built in %v", time.Since(start).Round(time.Millisecond))
	c := startCluster(t, tl, archive)

	w := newWalkthrough()
	defer w.write(t)
	if v, err := run(tl.kubelet, "--version"); err == nil {
		w.add("setup", "$ kubelet --version", v)
	}
	if v, err := c.crictl("version"); err == nil {
		w.add("setup", "$ crictl version", v)
	}

	t.Run("pods", func(t *testing.T) {
		t.Run("HeldPodStaysRunningNotReady", func(t *testing.T) {
			t.Parallel()
			testHeldPod(t, c, tmpl, w)
		})
		t.Run("PlainJavaCrashLoops", func(t *testing.T) {
			t.Parallel()
			testPlainJava(t, c, tmpl, w)
		})
		t.Run("RestartOfFixedAppTurnsReady", func(t *testing.T) {
			t.Parallel()
			testFixedApp(t, c, tmpl, w)
		})
		t.Run("ExecReadinessNamesTheCause", func(t *testing.T) {
			t.Parallel()
			testExecReadiness(t, c, tmpl, w)
		})
		t.Run("MemoryLimitHeldWithinBudget", func(t *testing.T) {
			t.Parallel()
			testMemoryLimit(t, c, tmpl, w)
		})
		t.Run("MemoryLimitPlainJavaCrashLoops", func(t *testing.T) {
			t.Parallel()
			testMemoryLimitPlain(t, c, tmpl, w)
		})
	})
}

// testHeldPod: springfail under holdfast is held after its startup crashes; for two
// minutes the kubelet keeps probing (liveness passes, readiness fails) and the container
// is never restarted. Deleting the pod then ends the held holdfast well inside the grace.
func testHeldPod(t *testing.T, c *cluster, tmpl corev1.PodTemplateSpec, w *walkthrough) {
	const name = "held"
	p := staticPod(t, tmpl, name, "springfail", nil)
	c.apply(t, p)
	id, first := c.waitHeld(t, name)
	w.add(name, "/pods once held", first)
	w.exec(c, name, id, "holdfast", "status")
	w.exec(c, name, id, "holdfast", "runs")
	w.exec(c, name, id, "holdfast", "logs", "--tail", "12")
	checkBundle(t, c, id)

	live0 := c.mustProbeCount(t, name, "Liveness", "successful")
	unready0 := c.mustProbeCount(t, name, "Readiness", "failed")
	pod, s := c.mustApp(t, name)
	startedAt := s.State.Running.StartedAt
	begin := time.Now()
	samples := 0
	for time.Since(begin) < observeHeld {
		pod, s = c.mustApp(t, name)
		line := statusLine(pod, s)
		switch {
		case s.RestartCount != 0:
			t.Fatalf("the held container was restarted: %s", line)
		case s.State.Running == nil || containerID(s) != id || !s.State.Running.StartedAt.Equal(&startedAt):
			t.Fatalf("the held container is not the one running since %v: %s", startedAt, line)
		case s.Ready || podReady(pod):
			t.Fatalf("a held pod must not be ready: %s", line)
		}
		samples++
		time.Sleep(2 * time.Second)
	}
	live := c.mustProbeCount(t, name, "Liveness", "successful") - live0
	unready := c.mustProbeCount(t, name, "Readiness", "failed") - unready0
	last := statusLine(pod, s)
	t.Logf("held for %v (%d samples): %s; liveness passed %d times, readiness failed %d times",
		time.Since(begin).Round(time.Second), samples, last, live, unready)
	// Liveness every 10 s and readiness every 5 s (the base template): a window without
	// probes would prove nothing about the kubelet leaving the crime scene alone.
	if live < int(observeHeld/(10*time.Second))-2 || unready < int(observeHeld/(5*time.Second))-4 {
		t.Errorf("the kubelet did not probe the held pod throughout: liveness passed %d, readiness failed %d in %v",
			live, unready, observeHeld)
	}
	w.add(name, fmt.Sprintf("/pods after %v held (%d samples, all restartCount=0, ready=false, running)",
		observeHeld, samples), last)
	w.add(name, "kubelet /metrics/probes during the window",
		fmt.Sprintf("liveness (GET /livez) successful: +%d; readiness (GET /readyz) failed: +%d", live, unready))
	w.exec(c, name, id, "holdfast", "status")

	// Deletion: the kubelet sends TERM to PID 1, holdfast (no app running) exits at once.
	grace := int64(30)
	if p.Spec.TerminationGracePeriodSeconds != nil {
		grace = *p.Spec.TerminationGracePeriodSeconds
	}
	if err := os.Remove(c.manifestPath(name)); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	var state string
	err := waitFor(time.Duration(grace+30)*time.Second, 100*time.Millisecond, func() error {
		st, err := c.containerState(id)
		if err != nil {
			return err
		}
		state = st
		if st == "CONTAINER_RUNNING" || st == "CONTAINER_CREATED" {
			return fmt.Errorf("container %s is %s: %w", id, st, errNotYet)
		}
		return nil
	})
	took := time.Since(removed)
	if err != nil {
		t.Fatalf("the held container did not stop after its pod was deleted: %v", err)
	}
	t.Logf("pod deleted: container %s after %v (grace %ds)", state, took.Round(10*time.Millisecond), grace)
	w.add(name, "rm held.yaml (pod deletion)", fmt.Sprintf("container %s %v after the manifest was removed (terminationGracePeriodSeconds: %d)",
		state, took.Round(10*time.Millisecond), grace))
	if took > deleteWithin {
		t.Errorf("deleting the held pod took %v; want under %v (grace %ds)", took, deleteWithin, grace)
	}
}

// testPlainJava: the same app as plain `java -jar` PID 1 (holdfast not in the command)
// crash-loops: the kubelet restarts it and backs off.
func testPlainJava(t *testing.T, c *cluster, tmpl corev1.PodTemplateSpec, w *walkthrough) {
	const name = "plain"
	p := staticPod(t, tmpl, name, "springfail", func(ctr *corev1.Container) {
		ctr.Command = []string{"java"}
		ctr.Args = []string{"-jar", image.AppJarPath}
	})
	c.apply(t, p)
	var line string
	err := waitFor(podWait, time.Second, func() error {
		pod, s, err := c.app(name)
		if err != nil {
			return err
		}
		line = statusLine(pod, s)
		if s.RestartCount < 2 || s.State.Waiting == nil || s.State.Waiting.Reason != "CrashLoopBackOff" {
			return fmt.Errorf("%s: %w", line, errNotYet)
		}
		if lt := s.LastTerminationState.Terminated; lt == nil || lt.ExitCode != 1 {
			return fmt.Errorf("want the last run to have exited 1 (the uncaught exception): %s", line)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("plain java did not reach CrashLoopBackOff: %v", err)
	}
	t.Log(line)
	w.add(name, "/pods: the same app as plain `java -jar` PID 1", line)
}

// testFixedApp: the health app crashes at startup until its fix file exists, so holdfast
// holds it; with the fix in place `holdfast restart` starts it again and the kubelet's
// readiness probe of /readyz turns the pod Ready, with no container restart.
func testFixedApp(t *testing.T, c *cluster, tmpl corev1.PodTemplateSpec, w *walkthrough) {
	const name, fix = "fixed", "/tmp/fixed" // /tmp is the template's emptyDir
	p := staticPod(t, tmpl, name, "health", func(ctr *corev1.Container) {
		setEnv(ctr, "MODE", "crash-unless-file")
		setEnv(ctr, "FIX_FILE", fix)
	})
	if u := envValue(&p.Spec.Containers[0], "HOLDFAST_APP_READY_URL"); !strings.HasPrefix(u, "http://127.0.0.1:8080/") {
		t.Fatalf("the zoo's health app serves on 127.0.0.1:8080; the template's ready URL is %q", u)
	}
	c.apply(t, p)
	id, held := c.waitHeld(t, name)
	w.add(name, "/pods once held", held)
	// The negative control: held, the pod is not ready (waitHeld read it from /pods).
	if pod, s := c.mustApp(t, name); s.Ready || podReady(pod) {
		t.Fatalf("a held pod must not be ready: %s", statusLine(pod, s))
	}
	w.exec(c, name, id, "touch", fix)
	restarted := time.Now()
	w.exec(c, name, id, "holdfast", "restart")
	var line string
	err := waitFor(podWait, 250*time.Millisecond, func() error {
		pod, s := c.mustApp(t, name)
		line = statusLine(pod, s)
		if !s.Ready || !podReady(pod) {
			return fmt.Errorf("%s: %w", line, errNotYet)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the fixed app's pod did not turn ready after holdfast restart: %v", err)
	}
	took := time.Since(restarted)
	pod, s := c.mustApp(t, name)
	if s.RestartCount != 0 || containerID(s) != id {
		t.Errorf("holdfast restart must not restart the container: %s", statusLine(pod, s))
	}
	t.Logf("ready %v after holdfast restart: %s", took.Round(100*time.Millisecond), line)
	w.add(name, fmt.Sprintf("/pods %v after holdfast restart", took.Round(100*time.Millisecond)), line)
	w.exec(c, name, id, "holdfast", "status")
	w.exec(c, name, id, "wget", "-qO-", "http://127.0.0.1:8558/readyz")
}

// waitHeld waits until pod name's app container runs and holdfast in it reports phase
// held; it returns the container id and the /pods line at that moment.
func (c *cluster) waitHeld(t testing.TB, name string) (string, string) {
	t.Helper()
	var id, line string
	err := waitFor(podWait, time.Second, func() error {
		pod, s, err := c.app(name)
		if err != nil {
			return err
		}
		line = statusLine(pod, s)
		if s.State.Running == nil {
			return fmt.Errorf("%s: %w", line, errNotYet)
		}
		id = containerID(s)
		out, err := c.exec(id, "holdfast", "status", "--json")
		if err != nil {
			return err
		}
		var st struct {
			Phase string `json:"phase"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			return fmt.Errorf("cannot parse holdfast status --json: %w: %s", err, out)
		}
		if st.Phase != "held" {
			return fmt.Errorf("holdfast phase %q: %w", st.Phase, errNotYet)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pod %s: holdfast did not hold: %v", name, err)
	}
	return id, line
}

// app is pod name as /pods has it now, and its app container's status.
func (c *cluster) app(name string) (*corev1.Pod, *corev1.ContainerStatus, error) {
	pod, err := c.pod(name)
	if err != nil {
		return nil, nil, err
	}
	s, err := appStatus(pod)
	if err != nil {
		return nil, nil, err
	}
	return pod, s, nil
}

// mustApp is app, failing the test if /pods lacks them.
func (c *cluster) mustApp(t testing.TB, name string) (*corev1.Pod, *corev1.ContainerStatus) {
	t.Helper()
	pod, s, err := c.app(name)
	if err != nil {
		t.Fatal(err)
	}
	return pod, s
}

func (c *cluster) mustProbeCount(t testing.TB, pod, probeType, result string) int {
	t.Helper()
	n, err := c.probeCount(pod, probeType, result)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
