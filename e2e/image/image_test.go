package image

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestImageParseFiles(t *testing.T) {
	good := "# comment\n\nholdfast /usr/local/bin/holdfast 0755\n- /var/lib/holdfast 02775 10001:0\n"
	files, err := ParseFiles(strings.NewReader(good), "good")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Src != "holdfast" || files[0].Mode != 0o755 || files[0].Line != 3 ||
		!files[1].IsDir() || files[1].Mode != 0o775|fs.ModeSetgid || files[1].Owner() != "10001:0" {
		t.Errorf("parsed %+v", files)
	}
	if OctalMode(files[1].Mode) != "2775" {
		t.Errorf("OctalMode = %s, want 2775", OctalMode(files[1].Mode))
	}
	for _, bad := range []struct{ text, want string }{
		{"a /x 755\n", "leading 0"},
		{"a /x 0799\n", "octal"},
		{"a x 0755\n", "absolute"},
		{"a /x/../y 0755\n", "clean"},
		{"a /x 0755 root:0\n", "numeric"},
		{"dir/a /x 0755\n", "plain file name"},
		{"a /x\n", "fields"},
		{"a /x 0755\nb /x 0644\n", "line 1"},
		{"# nothing\n", "no files"},
	} {
		_, err := ParseFiles(strings.NewReader(bad.text), "bad")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseFiles(%q) = %v, want an error containing %q", bad.text, err, bad.want)
		}
	}
}

// layerOf builds an uncompressed layer from entries written by fill.
func layerOf(t *testing.T, fill func(w *tar.Writer)) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	fill(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer)
}

func imageOf(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func entry(w *tar.Writer, h *tar.Header, body string) {
	h.Size = int64(len(body))
	if h.Typeflag == 0 {
		h.Typeflag = tar.TypeReg
	}
	if h.Mode == 0 {
		h.Mode = 0o644
	}
	_ = w.WriteHeader(h)
	_, _ = w.Write([]byte(body))
}

func TestImageUnpackOverlaySemantics(t *testing.T) {
	lower := layerOf(t, func(w *tar.Writer) {
		entry(w, &tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, "")
		entry(w, &tar.Header{Name: "etc/gone"}, "lower")
		entry(w, &tar.Header{Name: "etc/kept", Uid: 7, Gid: 8, Mode: 0o4755}, "lower")
		entry(w, &tar.Header{Name: "opq/old"}, "old")
		entry(w, &tar.Header{Name: "../../escape"}, "x") // cleaned to /escape
	})
	upper := layerOf(t, func(w *tar.Writer) {
		entry(w, &tar.Header{Name: "etc/.wh.gone"}, "")
		entry(w, &tar.Header{Name: "opq/.wh..wh..opq"}, "")
		entry(w, &tar.Header{Name: "opq/new"}, "new")
		entry(w, &tar.Header{Typeflag: tar.TypeSymlink, Name: "etc/link", Linkname: "/etc/kept"}, "")
		entry(w, &tar.Header{Typeflag: tar.TypeLink, Name: "etc/hard", Linkname: "etc/kept"}, "")
	})
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := Unpack(imageOf(t, lower, upper), root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/gone")); !os.IsNotExist(err) {
		t.Errorf("whiteout: etc/gone still there (%v)", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "opq/old")); !os.IsNotExist(err) {
		t.Errorf("opaque whiteout: opq/old still there (%v)", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "opq/new")); string(b) != "new" {
		t.Errorf("opq/new = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "escape")); string(b) != "x" {
		t.Errorf("../../escape was not kept inside the rootfs: %q", b)
	}
	fi, err := os.Stat(filepath.Join(root, "etc/kept"))
	if err != nil || fi.Mode() != 0o755|fs.ModeSetuid {
		t.Fatalf("etc/kept: %v %v, want -rwsr-xr-x", fi.Mode(), err)
	}
	if st := fi.Sys().(*syscall.Stat_t); os.Geteuid() == 0 && (st.Uid != 7 || st.Gid != 8 || st.Nlink != 2) {
		t.Errorf("etc/kept owner %d:%d nlink %d, want 7:8 and 2 links", st.Uid, st.Gid, st.Nlink)
	}
	if l, _ := os.Readlink(filepath.Join(root, "etc/link")); l != "/etc/kept" {
		t.Errorf("etc/link -> %q", l)
	}
}

func TestImageUnpackRefusesSymlinkedParents(t *testing.T) {
	outside := t.TempDir()
	img := imageOf(t, layerOf(t, func(w *tar.Writer) {
		entry(w, &tar.Header{Typeflag: tar.TypeSymlink, Name: "lib", Linkname: outside}, "")
		entry(w, &tar.Header{Name: "lib/planted"}, "x")
	}))
	err := Unpack(img, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Unpack through a symlink = %v, want an error naming the symlink", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside the rootfs through the symlink (%v)", err)
	}
	// Control: the same entry through a real directory unpacks.
	ok := imageOf(t, layerOf(t, func(w *tar.Writer) { entry(w, &tar.Header{Name: "lib/planted"}, "x") }))
	if err := Unpack(ok, t.TempDir()); err != nil {
		t.Errorf("control: %v", err)
	}
}

func TestImageBuildChecksSources(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "files.txt")
	writeFile(t, list, "a /opt/a 0644\n")
	writeFile(t, filepath.Join(dir, "a"), "A")
	base := imageOf(t)
	if _, err := Build(Options{Base: base, FilesList: list}); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("missing source: %v", err)
	}
	src := map[string]string{"a": filepath.Join(dir, "a"), "b": filepath.Join(dir, "a")}
	if _, err := Build(Options{Base: base, FilesList: list, Sources: src}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("extra source: %v", err)
	}
	delete(src, "b")
	img, err := Build(Options{Base: base, FilesList: list, Sources: src, NonRoot: true})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil || cf.Config.User != NonRootUser || cf.OS != "linux" {
		t.Errorf("config %+v %v", cf, err)
	}
}

func TestImageWriteLayoutAndTarball(t *testing.T) {
	img := imageOf(t, layerOf(t, func(w *tar.Writer) { entry(w, &tar.Header{Name: "hello"}, "hi") }))
	want, _ := img.Digest()
	dir := filepath.Join(t.TempDir(), "oci")
	for _, n := range []string{"docker.io/library/a:1", "docker.io/library/b:2"} {
		if err := WriteOCILayout(img, dir, n); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 2 {
		t.Fatalf("index %+v %v, want two images (the second write appends)", im, err)
	}
	for i, n := range []string{"docker.io/library/a:1", "docker.io/library/b:2"} {
		d := im.Manifests[i]
		if d.Digest != want || d.Annotations[annotationContainerName] != n || d.Platform == nil {
			t.Errorf("index entry %d = %+v, want digest %s named %s with a platform", i, d, want, n)
		}
	}
	tb := filepath.Join(t.TempDir(), "img.tar")
	if err := WriteTarball(img, tb, "shop:holdfast"); err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(tb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := back.ConfigName(); d != mustConfigName(t, img) {
		t.Errorf("tarball config %s, want %s", d, mustConfigName(t, img))
	}
	if err := WriteTarball(img, tb, "not a ref"); err == nil {
		t.Error("WriteTarball accepted a bad reference")
	}
}

func mustConfigName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
