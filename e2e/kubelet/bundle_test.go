package kubelet

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"testing"
)

// checkBundle: `holdfast bundle` through the container runtime's exec (crictl exec
// --sync, as `kubectl exec POD -- holdfast bundle > crash.tgz` goes) returns a valid
// gzip-compressed tar whose every file matches its MANIFEST line, with the run's output
// and SUMMARY.txt naming the startup crash.
func checkBundle(t *testing.T, c *cluster, id string) {
	t.Helper()
	out, err := c.exec(id, "holdfast", "bundle")
	if err != nil {
		t.Errorf("holdfast bundle through crictl exec: %v", err)
		return
	}
	files, err := untgz(out)
	if err != nil {
		t.Errorf("holdfast bundle through crictl exec (%d bytes) is no valid .tar.gz: %v", len(out), err)
		return
	}
	manifest, ok := files["MANIFEST"]
	if !ok {
		t.Errorf("the bundle has no MANIFEST: %v", keys(files))
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(manifest), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Errorf("MANIFEST line %q", line)
			continue
		}
		data, ok := files[f[2]]
		sum := sha256.Sum256([]byte(data))
		if !ok || hex.EncodeToString(sum[:]) != f[0] || strconv.Itoa(len(data)) != f[1] {
			t.Errorf("%s: in the bundle %v, %d bytes, sha256 %x; MANIFEST: %s", f[2], ok, len(data), sum, line)
		}
	}
	for _, want := range []string{"status.json", "runs.json", "facts.json", "runs/1/run.json", "runs/1/output.log"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s: %v", want, keys(files))
		}
	}
	if s := files["SUMMARY.txt"]; !strings.Contains(s, "startup-crash") {
		t.Errorf("SUMMARY.txt does not name the startup crash:\n%s", s)
	}
	t.Logf("holdfast bundle through crictl exec: %d bytes, %d files", len(out), len(files))
}

// untgz reads a gzip-compressed tar with one top directory into its files, by path
// below that directory.
func untgz(s string) (map[string]string, error) {
	gz, err := gzip.NewReader(strings.NewReader(s))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		_, rel, _ := strings.Cut(h.Name, "/")
		files[rel] = string(b)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
