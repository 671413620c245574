package e2e

// deploy/k8s checked without a cluster: every manifest strict-decodes into the
// k8s.io/api types (unknown or duplicate fields fail, and what was written must survive
// the round trip), the overlays are built the way kustomize would for what they use (a
// strategic-merge patch of the Deployment), and the built objects must hold holdfast's
// contract: probes on holdfast's port and paths, a termination grace longer than
// --grace, the state dir on an emptyDir, hold and ssh per overlay. The alert is checked
// by promtool, against series. The overlay builder is in kustomize_test.go.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
	"github.com/holdfast-dev/holdfast/e2e/image"
)

// overlayProblems checks a built overlay against holdfast's contract; hold is the
// overlay's intended --hold, ssh whether it serves ssh.
func overlayProblems(t testing.TB, o k8sObjects, hold string, ssh, execReady bool) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	d := o.deployment
	pod := d.Spec.Template
	c := appContainer(t, d)
	for k, v := range d.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			bad("selector %s=%s does not match the pod labels %v", k, v, pod.Labels)
		}
	}

	probePort := addrPort(holdfastSetting(c, "probe-addr", ":8558"))
	if probePort != image.ProbePort {
		bad("holdfast listens on %d, the image exposes %d", probePort, image.ProbePort)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		paths []string
	}{{"liveness", c.LivenessProbe, []string{"/livez", "/healthz"}}, {"readiness", c.ReadinessProbe, []string{"/readyz"}}} {
		if p.name == "readiness" && execReady {
			// The exec variant: its output (naming the cause) reaches the pod's events.
			want := []string{image.HoldfastPath, "probe", "ready"}
			if p.probe == nil || p.probe.Exec == nil || !slices.Equal(p.probe.Exec.Command, want) {
				bad("readiness is not the exec probe %q: %+v", want, p.probe)
			}
			continue
		}
		if p.probe == nil || p.probe.HTTPGet == nil {
			bad("no HTTP %s probe", p.name)
			continue
		}
		if g := p.probe.HTTPGet; !slices.Contains(p.paths, g.Path) || containerPort(c, g.Port) != probePort {
			bad("%s probe GETs %s on port %d, want %v on holdfast's %d", p.name, g.Path, containerPort(c, g.Port), p.paths, probePort)
		}
	}
	a := pod.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/port"] != strconv.Itoa(probePort) {
		bad("scrape annotations %v, want holdfast's /metrics on %d", a, probePort)
	}

	grace, err := time.ParseDuration(holdfastSetting(c, "grace", "10s"))
	if err != nil {
		bad("grace: %v", err)
	}
	tgps := int64(30) // the API default
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		tgps = *pod.Spec.TerminationGracePeriodSeconds
	}
	// holdfast needs --grace for the app, then a moment for its own servers (2 s) and exit.
	if time.Duration(tgps)*time.Second < grace+5*time.Second {
		bad("terminationGracePeriodSeconds %d is not longer than --grace %v plus 5s", tgps, grace)
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	mountAt := func(p string) (corev1.VolumeMount, corev1.Volume, bool) {
		for _, m := range c.VolumeMounts {
			if m.MountPath == p {
				v, ok := volumes[m.Name]
				return m, v, ok
			}
		}
		return corev1.VolumeMount{}, corev1.Volume{}, false
	}
	stateDir := holdfastSetting(c, "state-dir", "/var/lib/holdfast")
	if _, v, ok := mountAt(stateDir); stateDir != image.StateDir || !ok || v.EmptyDir == nil {
		bad("state dir %s (image: %s) is not on an emptyDir", stateDir, image.StateDir)
	}
	if sc := c.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		if _, v, ok := mountAt("/tmp"); !ok || v.EmptyDir == nil {
			bad("read-only root filesystem without an emptyDir at /tmp (the JVM's hsperfdata)")
		}
	}
	if got := holdfastSetting(c, "hold", "true"); got != hold {
		bad("--hold is %q, want %q", got, hold)
	}

	// ssh: keys from a Secret mounted as a directory, a port, and a Service.
	keys := holdfastSetting(c, "ssh-authorized-keys", "/etc/holdfast/authorized_keys")
	m, v, mounted := mountAt(filepath.Dir(keys))
	sshPort := addrPort(holdfastSetting(c, "ssh-addr", ":2222"))
	var sshServices []string
	for _, s := range o.services {
		for k, val := range s.Spec.Selector {
			if pod.Labels[k] != val {
				bad("Service %s selects %s=%s, not the pods (%v)", s.Name, k, val, pod.Labels)
			}
		}
		for _, sp := range s.Spec.Ports {
			target := containerPort(c, sp.TargetPort)
			if target < 0 {
				bad("Service %s port %s targets %s, which the container does not have", s.Name, sp.Name, sp.TargetPort.String())
			}
			if target == sshPort {
				sshServices = append(sshServices, s.Name)
				if !s.Spec.PublishNotReadyAddresses {
					bad("Service %s must publish not-ready addresses: held pods are not ready", s.Name)
				}
			}
		}
	}
	if !ssh {
		if mounted || len(o.secrets) > 0 || len(sshServices) > 0 || strings.Contains(keys, "ssh-") {
			bad("ssh is meant to be off, but keys are mounted (%v), generated (%d) or inline, or a Service targets it (%v)",
				mounted, len(o.secrets), sshServices)
		}
		return out
	}
	if !mounted || v.Secret == nil || m.SubPath != "" {
		bad("%s is not on a Secret volume mounted as a directory (a subPath mount never sees key edits)", keys)
	} else if i := slices.IndexFunc(o.secrets, func(s *corev1.Secret) bool { return s.Name == v.Secret.SecretName }); i < 0 {
		bad("the ssh volume uses Secret %q, which the overlay does not make", v.Secret.SecretName)
	} else if _, ok := o.secrets[i].Data[filepath.Base(keys)]; !ok {
		bad("Secret %s has no key %s", v.Secret.SecretName, filepath.Base(keys))
	}
	if containerPort(c, intstr.FromString("ssh")) != sshPort || len(sshServices) != 1 {
		bad("ssh on %d: want a container port named ssh on it and one Service for it (have %v)", sshPort, sshServices)
	}
	return out
}

func TestManifestOverlays(t *testing.T) {
	t.Parallel()
	dir := k8sDir(t)
	for _, tc := range []struct {
		overlay, hold  string
		ssh, execReady bool
	}{{"test", "true", true, true}, {"prod", "false", false, false}} {
		t.Run(tc.overlay, func(t *testing.T) {
			objs := buildKustomization(t, filepath.Join(dir, "overlays", tc.overlay))
			if objs.deployment == nil || len(objs.rules) != 1 {
				t.Fatalf("overlay has deployment %v and %d PrometheusRules, want one each", objs.deployment != nil, len(objs.rules))
			}
			for _, p := range overlayProblems(t, objs, tc.hold, tc.ssh, tc.execReady) {
				t.Error(p)
			}
		})
	}

	// Negative controls: each broken promise is reported.
	base := buildKustomization(t, filepath.Join(dir, "overlays", "test"))
	for _, m := range []struct {
		what   string
		mutate func(o *k8sObjects, c *corev1.Container)
	}{
		{"short grace", func(o *k8sObjects, c *corev1.Container) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "HOLDFAST_GRACE", Value: "28s"})
		}},
		{"grace flag", func(o *k8sObjects, c *corev1.Container) {
			c.Command = []string{image.HoldfastPath, "--grace", "1m", "--"}
		}},
		{"liveness on the app", func(o *k8sObjects, c *corev1.Container) {
			c.LivenessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Port = "/actuator/health/liveness", intstr.FromString("http")
		}},
		{"probe addr", func(o *k8sObjects, c *corev1.Container) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "HOLDFAST_PROBE_ADDR", Value: ":9000"})
		}},
		{"no emptyDir", func(o *k8sObjects, c *corev1.Container) {
			c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == image.StateDir })
		}},
		{"subPath keys", func(o *k8sObjects, c *corev1.Container) {
			for i := range c.VolumeMounts {
				c.VolumeMounts[i].SubPath = "x"
			}
		}},
		{"hold off", func(o *k8sObjects, c *corev1.Container) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "HOLDFAST_HOLD", Value: "false"})
		}},
		{"readiness exec of something else", func(o *k8sObjects, c *corev1.Container) {
			c.ReadinessProbe.Exec.Command = []string{"cat", "/tmp/ready"}
		}},
		{"readiness back on HTTP", func(o *k8sObjects, c *corev1.Container) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("holdfast")}}}
		}},
		{"ready service", func(o *k8sObjects, c *corev1.Container) {
			for _, s := range o.services {
				s.Spec.PublishNotReadyAddresses = false
			}
		}},
	} {
		o := base
		o.deployment = base.deployment.DeepCopy()
		o.services = nil
		for _, s := range base.services {
			o.services = append(o.services, s.DeepCopy())
		}
		m.mutate(&o, appContainer(t, o.deployment))
		if len(overlayProblems(t, o, "true", true, true)) == 0 {
			t.Errorf("control %q went unnoticed", m.what)
		}
	}
	if len(overlayProblems(t, base, "true", false, true)) == 0 {
		t.Error("control: ssh resources in an overlay meant without ssh went unnoticed")
	}
	if len(overlayProblems(t, base, "true", true, false)) == 0 {
		t.Error("control: an exec readiness probe where the HTTP one is meant went unnoticed")
	}
}

// TestManifestFilesAllUsed: every YAML file under deploy/k8s is read by an overlay build,
// so none escapes the strict decoding; and the decoder really is strict.
func TestManifestFilesAllUsed(t *testing.T) {
	t.Parallel()
	dir := k8sDir(t)
	used := map[string]bool{}
	for _, o := range []string{"test", "prod"} {
		od := filepath.Join(dir, "overlays", o)
		for _, f := range []string{"kustomization.yaml", "deployment.yaml"} {
			used[filepath.Join(od, f)] = true
		}
		var k kustomization
		b, _ := os.ReadFile(filepath.Join(od, "kustomization.yaml"))
		if err := decodeStrict(b, &k); err != nil {
			t.Fatal(err)
		}
		for _, r := range append(append([]string{}, k.Resources...), "../../base/kustomization.yaml") {
			used[filepath.Join(od, r)] = true
		}
	}
	bk := filepath.Join(dir, "base")
	var k kustomization
	b, _ := os.ReadFile(filepath.Join(bk, "kustomization.yaml"))
	if err := decodeStrict(b, &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		used[filepath.Join(bk, r)] = true
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".yaml") && !used[p] {
			t.Errorf("%s is in no kustomization, so no test decodes it", p)
		}
		return err
	})

	good := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"
	if err := decodeStrict([]byte(good), &appsv1.Deployment{}); err != nil {
		t.Fatalf("control: %v", err)
	}
	for _, bad := range []string{
		good + "spec:\n  replica: 2\n",  // unknown field
		good + "  name: y\n",            // duplicate field
		good + "spec:\n  Replicas: 2\n", // wrong case: json would take it
		good + "spec:\n  template:\n    spec:\n      containers:\n        - name: a\n          livenesProbe: {}\n",
	} {
		if err := decodeStrict([]byte(bad), &appsv1.Deployment{}); err == nil {
			t.Errorf("decodeStrict accepted:\n%s", bad)
		}
	}
}

// manifestProbePaths are the base Deployment's liveness and readiness probe paths, for
// the tests that ask a real holdfast what the kubelet would.
func manifestProbePaths(t testing.TB) (live, ready string) {
	t.Helper()
	var objs k8sObjects
	decodeResource(t, filepath.Join(k8sDir(t), "base", "deployment.yaml"), &objs)
	c := appContainer(t, objs.deployment)
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil {
		t.Fatal("the base Deployment has no HTTP liveness and readiness probes")
	}
	return c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path
}

// TestManifestPrometheusRule: the alert is valid for Prometheus (promtool check rules)
// and fires for a pod held 5 minutes, not before, and not for one that is not held
// (promtool test rules, against series).
func TestManifestPrometheusRule(t *testing.T) {
	t.Parallel()
	promtool := hfrun.NeedTool(t, "promtool")
	var objs k8sObjects
	decodeResource(t, filepath.Join(k8sDir(t), "base", "prometheusrule.yaml"), &objs)
	rule := objs.rules[0]
	var alert *promRule
	for _, g := range rule.Spec.Groups {
		for i, r := range g.Rules {
			if r.Alert == "HoldfastHeld" {
				alert = &g.Rules[i]
				if !strings.Contains(r.Expr, "holdfast_held") || r.For != "5m" {
					t.Errorf("HoldfastHeld: expr %q for %q, want holdfast_held for 5m", r.Expr, r.For)
				}
			}
		}
	}
	if alert == nil {
		t.Fatal("no HoldfastHeld alert")
	}
	dir := t.TempDir()
	rules, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "rules.yaml"), string(rules))
	if out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "rules.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}

	// The annotations as Prometheus expands them for the held pod.
	expand := strings.NewReplacer("{{ $labels.namespace }}", "shop", "{{ $labels.pod }}", "shop-held")
	annotations := map[string]string{}
	for k, v := range alert.Annotations {
		annotations[k] = expand.Replace(v)
	}
	labels := map[string]string{"namespace": "shop", "pod": "shop-held"}
	for k, v := range alert.Labels {
		labels[k] = v
	}
	firing := []map[string]any{{"exp_labels": labels, "exp_annotations": annotations}}
	unitTest := func(at string, exp []map[string]any) string {
		b, _ := yaml.Marshal(map[string]any{
			"rule_files":          []string{"rules.yaml"},
			"evaluation_interval": "1m",
			"tests": []any{map[string]any{
				"interval": "1m",
				"input_series": []any{
					map[string]any{"series": `holdfast_held{namespace="shop",pod="shop-held"}`, "values": "1x20"},
					map[string]any{"series": `holdfast_held{namespace="shop",pod="shop-ok"}`, "values": "0x20"},
					// Held for 3 minutes only, then restarted: never 5m in a row.
					map[string]any{"series": `holdfast_held{namespace="shop",pod="shop-brief"}`, "values": "1x3 0x16"},
				},
				"alert_rule_test": []any{map[string]any{"eval_time": at, "alertname": "HoldfastHeld", "exp_alerts": exp}},
			}},
		})
		return string(b)
	}
	run := func(name, test string) error {
		writeTestFile(t, filepath.Join(dir, name), test)
		out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	}
	for _, tc := range []struct {
		at  string
		exp []map[string]any
	}{{"4m", nil}, {"6m", firing}, {"15m", firing}} {
		if err := run("test-"+tc.at+".yaml", unitTest(tc.at, tc.exp)); err != nil {
			t.Errorf("at %s: promtool test rules: %v", tc.at, err)
		}
	}
	// Control: promtool does fail a wrong expectation (firing before 5m).
	if err := run("control.yaml", unitTest("4m", firing)); err == nil {
		t.Error("control: promtool accepted the alert firing after 4m")
	}
}

func writeTestFile(t testing.TB, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestManifestImagesOverride: an overlay made by `kustomize edit set image` (what a user
// or the kubelet e2e does to point at its own image) is applied too.
func TestManifestImagesOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, err := filepath.Rel(dir, filepath.Join(k8sDir(t), "base"))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "kustomization.yaml"), fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
images:
  - name: registry.example.com/shop
    newName: localhost:5000/shop
    newTag: e2e
`, base))
	objs := buildKustomization(t, dir)
	if img := appContainer(t, objs.deployment).Image; img != "localhost:5000/shop:e2e" {
		t.Errorf("image = %q, want localhost:5000/shop:e2e", img)
	}
	for ref, want := range map[string][2]string{
		"shop":                     {"shop", ""},
		"localhost:5000/shop:1":    {"localhost:5000/shop", ":1"},
		"localhost:5000/shop":      {"localhost:5000/shop", ""},
		"shop@sha256:abc":          {"shop", "@sha256:abc"},
		"registry.example.com/a:b": {"registry.example.com/a", ":b"},
	} {
		if r, rest := splitImage(ref); r != want[0] || rest != want[1] {
			t.Errorf("splitImage(%q) = %q %q, want %q", ref, r, rest, want)
		}
	}
}
