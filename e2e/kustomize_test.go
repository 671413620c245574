package e2e

// A small kustomize for the manifest tests: strict decoding into the k8s.io/api
// types (unknown or duplicate fields fail, and what was written must survive the
// round trip), and the overlay build the overlays use (resources, images and a
// strategic-merge patch of the Deployment), plus accessors for holdfast's settings
// in a built Deployment.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/holdfast-dev/holdfast/e2e/image"
)

// kustomization is the part of kustomize's Kustomization these overlays use; strict
// decoding makes anything else an error, so the test's overlay builder cannot silently
// ignore a kustomize feature someone adds.
type kustomization struct {
	APIVersion      string   `json:"apiVersion"`
	Kind            string   `json:"kind"`
	Resources       []string `json:"resources"`
	SecretGenerator []struct {
		Name    string   `json:"name"`
		Files   []string `json:"files"`
		Options struct {
			DisableNameSuffixHash bool `json:"disableNameSuffixHash"`
		} `json:"options"`
	} `json:"secretGenerator"`
	Patches []struct {
		Path string `json:"path"`
	} `json:"patches"`
	// What `kustomize edit set image` writes.
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
		Digest  string `json:"digest"`
	} `json:"images"`
}

// prometheusRule is the monitoring.coreos.com/v1 PrometheusRule, as far as it is used.
type prometheusRule struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Groups []ruleGroup `json:"groups"`
	} `json:"spec"`
}

type ruleGroup struct {
	Name  string     `json:"name"`
	Rules []promRule `json:"rules"`
}

type promRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// k8sObjects is one built overlay.
type k8sObjects struct {
	deployment *appsv1.Deployment
	services   []*corev1.Service
	secrets    []*corev1.Secret
	rules      []*prometheusRule
}

func k8sDir(t testing.TB) string {
	t.Helper()
	d, err := image.DeployDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "k8s")
}

// decodeStrict decodes one YAML document into obj, refusing unknown and duplicate fields,
// then checks that every value written is still there after a round trip through obj
// (JSON field matching is case-insensitive, so "Name:" would otherwise pass as "name:").
func decodeStrict(data []byte, obj any) error {
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		return err
	}
	var written, kept any
	if err := yaml.Unmarshal(data, &written); err != nil {
		return err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &kept); err != nil {
		return err
	}
	if lost := lostValues(written, kept, ""); len(lost) > 0 {
		return fmt.Errorf("values lost in decoding: %s", strings.Join(lost, ", "))
	}
	return nil
}

// lostValues lists the leaves of written that kept does not hold with the same value.
func lostValues(written, kept any, at string) []string {
	switch w := written.(type) {
	case map[string]any:
		k, _ := kept.(map[string]any)
		var out []string
		for key, v := range w {
			out = append(out, lostValues(v, k[key], at+"."+key)...)
		}
		return out
	case []any:
		k, _ := kept.([]any)
		if len(k) != len(w) {
			return []string{at}
		}
		var out []string
		for i := range w {
			out = append(out, lostValues(w[i], k[i], fmt.Sprintf("%s[%d]", at, i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(written, kept) {
			return []string{fmt.Sprintf("%s (%v, kept %v)", at, written, kept)}
		}
		return nil
	}
}

// decodeResource strictly decodes a resource file (one document) by its kind.
func decodeResource(t testing.TB, path string, into *k8sObjects) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "\n---") {
		t.Fatalf("%s: one resource per file, please", path)
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		if into.deployment != nil {
			t.Fatalf("%s: a second Deployment", path)
		}
		into.deployment = &appsv1.Deployment{}
		obj = into.deployment
	case "v1 Service":
		into.services = append(into.services, &corev1.Service{})
		obj = into.services[len(into.services)-1]
	case "monitoring.coreos.com/v1 PrometheusRule":
		into.rules = append(into.rules, &prometheusRule{})
		obj = into.rules[len(into.rules)-1]
	default:
		t.Fatalf("%s: unexpected resource %s %s", path, tm.APIVersion, tm.Kind)
	}
	if err := decodeStrict(data, obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// buildKustomization builds dir as kustomize would for the features kustomization allows.
func buildKustomization(t testing.TB, dir string) k8sObjects {
	t.Helper()
	var k kustomization
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("%s/kustomization.yaml: %s %s", dir, k.APIVersion, k.Kind)
	}
	var objs k8sObjects
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if fi, err := os.Stat(p); err != nil {
			t.Fatalf("%s: resource %s: %v", dir, r, err)
		} else if fi.IsDir() {
			sub := buildKustomization(t, p)
			if objs.deployment == nil {
				objs.deployment = sub.deployment
			}
			objs.services = append(objs.services, sub.services...)
			objs.secrets = append(objs.secrets, sub.secrets...)
			objs.rules = append(objs.rules, sub.rules...)
		} else {
			decodeResource(t, p, &objs)
		}
	}
	for _, g := range k.SecretGenerator {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: g.Name}, Data: map[string][]byte{}}
		for _, f := range g.Files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatalf("%s: secretGenerator %s: %v", dir, g.Name, err)
			}
			s.Data[filepath.Base(f)] = b
		}
		if !g.Options.DisableNameSuffixHash {
			// A hashed name rolls the Deployment on every key edit, ending held pods.
			t.Errorf("%s: secretGenerator %s must set disableNameSuffixHash", dir, g.Name)
		}
		objs.secrets = append(objs.secrets, s)
	}
	for _, p := range k.Patches {
		var patch appsv1.Deployment
		b, err := os.ReadFile(filepath.Join(dir, p.Path))
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeStrict(b, &patch); err != nil {
			t.Fatalf("%s/%s: %v", dir, p.Path, err)
		}
		if objs.deployment == nil || patch.Kind != "Deployment" || patch.Name != objs.deployment.Name {
			t.Fatalf("%s/%s patches %s %q, which is not among the resources", dir, p.Path, patch.Kind, patch.Name)
		}
		var raw map[string]any
		if err := yaml.Unmarshal(b, &raw); err != nil {
			t.Fatalf("%s/%s: %v", dir, p.Path, err)
		}
		objs.deployment = mergeDeployment(t, objs.deployment, &patch, raw, filepath.Join(dir, p.Path))
	}
	for _, im := range k.Images {
		if objs.deployment == nil {
			t.Fatalf("%s: images without a Deployment", dir)
		}
		for i := range objs.deployment.Spec.Template.Spec.Containers {
			c := &objs.deployment.Spec.Template.Spec.Containers[i]
			repo, tag := splitImage(c.Image)
			if repo != im.Name {
				continue
			}
			if im.NewName != "" {
				repo = im.NewName
			}
			if im.NewTag != "" {
				tag = ":" + im.NewTag
			}
			if im.Digest != "" {
				tag = "@" + im.Digest
			}
			c.Image = repo + tag
		}
	}
	return objs
}

// splitImage splits "registry:5000/shop:1@sha256:..." into the repository and the rest
// (":tag" or "@digest"), as kustomize's image matching does.
func splitImage(ref string) (repo, rest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i:]
	}
	return ref, ""
}

// mergeDeployment applies a strategic-merge patch as kustomize does for the fields the
// overlays patch: replicas, by merge key containers (name), env (name), ports
// (containerPort), volumeMounts (mountPath), volumes (name), and a container's probes
// (mergeProbe; raw is the patch as written, where a null deletes). A patch that sets
// anything else fails, rather than being applied wrongly.
func mergeDeployment(t testing.TB, base, patch *appsv1.Deployment, raw map[string]any, where string) *appsv1.Deployment {
	t.Helper()
	out := base.DeepCopy()
	rest := patch.DeepCopy()
	if patch.Spec.Replicas != nil {
		out.Spec.Replicas = patch.Spec.Replicas
	}
	ps := &out.Spec.Template.Spec
	ps.Volumes = mergeBy(ps.Volumes, patch.Spec.Template.Spec.Volumes, func(v corev1.Volume) string { return v.Name })
	for i, pc := range patch.Spec.Template.Spec.Containers {
		j := slices.IndexFunc(ps.Containers, func(c corev1.Container) bool { return c.Name == pc.Name })
		if j < 0 {
			t.Fatalf("%s: container %q is not in the base", where, pc.Name)
		}
		c := &ps.Containers[j]
		c.Env = mergeBy(c.Env, pc.Env, func(e corev1.EnvVar) string { return e.Name })
		c.Ports = mergeBy(c.Ports, pc.Ports, func(p corev1.ContainerPort) string { return strconv.Itoa(int(p.ContainerPort)) })
		c.VolumeMounts = mergeBy(c.VolumeMounts, pc.VolumeMounts, func(m corev1.VolumeMount) string { return m.MountPath })
		rc := rawContainer(raw, i)
		for _, p := range []struct {
			key  string
			into **corev1.Probe
		}{{"livenessProbe", &c.LivenessProbe}, {"readinessProbe", &c.ReadinessProbe}, {"startupProbe", &c.StartupProbe}} {
			rp, ok := rc[p.key].(map[string]any)
			if !ok {
				continue
			}
			merged, err := mergeProbe(*p.into, rp)
			if err != nil {
				t.Fatalf("%s: %s: %v", where, p.key, err)
			}
			*p.into = merged
		}
		rest.Spec.Template.Spec.Containers[i] = corev1.Container{Name: pc.Name}
	}
	rest.Spec.Replicas, rest.Spec.Template.Spec.Volumes = nil, nil
	skeleton := appsv1.Deployment{TypeMeta: patch.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: patch.Name}}
	skeleton.Spec.Template.Spec.Containers = rest.Spec.Template.Spec.Containers
	if !reflect.DeepEqual(*rest, skeleton) {
		got, _ := yaml.Marshal(rest)
		t.Fatalf("%s sets fields this test's strategic merge does not apply:\n%s", where, got)
	}
	return out
}

// rawContainer is the patch's containers[i] as written ("" keys when absent).
func rawContainer(raw map[string]any, i int) map[string]any {
	m := raw
	for _, k := range []string{"spec", "template", "spec"} {
		m, _ = m[k].(map[string]any)
	}
	cs, _ := m["containers"].([]any)
	if i >= len(cs) {
		return nil
	}
	c, _ := cs[i].(map[string]any)
	return c
}

// mergeProbe applies a patch's probe to the base's as a strategic merge does to a struct
// without lists (a JSON merge patch): the patch's fields replace the base's, recursively,
// and a field written as null deletes the base's (httpGet: null, to swap the handler). A
// result with more or less than one handler is an error, as the API server would refuse it.
func mergeProbe(base *corev1.Probe, patch map[string]any) (*corev1.Probe, error) {
	m := map[string]any{}
	if base != nil {
		b, err := json.Marshal(base)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
	}
	mergeJSON(m, patch)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out corev1.Probe
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{out.Exec != nil, out.HTTPGet != nil, out.TCPSocket != nil, out.GRPC != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("the merged probe has %d handlers, want 1 (a patch that swaps the handler must null the base's): %s", n, b)
	}
	return &out, nil
}

func mergeJSON(dst, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			dv, ok := dst[k].(map[string]any)
			if !ok {
				dv = map[string]any{}
				dst[k] = dv
			}
			mergeJSON(dv, pv)
		default:
			dst[k] = v
		}
	}
}

// mergeBy merges patch into base by key: a patch item replaces the base item with the
// same key (these items have no nested lists to merge), new items are appended.
func mergeBy[T any](base, patch []T, key func(T) string) []T {
	out := slices.Clone(base)
	for _, p := range patch {
		if i := slices.IndexFunc(out, func(b T) bool { return key(b) == key(p) }); i >= 0 {
			out[i] = p
		} else {
			out = append(out, p)
		}
	}
	return out
}

// appContainer is the Deployment's container named "app".
func appContainer(t testing.TB, d *appsv1.Deployment) *corev1.Container {
	t.Helper()
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == "app" {
			return c
		}
	}
	t.Fatalf("Deployment %s has no container named app", d.Name)
	return nil
}

// holdfastSetting is holdfast's value of flag for c: from the command line (holdfast's
// flags can only be in command, before "--": the image's ENTRYPOINT is holdfast and
// args replace CMD, the app's), else its HOLDFAST_* twin, else def.
func holdfastSetting(c *corev1.Container, flag, def string) string {
	for i := 1; i < len(c.Command) && c.Command[i] != "--"; i++ {
		if v, ok := strings.CutPrefix(c.Command[i], "--"+flag+"="); ok {
			return v
		}
		if c.Command[i] == "--"+flag && i+1 < len(c.Command) {
			return c.Command[i+1]
		}
	}
	// The last entry of a name wins in a container's env, as in the kubelet.
	twin := "HOLDFAST_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
	v := def
	for _, e := range c.Env {
		if e.Name == twin {
			v = e.Value
		}
	}
	return v
}

// containerPort resolves a probe or Service port (number or name) in c.
func containerPort(c *corev1.Container, p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		return p.IntValue()
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return -1
}

func addrPort(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(p)
	if err != nil {
		return -1
	}
	return n
}

// TestMergeProbe: a patch's probe replaces fields of the base's, null deletes; a patch
// that adds a second handler without deleting the first is refused (negative control).
func TestMergeProbe(t *testing.T) {
	t.Parallel()
	base := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(8558)}},
		PeriodSeconds: 5, TimeoutSeconds: 2}
	exec := map[string]any{"command": []any{"holdfast", "probe", "ready"}}
	got, err := mergeProbe(base, map[string]any{"httpGet": nil, "exec": exec, "timeoutSeconds": 5})
	if err != nil || got.HTTPGet != nil || got.Exec == nil || got.PeriodSeconds != 5 || got.TimeoutSeconds != 5 {
		t.Errorf("merged = %+v, %v; want the exec handler, the base's period and the patch's timeout", got, err)
	}
	if _, err := mergeProbe(base, map[string]any{"exec": exec}); err == nil {
		t.Error("a probe with two handlers was accepted")
	}
	if got, err := mergeProbe(base, map[string]any{"httpGet": map[string]any{"path": "/healthz"}}); err != nil || got.HTTPGet.Path != "/healthz" || got.HTTPGet.Port.IntValue() != 8558 {
		t.Errorf("a nested field: %+v, %v; want the path replaced, the port kept", got, err)
	}
}
