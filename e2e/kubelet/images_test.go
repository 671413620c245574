package kubelet

// The images, without a registry (NOTES §3): the holdfast image of deploy/docker (via
// e2e/image) once per zoo app, and a pause image, written as one OCI layout whose index
// names each image (io.containerd.image.name), tarred for `ctr images import`. Pods use
// imagePullPolicy: Never.

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/holdfast-dev/holdfast/e2e/image"
)

// appImage is the image with zoo program app as /app/app.jar.
func appImage(app string) string { return "holdfast.local/shop:" + app }

// zooApps are the programs the scenarios run.
var zooApps = []string{"springfail", "health", "grow"}

// buildImages builds holdfast, the zoo jars and the pause binary into dir, writes every
// image into one OCI layout and returns the path of its tar.
func buildImages(t testing.TB, dir string) string {
	t.Helper()
	bin := holdfastBinary(t, dir)
	jars := buildJars(t, filepath.Join(dir, "jars"), zooApps)
	pause := filepath.Join(dir, "pause")
	goBuild(t, pause, "./testdata/pause/pause.go", ".")

	layout := filepath.Join(dir, "layout")
	for _, app := range zooApps {
		img, err := image.Build(image.Options{Sources: map[string]string{"holdfast": bin, "app.jar": jars[app]}})
		if err != nil {
			t.Fatal(err)
		}
		if err := image.WriteOCILayout(img, layout, appImage(app)); err != nil {
			t.Fatal(err)
		}
	}
	img, err := pauseImg(pause)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.WriteOCILayout(img, layout, pauseImage); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "images.tar")
	if err := tarDir(layout, archive); err != nil {
		t.Fatal(err)
	}
	return archive
}

// pauseImg is one layer with the static /pause, run as the entrypoint.
func pauseImg(bin string) (v1.Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", bin, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(data)),
		Typeflag: tar.TypeReg}); err != nil {
		return nil, fmt.Errorf("cannot write the pause layer: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return nil, fmt.Errorf("cannot write the pause layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("cannot write the pause layer: %w", err)
	}
	b := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("cannot make the pause layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return nil, fmt.Errorf("cannot add the pause layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("cannot read the pause config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/pause"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("cannot set the pause config: %w", err)
	}
	return img, nil
}

// buildJars compiles e2e/testdata/java/<app>/*.java into out/<app>.jar with javac and jar
// (the e2e package's zoo builder lives in its test files, which this package cannot use).
func buildJars(t testing.TB, out string, apps []string) map[string]string {
	t.Helper()
	classes := filepath.Join(out, "classes")
	argv := []string{"javac", "--release", "17", "-d", classes}
	mains := make(map[string]string)
	for _, app := range apps {
		srcs, err := filepath.Glob(filepath.Join(repoRoot, "e2e", "testdata", "java", app, "*.java"))
		if err != nil || len(srcs) != 1 {
			t.Fatalf("cannot find the one .java file of zoo program %s: %v %v", app, srcs, err)
		}
		argv = append(argv, srcs[0])
		mains[app] = strings.TrimSuffix(filepath.Base(srcs[0]), ".java")
	}
	if b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("cannot compile the zoo programs: %v\n%s", err, b)
	}
	files, err := os.ReadDir(classes)
	if err != nil {
		t.Fatal(err)
	}
	jars := make(map[string]string)
	for _, app := range apps {
		jar := filepath.Join(out, app+".jar")
		args := []string{"--create", "--file", jar, "--main-class", mains[app]}
		for _, f := range files {
			// The main class and its nested classes (Main$Inner.class).
			if outer, _, _ := strings.Cut(strings.TrimSuffix(f.Name(), ".class"), "$"); outer == mains[app] {
				args = append(args, "-C", classes, f.Name())
			}
		}
		if b, err := exec.Command("jar", args...).CombinedOutput(); err != nil {
			t.Fatalf("cannot pack %s: %v\n%s", jar, err, b)
		}
		jars[app] = jar
	}
	return jars
}

// tarDir writes the tree under dir as a tar at archive (paths relative to dir).
func tarDir(dir, archive string) error {
	f, err := os.Create(archive)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", archive, err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot tar %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("cannot finish %s: %w", archive, err)
	}
	return f.Close()
}
