package image

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// What deploy/docker/Dockerfile's final stages set, mirrored here. The e2e test
// TestImageMatchesDockerfile parses the Dockerfile and compares it with what Build makes.
const (
	HoldfastPath = "/usr/local/bin/holdfast" // the static holdfast binary
	AppJarPath   = "/app/app.jar"            // the Spring Boot fat jar
	WorkDir      = "/app"
	StateDir     = "/var/lib/holdfast" // --state-dir default; a VOLUME (an emptyDir in Kubernetes)
	StopSignal   = "SIGTERM"
	ProbePort    = 8558 // --probe-addr default :8558
	SSHPort      = 2222 // --ssh-addr default :2222
	// NonRootUser is the nonroot target's USER: numeric, so Kubernetes' runAsNonRoot can
	// verify it, and group 0, so an arbitrary uid in group 0 (OpenShift) can write the
	// group-writable state dir too.
	NonRootUser = "10001:0"
)

// Entrypoint is the image's ENTRYPOINT: holdfast, then "--" so that nothing in CMD (or
// the Kubernetes args that replace it) is taken for a holdfast flag.
func Entrypoint() []string { return []string{HoldfastPath, "--"} }

// Cmd is the image's CMD: the app, as the usual Spring Boot image runs it.
func Cmd() []string { return []string{"java", "-jar", AppJarPath} }

// ExposedPorts are the image's EXPOSE ports, as the config writes them.
func ExposedPorts() []string {
	return []string{strconv.Itoa(ProbePort) + "/tcp", strconv.Itoa(SSHPort) + "/tcp"}
}

// Options say what Build puts on which base.
type Options struct {
	// Base is the image to build on: nil means BusyboxBase(). The Dockerfile's base is a
	// JRE image (eclipse-temurin:17-jre); BusyboxBase stands in for it here.
	Base v1.Image
	// Sources maps each files.txt SRC to the host file to copy, e.g.
	// {"holdfast": "/tmp/holdfast", "app.jar": "/tmp/springfail.jar"}. Every SRC of the
	// list must be given and nothing else, so a renamed line cannot go unnoticed.
	Sources map[string]string
	// FilesList is the file list; empty means deploy/docker/files.txt.
	FilesList string
	// NonRoot builds the Dockerfile's nonroot target (USER NonRootUser) instead of the
	// default root one.
	NonRoot bool
}

// Build makes the image of deploy/docker/Dockerfile without a Docker engine: Base plus
// one layer per files.txt line, in order, and the final stages' config.
func Build(opts Options) (v1.Image, error) {
	base := opts.Base
	if base == nil {
		var err error
		if base, err = BusyboxBase(); err != nil {
			return nil, err
		}
	}
	list := opts.FilesList
	if list == "" {
		var err error
		if list, err = FilesList(); err != nil {
			return nil, err
		}
	}
	files, err := LoadFiles(list)
	if err != nil {
		return nil, err
	}
	if err := checkSources(files, opts.Sources, list); err != nil {
		return nil, err
	}
	layers := make([]v1.Layer, 0, len(files))
	for _, f := range files {
		w := newLayerWriter()
		if target, ok := f.IsLink(); ok {
			err = w.symlink(f.Dest, target)
		} else if f.IsDir() {
			err = w.dir(f.Dest, f.Mode, f.UID, f.GID)
		} else {
			err = w.hostFile(f.Dest, opts.Sources[f.Src], f.Mode, f.UID, f.GID)
		}
		if err != nil {
			return nil, err
		}
		l, err := w.layer()
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("cannot add the layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("cannot read the base image config: %w", err)
	}
	cf = cf.DeepCopy()
	applyConfig(&cf.Config, opts.NonRoot)
	if cf.OS == "" {
		cf.OS, cf.Architecture = "linux", runtime.GOARCH
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("cannot set the image config: %w", err)
	}
	return img, nil
}

// applyConfig sets what the Dockerfile's final stages set; the base's Env stays (the JRE
// image's PATH and JAVA_HOME), as it does in a docker build.
func applyConfig(c *v1.Config, nonRoot bool) {
	c.Entrypoint = Entrypoint()
	c.Cmd = Cmd()
	c.WorkingDir = WorkDir
	c.StopSignal = StopSignal
	c.Volumes = map[string]struct{}{StateDir: {}}
	c.ExposedPorts = make(map[string]struct{})
	for _, p := range ExposedPorts() {
		c.ExposedPorts[p] = struct{}{}
	}
	c.User = ""
	if nonRoot {
		c.User = NonRootUser
	}
}

// checkSources fails unless sources names exactly the SRCs of files.
func checkSources(files []File, sources map[string]string, list string) error {
	var want []string
	for _, f := range files {
		if _, link := f.IsLink(); f.IsDir() || link {
			continue
		}
		want = append(want, f.Src)
		if sources[f.Src] == "" {
			return fmt.Errorf("cannot build the image: no source for %q (%s:%d)", f.Src, list, f.Line)
		}
	}
	for _, src := range sortedKeys(sources) {
		if !slices.Contains(want, src) {
			return fmt.Errorf("cannot build the image: source %q is not in %s (it has %v)", src, list, want)
		}
	}
	return nil
}
