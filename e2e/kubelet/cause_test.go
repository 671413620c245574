package kubelet

// The cause under a real kubelet: with the test overlay's exec readiness probe (`holdfast
// probe ready`), the kubelet's own record of each failed probe carries the probe's output,
// and so the one line that names why the app failed. On a cluster that record is the
// pod's Unhealthy event (`kubectl describe pod`); the standalone kubelet has no API server
// to send events to, and its log has the same output (prober.go logs "Probe failed" with
// it at -v 1, and records the event "<type> probe failed: <output>" next to it).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// overlayReadiness is the base template's readiness probe with the test overlay's patch
// applied: the overlay's handler (exec) instead of the base's, and the fields it sets.
func overlayReadiness(t testing.TB, base *corev1.Probe) *corev1.Probe {
	t.Helper()
	path := filepath.Join(repoRoot, "deploy", "k8s", "overlays", "test", "deployment.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		t.Fatalf("cannot decode %s: %v", path, err)
	}
	var patch *corev1.Probe
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "app" {
			patch = c.ReadinessProbe
		}
	}
	if patch == nil || patch.Exec == nil || base == nil {
		t.Fatalf("%s: want an exec readiness probe for the app container over the base's", path)
	}
	p := base.DeepCopy()
	p.ProbeHandler = patch.ProbeHandler
	for _, f := range []struct{ to, from *int32 }{
		{&p.TimeoutSeconds, &patch.TimeoutSeconds}, {&p.PeriodSeconds, &patch.PeriodSeconds},
		{&p.FailureThreshold, &patch.FailureThreshold}, {&p.SuccessThreshold, &patch.SuccessThreshold},
		{&p.InitialDelaySeconds, &patch.InitialDelaySeconds},
	} {
		if *f.from != 0 {
			*f.to = *f.from
		}
	}
	return p
}

// holdBanner is pod name's app container log (what kubectl logs shows) from its last
// hold banner on, read from the kubelet's CRI log file ("<time> <stream> <tag> <line>").
func (c *cluster) holdBanner(name string) (string, error) {
	files, _ := filepath.Glob(filepath.Join(c.podLogs, "default_"+name+"-"+nodeName+"_*", "app", "*.log"))
	if len(files) != 1 {
		return "", fmt.Errorf("want one log file of pod %s's app container, have %v", name, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return "", err
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if f := strings.SplitN(l, " ", 4); len(f) == 4 {
			lines = append(lines, f[3])
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "APP HELD") {
			return strings.Join(lines[i:], "\n") + "\n", nil
		}
	}
	return "", fmt.Errorf("pod %s's log has no hold banner:\n%s", name, strings.Join(lines, "\n"))
}

// probeOutputs are the outputs of pod name's failed readiness probes in the kubelet's
// log, oldest first, each with its log line. klog writes a one-line value quoted
// (output="..."), and a value with a newline as a block: "output=<", then each line
// after a tab, then " >".
func probeOutputs(log, name string) (outs, lines []string, err error) {
	head := regexp.MustCompile(`"Probe failed" probeType="Readiness" pod="default/` + regexp.QuoteMeta(name+"-"+nodeName) +
		`" .*probeResult="failure" output=(<|"(?:[^"\\]|\\.)*")$`)
	ls := strings.Split(log, "\n")
	for i := 0; i < len(ls); i++ {
		m := head.FindStringSubmatch(ls[i])
		if m == nil {
			continue
		}
		if m[1] != "<" {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				return nil, nil, fmt.Errorf("cannot unquote the probe output %s: %w", m[1], err)
			}
			outs, lines = append(outs, s), append(lines, ls[i])
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(ls) && strings.HasPrefix(ls[j], "\t"); j++ {
			b.WriteString(ls[j][1:] + "\n")
		}
		if j == len(ls) || ls[j] != " >" {
			break // the block is still being written
		}
		outs, lines = append(outs, b.String()), append(lines, strings.Join(ls[i:j+1], "\n"))
		i = j
	}
	return outs, lines, nil
}

// testExecReadiness: springfail held under the test overlay's exec readiness probe; the
// kubelet's record of the failed probe is holdfast probe ready's output, which names the
// cause run.json has; the pod stays running and not ready, as with the HTTP probe.
func testExecReadiness(t *testing.T, c *cluster, tmpl corev1.PodTemplateSpec, w *walkthrough) {
	const name = "why"
	p := staticPod(t, tmpl, name, "springfail", func(ctr *corev1.Container) {
		ctr.ReadinessProbe = overlayReadiness(t, ctr.ReadinessProbe)
	})
	c.apply(t, p)
	id, line := c.waitHeld(t, name)
	w.add(name, "/pods once held", line)

	out, err := c.exec(id, "holdfast", "status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		LastExit *struct {
			Cause *struct{ Kind, Summary string } `json:"cause"`
		} `json:"last_exit"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.LastExit == nil || st.LastExit.Cause == nil || st.LastExit.Cause.Summary == "" {
		t.Fatalf("holdfast status --json: want last_exit.cause (%v):\n%s", err, out)
	}
	summary := st.LastExit.Cause.Summary
	want := "holdfast probe ready: not ready: the app is held (startup-crash): " + summary + "\n"
	// What kubectl logs shows: the container's log ends in the hold banner, whose first
	// line after the title is the same why.
	banner, err := c.holdBanner(name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(banner, "holdfast: why: "+summary+"\n") {
		t.Errorf("the container's log (kubectl logs) lacks the banner's why: %s:\n%s", summary, banner)
	}
	w.add(name, "kubectl logs (the container's log, from the hold banner on)", banner)
	w.exec(c, name, id, "holdfast", "status")
	w.exec(c, name, id, "holdfast", "runs")
	w.exec(c, name, id, "holdfast", "logs", "--why")

	// The kubelet runs the probe every periodSeconds; its log gets one entry per failure.
	logPath := c.path("logs", "kubelet.log")
	var got, logLine string
	err = waitFor(podWait, time.Second, func() error {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		outs, lines, err := probeOutputs(string(b), name)
		if err != nil {
			return err
		}
		for i := range outs {
			got, logLine = outs[i], lines[i]
			if got == want {
				return nil
			}
		}
		if got == "" {
			return fmt.Errorf("no failed readiness probe of %s in %s yet: %w", name, logPath, errNotYet)
		}
		return fmt.Errorf("the last failed probe's output is %q: %w", got, errNotYet)
	})
	if err != nil {
		t.Fatalf("the kubelet's record of the failed exec probe does not carry the cause %q: %v", want, err)
	}
	t.Logf("kubelet log: %s", logLine)
	if _, after, ok := strings.Cut(logLine, `"Probe failed"`); ok {
		w.add(name, "kubelet's log: the failed exec readiness probe", `"Probe failed"`+after)
	}
	// The message of the event the kubelet records with it, as kubectl describe pod
	// shows it (Type, Reason, From, Message).
	w.add(name, "the Unhealthy event (kubectl describe pod: Events)",
		"Warning  Unhealthy  kubelet  Readiness probe failed: "+strings.TrimSuffix(got, "\n"))

	// As with the HTTP probe: running, not ready, never restarted; and the kubelet's
	// probe metrics count the exec probe's failures.
	pod, s := c.mustApp(t, name)
	if s.RestartCount != 0 || s.State.Running == nil || s.Ready || podReady(pod) {
		t.Errorf("a held pod under the exec probe: %s; want running, not ready, no restarts", statusLine(pod, s))
	}
	if n := c.mustProbeCount(t, name, "Readiness", "failed"); n < 1 {
		t.Errorf("kubelet /metrics/probes counts %d failed readiness probes of %s", n, name)
	}
}

// TestProbeOutputs reads both of klog's forms, and nothing of another pod or probe type
// (the negative controls).
func TestProbeOutputs(t *testing.T) {
	pod := `pod="default/why-` + nodeName + `" podUID="u" containerName="app" probeResult="failure" `
	log := strings.Join([]string{
		`I1206 11:49:45.887589   24109 prober.go:122] "Probe failed" probeType="Readiness" ` + pod + `output=<`,
		"\tholdfast probe ready: not ready: the app is held (startup-crash): it failed",
		" >",
		`I1206 11:49:46.000000   24109 prober.go:122] "Probe failed" probeType="Liveness" ` + pod + `output=<`,
		"\tnot this one",
		" >",
		`I1206 11:49:47.000000   24109 prober.go:122] "Probe failed" probeType="Readiness" pod="default/other-` + nodeName + `" podUID="u" containerName="app" probeResult="failure" output=<`,
		"\tnor this one",
		" >",
		`I1206 11:49:50.563806   24109 prober.go:122] "Probe failed" probeType="Readiness" ` + pod + `output="one \"line\""`,
		`I1206 11:49:55.000000   24109 prober.go:122] "Probe failed" probeType="Readiness" ` + pod + `output=<`,
		"\ta block still being written",
	}, "\n")
	outs, lines, err := probeOutputs(log, "why")
	want := []string{"holdfast probe ready: not ready: the app is held (startup-crash): it failed\n", `one "line"`}
	if err != nil || len(outs) != 2 || outs[0] != want[0] || outs[1] != want[1] || len(lines) != 2 || !strings.HasSuffix(lines[0], "\n >") {
		t.Errorf("probeOutputs = %q, %q, %v; want %q", outs, lines, err, want)
	}
}
