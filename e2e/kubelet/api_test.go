package kubelet

// What the test reads: the kubelet's read-only port (/pods, /metrics/probes) inside the
// test's network namespace, and crictl on containerd's socket.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// dialInNetns connects to addr from inside the network namespace at nsPath. A socket
// belongs to the namespace of the thread that created it, so one locked thread enters
// the namespace, dials and is then retired (never unlocked: it no longer is in the
// host's namespace, and the scheduler must not hand it to other goroutines).
func dialInNetns(ctx context.Context, nsPath, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(nsPath)
		if err != nil {
			ch <- result{err: fmt.Errorf("cannot open the network namespace %s: %w", nsPath, err)}
			return
		}
		defer f.Close()
		// setns(2), by number: see sysSetns.
		if _, _, errno := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
			ch <- result{err: fmt.Errorf("cannot enter the network namespace %s: %w", nsPath, errno)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}

// get fetches url (on 127.0.0.1 of the test's namespace) and fails unless it answers 200.
func (c *cluster) get(url string) ([]byte, error) {
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return dialInNetns(ctx, c.netns, addr)
			},
		},
	}
	resp, err := client.Get(url)
	if err != nil {
		return nil, fmt.Errorf("cannot get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("cannot get %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// pods is the kubelet's /pods: the static pods with the status the kubelet keeps.
func (c *cluster) pods() ([]corev1.Pod, error) {
	body, err := c.get(fmt.Sprintf("http://127.0.0.1:%d/pods", readOnlyPort))
	if err != nil {
		return nil, err
	}
	var list corev1.PodList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("cannot parse /pods: %w", err)
	}
	return list.Items, nil
}

// pod is the static pod from manifest name (it shows as <name>-<node>).
func (c *cluster) pod(name string) (*corev1.Pod, error) {
	pods, err := c.pods()
	if err != nil {
		return nil, err
	}
	for i := range pods {
		if pods[i].Name == name+"-"+nodeName {
			return &pods[i], nil
		}
	}
	return nil, fmt.Errorf("no pod %s-%s in /pods: %w", name, nodeName, errNotYet)
}

// appStatus is the status of the pod's container "app" (the base template's name).
func appStatus(p *corev1.Pod) (*corev1.ContainerStatus, error) {
	for i := range p.Status.ContainerStatuses {
		if s := &p.Status.ContainerStatuses[i]; s.Name == "app" {
			return s, nil
		}
	}
	return nil, fmt.Errorf("pod %s has no status for container app yet: %w", p.Name, errNotYet)
}

// podReady is the pod's Ready condition.
func podReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// statusLine is one line saying what the kubelet reports for the pod's app container.
func statusLine(p *corev1.Pod, s *corev1.ContainerStatus) string {
	state := "unknown"
	switch {
	case s.State.Running != nil:
		state = "running since " + s.State.Running.StartedAt.UTC().Format(time.RFC3339)
	case s.State.Waiting != nil:
		state = "waiting (" + s.State.Waiting.Reason + ")"
	case s.State.Terminated != nil:
		state = fmt.Sprintf("terminated (%s, exit %d)", s.State.Terminated.Reason, s.State.Terminated.ExitCode)
	}
	last := ""
	if lt := s.LastTerminationState.Terminated; lt != nil {
		last = fmt.Sprintf(", last exit %d (%s)", lt.ExitCode, lt.Reason)
	}
	return fmt.Sprintf("%s phase=%s podReady=%v app: ready=%v restartCount=%d state=%s%s",
		p.Name, p.Status.Phase, podReady(p), s.Ready, s.RestartCount, state, last)
}

// probeCount is prober_probe_total for the pod's container app, probe type (Liveness,
// Readiness) and result (successful, failed), from the kubelet's /metrics/probes.
func (c *cluster) probeCount(pod, probeType, result string) (int, error) {
	body, err := c.get(fmt.Sprintf("http://127.0.0.1:%d/metrics/probes", readOnlyPort))
	if err != nil {
		return 0, err
	}
	want := []string{`pod="` + pod + "-" + nodeName + `"`, `container="app"`,
		`probe_type="` + probeType + `"`, `result="` + result + `"`}
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "prober_probe_total{") {
			continue
		}
		match := true
		for _, w := range want {
			match = match && strings.Contains(line, w)
		}
		if !match {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse %q: %w", line, err)
		}
		return int(v), nil
	}
	return 0, nil // no probe of that kind and result yet
}

// crictl runs crictl against the test's containerd (its config file names the socket:
// without one, crictl warns about /etc/crictl.yaml on every call) and returns stdout.
func (c *cluster) crictl(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(c.tools.crictl, append([]string{"--config", c.path("crictl.yaml")}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("cannot run crictl %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(stdout.String()+stderr.String()))
	}
	return stdout.String(), nil
}

// exec runs argv in the container through CRI ExecSync (crictl exec --sync): no stream
// server connection, which would live in the test's namespace.
func (c *cluster) exec(containerID string, argv ...string) (string, error) {
	return c.crictl(append([]string{"exec", "--sync", containerID}, argv...)...)
}

// containerID is the app container's id, without the "containerd://" prefix.
func containerID(s *corev1.ContainerStatus) string {
	_, id, _ := strings.Cut(s.ContainerID, "://")
	return id
}

// containerState is crictl's state of the container (CONTAINER_RUNNING, _EXITED, ...),
// or "gone" once containerd no longer has it.
func (c *cluster) containerState(id string) (string, error) {
	out, err := c.crictl("inspect", "--output", "json", id)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return "gone", nil
		}
		return "", err
	}
	var st struct {
		Status struct {
			State    string `json:"state"`
			ExitCode int    `json:"exitCode"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return "", fmt.Errorf("cannot parse crictl inspect %s: %w", id, err)
	}
	if st.Status.State == "CONTAINER_EXITED" {
		return fmt.Sprintf("%s (exit %d)", st.Status.State, st.Status.ExitCode), nil
	}
	return st.Status.State, nil
}
