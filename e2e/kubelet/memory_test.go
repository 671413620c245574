package kubelet

// A pod with a memory limit whose JVM heap exceeds it: the zoo's grow app (-Xmx1g) in a
// 256 MiB container is killed by the kernel's OOM killer at every start. Under holdfast
// the pod stops restarting within the budget whatever the node's cgroup version (v1 and
// v2 without group kill: only the JVM dies and holdfast restarts it; v2 with group kill:
// the container restarts and holdfast continues the budget from the emptyDir), and
// `holdfast runs` inside shows every run. Plain `java` in the same pod spec crash-loops.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/holdfast-dev/holdfast/e2e/image"
)

// memPodMaxRestarts is holdfast's default --max-restarts, which the template keeps.
const memPodMaxRestarts = 2

func memoryLimited(ctr *corev1.Container) {
	limit := resource.MustParse("256Mi")
	ctr.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: limit}
	ctr.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: limit}
	ctr.Args = []string{"java", "-XX:+UseSerialGC", "-Xmn16m", "-Xmx1g", "-jar", image.AppJarPath}
	setEnv(ctr, "GROW_MB_PER_SEC", "16")
}

func testMemoryLimit(t *testing.T, c *cluster, tmpl corev1.PodTemplateSpec, w *walkthrough) {
	const name = "memheld"
	p := staticPod(t, tmpl, name, "grow", memoryLimited)
	c.apply(t, p)
	_, line := c.waitHeld(t, name)
	w.add(name, "/pods once held", line)
	pod, s := c.mustApp(t, name)
	if s.RestartCount > memPodMaxRestarts+1 {
		t.Errorf("restartCount %d, want at most --max-restarts+1 = %d: %s", s.RestartCount, memPodMaxRestarts+1, statusLine(pod, s))
	}
	id := containerID(s)
	runs := w.exec(c, name, id, "holdfast", "runs")
	crashes := strings.Count(runs, "startup-crash") + strings.Count(runs, "vanished")
	if crashes != memPodMaxRestarts+1 {
		t.Errorf("holdfast runs shows %d startup crashes (startup-crash or vanished), want %d:\n%s", crashes, memPodMaxRestarts+1, runs)
	}
	status := w.exec(c, name, id, "holdfast", "status")
	if !strings.Contains(status, "HELD (startup-crash)") {
		t.Errorf("holdfast status:\n%s", status)
	}
	// Held means held: no container restart while the kubelet keeps probing.
	for begin := time.Now(); time.Since(begin) < 30*time.Second; time.Sleep(2 * time.Second) {
		pod2, s2 := c.mustApp(t, name)
		if s2.RestartCount != s.RestartCount || containerID(s2) != id {
			t.Fatalf("the held container restarted: %s", statusLine(pod2, s2))
		}
	}
	t.Logf("held within the budget: %s", statusLine(pod, s))
}

func testMemoryLimitPlain(t *testing.T, c *cluster, tmpl corev1.PodTemplateSpec, w *walkthrough) {
	const name = "memplain"
	p := staticPod(t, tmpl, name, "grow", func(ctr *corev1.Container) {
		memoryLimited(ctr)
		ctr.Command = []string{"java"}
		ctr.Args = ctr.Args[1:]
	})
	c.apply(t, p)
	var line string
	err := waitFor(podWait, time.Second, func() error {
		pod, s, err := c.app(name)
		if err != nil {
			return err
		}
		line = statusLine(pod, s)
		if s.RestartCount <= memPodMaxRestarts+1 {
			return fmt.Errorf("%s: %w", line, errNotYet)
		}
		if lt := s.LastTerminationState.Terminated; lt == nil || lt.Reason != "OOMKilled" {
			return fmt.Errorf("want the last run OOMKilled: %s", line)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("plain java with the same limit did not crash-loop past %d restarts: %v", memPodMaxRestarts+1, err)
	}
	w.add(name, "/pods: the same pod spec with plain `java` as PID 1", line)
}
