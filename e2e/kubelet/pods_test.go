package kubelet

// The static pods are the pod template of deploy/k8s/base/deployment.yaml, so what the
// kubelet runs is the shipped manifest: its probes, env, resources, security context,
// volumes and grace period. The test changes only what a cluster would supply otherwise
// (the image and pull policy: no registry; the JDK as read-only hostPath mounts: the test
// image carries none) and, per scenario, the app's own settings.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/holdfast-dev/holdfast/e2e/image"
)

// baseTemplate is the base Deployment's pod template, strictly decoded (an unknown field
// fails here, as it would fail kubectl apply).
func baseTemplate(t testing.TB) corev1.PodTemplateSpec {
	t.Helper()
	path := filepath.Join(repoRoot, "deploy", "k8s", "base", "deployment.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		t.Fatalf("cannot decode %s: %v", path, err)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 || d.Spec.Template.Spec.Containers[0].Name != "app" {
		t.Fatalf("%s: want one container named app in the pod template", path)
	}
	return d.Spec.Template
}

// staticPod is the base template as static pod name, running zoo program app in the
// holdfast image; edit changes the app container for the scenario.
func staticPod(t testing.TB, tmpl corev1.PodTemplateSpec, name, app string, edit func(*corev1.Container)) *corev1.Pod {
	t.Helper()
	tmpl = *tmpl.DeepCopy()
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   "default",
			Labels:      tmpl.Labels,
			Annotations: tmpl.Annotations,
		},
		Spec: tmpl.Spec,
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels["holdfast.dev/e2e-scenario"] = name
	ctr := &p.Spec.Containers[0]
	ctr.Image = appImage(app)
	ctr.ImagePullPolicy = corev1.PullNever
	jdk, err := image.HostJDK()
	if err != nil {
		t.Fatal(err)
	}
	dirType := corev1.HostPathDirectory
	for i, m := range jdk.Mounts {
		vol := fmt.Sprintf("host-jdk-%d", i)
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: vol,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: m, Type: &dirType}}})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: m, ReadOnly: true})
	}
	if edit != nil {
		edit(ctr)
	}
	return p
}

// setEnv sets name in the container's env, replacing the template's value if any.
func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i].Value = value
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}

// envValue is the template's value of name ("" when unset).
func envValue(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// manifestPath is where pod name's manifest goes in the static pod dir.
func (c *cluster) manifestPath(name string) string {
	return filepath.Join(c.manifests, name+".yaml")
}

// apply writes the pod's manifest into the static pod dir: under a dot name first (the
// kubelet skips hidden files), then renamed, so it never reads half a file.
func (c *cluster) apply(t testing.TB, p *corev1.Pod) {
	t.Helper()
	data, err := yaml.Marshal(p)
	if err != nil {
		t.Fatalf("cannot encode pod %s: %v", p.Name, err)
	}
	tmp := filepath.Join(c.manifests, "."+p.Name+".yaml")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, c.manifestPath(p.Name)); err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(append(p.Spec.Containers[0].Command, p.Spec.Containers[0].Args...), " ")
	if cmd == "" {
		cmd = "the image's: " + strings.Join(append(image.Entrypoint(), image.Cmd()...), " ")
	}
	t.Logf("static pod %s: image %s, command %s", p.Name, p.Spec.Containers[0].Image, cmd)
}
