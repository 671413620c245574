package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Annotations an OCI layout's index gives an image so that importers find it by name:
// the OCI one, and containerd's, which `ctr images import` uses for the image's full name.
const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerName = "io.containerd.image.name"
)

// WriteOCILayout adds img to the OCI image layout in dir (created when missing; an
// existing layout keeps its other images) under name, a full reference such as
// "docker.io/library/shop:holdfast". A tar of dir is what `ctr images import` reads.
func WriteOCILayout(img v1.Image, dir, name string) error {
	if name == "" {
		return errors.New("cannot write an OCI layout: the image needs a name")
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot open the OCI layout %s: %w", dir, err)
		}
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("cannot create the OCI layout %s: %w", dir, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("cannot read the image config: %w", err)
	}
	err = p.AppendImage(img,
		layout.WithAnnotations(map[string]string{annotationRefName: name, annotationContainerName: name}),
		layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture}))
	if err != nil {
		return fmt.Errorf("cannot write the image to %s: %w", dir, err)
	}
	return nil
}

// WriteTarball writes img as a `docker save` archive to path, tagged ref (e.g.
// "shop:holdfast"); `docker load`, `podman load` and `ctr images import` read it.
func WriteTarball(img v1.Image, path, ref string) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("cannot parse the image reference %q: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot create the directory of %s: %w", path, err)
	}
	if err := tarball.WriteToFile(path, r, img); err != nil {
		return fmt.Errorf("cannot write the image tarball %s: %w", path, err)
	}
	return nil
}
