package image

// deploy/docker/Dockerfile and Build must make the same image: this test parses the
// Dockerfile on its own (the package never reads it) and compares.

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// dfInstr is one Dockerfile instruction, continuation lines joined.
type dfInstr struct {
	cmd, args string
	line      int
}

type dfStage struct {
	from, name string
	instrs     []dfInstr
}

// parseDockerfile splits text into stages. It knows only what the Dockerfile uses:
// comments, "\" continuations, global ARGs, and FROM ... AS name.
func parseDockerfile(text string) (args map[string]string, stages []*dfStage, err error) {
	args = make(map[string]string)
	var cur strings.Builder
	start := 0
	lines := strings.Split(text, "\n")
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		cmd, rest, _ := strings.Cut(cur.String(), " ")
		in := dfInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest), line: start}
		cur.Reset()
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			st := &dfStage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case len(stages) == 0:
			return nil, nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		default:
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
		}
	}
	if len(stages) == 0 {
		return nil, nil, fmt.Errorf("no FROM")
	}
	return args, stages, nil
}

// chain is target's stages, base first; target "" is the last stage (docker's default).
func chain(stages []*dfStage, target string) ([]*dfStage, string) {
	byName := map[string]*dfStage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	st := stages[len(stages)-1]
	if target != "" {
		st = byName[target]
	}
	var out []*dfStage
	for st != nil {
		out = append([]*dfStage{st}, out...)
		from := st.from
		st = byName[from]
		if st == nil {
			return out, from
		}
	}
	return out, ""
}

// dfImage is what a target's chain sets, in files.txt's terms.
type dfImage struct {
	files                           []string // "SRC DEST MODE UID:GID", in layer order
	entrypoint, cmd, volumes, ports []string
	stopSignal, user, workdir, base string
	problems                        []string
}

var installDir = regexp.MustCompile(`install -d -m (0[0-7]+) -o (\d+) -g (\d+) (/\S+)`)

var lnS = regexp.MustCompile(`ln -s (\S+) (/\S+)`)

func evalTarget(args map[string]string, stages []*dfStage, target string) dfImage {
	var im dfImage
	ch, base := chain(stages, target)
	im.base = os.Expand(base, func(k string) string { return args[k] })
	for _, st := range ch {
		for _, in := range st.instrs {
			bad := func(format string, a ...any) {
				im.problems = append(im.problems, fmt.Sprintf("line %d: %s", in.line, fmt.Sprintf(format, a...)))
			}
			jsonArgs := func() []string {
				var v []string
				if err := json.Unmarshal([]byte(in.args), &v); err != nil {
					// Shell form would make /bin/sh PID 1 instead of holdfast.
					bad("%s must be in exec (JSON) form: %v", in.cmd, err)
				}
				return v
			}
			switch in.cmd {
			case "COPY":
				mode, owner := "", "0:0"
				f := strings.Fields(in.args)
				for len(f) > 0 && strings.HasPrefix(f[0], "--") {
					k, v, _ := strings.Cut(f[0], "=")
					switch k {
					case "--chmod":
						mode = v
					case "--chown":
						owner = v
					}
					f = f[1:]
				}
				if len(f) != 2 || mode == "" {
					bad("COPY must copy one source with --chmod: %q", in.args)
					continue
				}
				im.files = append(im.files, fmt.Sprintf("%s %s %s %s", path.Base(f[0]), f[1], mode, owner))
			case "RUN":
				for _, m := range installDir.FindAllStringSubmatch(in.args, -1) {
					im.files = append(im.files, fmt.Sprintf("%s %s %s %s:%s", DirSrc, m[4], m[1], m[2], m[3]))
				}
				for _, m := range lnS.FindAllStringSubmatch(in.args, -1) {
					im.files = append(im.files, fmt.Sprintf("%s%s %s 0777 0:0", LinkSrc, m[1], m[2]))
				}
			case "ENTRYPOINT":
				im.entrypoint = jsonArgs()
			case "CMD":
				im.cmd = jsonArgs()
			case "VOLUME":
				im.volumes = append(im.volumes, jsonArgs()...)
			case "EXPOSE":
				for _, p := range strings.Fields(in.args) {
					if !strings.Contains(p, "/") {
						p += "/tcp"
					}
					im.ports = append(im.ports, p)
				}
			case "STOPSIGNAL":
				im.stopSignal = in.args
			case "USER":
				im.user = in.args
			case "WORKDIR":
				im.workdir = in.args
			case "ENV", "ADD", "SHELL", "HEALTHCHECK", "ONBUILD":
				// Build does not mirror these: a change here must come with one there.
				bad("%s in a final stage is not mirrored by e2e/image", in.cmd)
			}
		}
	}
	return im
}

// diffImage lists where the built image differs from the Dockerfile's target.
func diffImage(im dfImage, files []File, img v1.Image, baseLayers int) []string {
	out := slices.Clone(im.problems)
	var want []string
	for _, f := range files {
		want = append(want, fmt.Sprintf("%s %s %s %s", f.Src, f.Dest, OctalMode(f.Mode), f.Owner()))
	}
	if !slices.Equal(im.files, want) {
		out = append(out, fmt.Sprintf("Dockerfile adds %q, files.txt lists %q", im.files, want))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return append(out, err.Error())
	}
	c := cf.Config
	cmp := func(what string, df, built any) {
		if fmt.Sprint(df) != fmt.Sprint(built) {
			out = append(out, fmt.Sprintf("%s: Dockerfile %v, built %v", what, df, built))
		}
	}
	cmp("ENTRYPOINT", im.entrypoint, c.Entrypoint)
	cmp("CMD", im.cmd, c.Cmd)
	cmp("STOPSIGNAL", im.stopSignal, c.StopSignal)
	cmp("USER", im.user, c.User)
	cmp("WORKDIR", im.workdir, c.WorkingDir)
	cmp("VOLUME", sorted(im.volumes), sortedKeys(c.Volumes))
	cmp("EXPOSE", sorted(im.ports), sortedKeys(c.ExposedPorts))
	// One layer per files.txt line, each holding exactly that path with that mode/owner.
	layers, err := img.Layers()
	if err != nil || len(layers) != baseLayers+len(files) {
		return append(out, fmt.Sprintf("built %d layers (%v), want %d base + %d", len(layers), err, baseLayers, len(files)))
	}
	for i, f := range files {
		got, err := layerEntry(layers[baseLayers+i], f.Dest)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		if w := want[i]; got != w {
			out = append(out, fmt.Sprintf("layer %d holds %q, want %q", baseLayers+i, got, w))
		}
	}
	return out
}

// layerEntry describes dest in l as a files.txt line would.
func layerEntry(l v1.Layer, dest string) (string, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("no %s in its layer", dest)
		}
		if err != nil {
			return "", err
		}
		if path.Clean("/"+h.Name) != dest {
			continue
		}
		src := "?"
		if h.Typeflag == tar.TypeDir {
			src = DirSrc
		} else if h.Typeflag == tar.TypeSymlink {
			src = LinkSrc + h.Linkname
		} else if b, _ := io.ReadAll(tr); len(b) > 0 {
			src = string(bytes.TrimSpace(b)) // the test's sources hold their own SRC name
		}
		return fmt.Sprintf("%s %s %s %d:%d", src, dest, OctalMode(h.FileInfo().Mode()), h.Uid, h.Gid), nil
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestImageMatchesDockerfile(t *testing.T) {
	deploy, err := DeployDir()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(deploy, "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(deploy, "docker", "files.txt")
	files, err := LoadFiles(list)
	if err != nil {
		t.Fatal(err)
	}
	// Each source holds its own name, so a layer shows which source it got.
	sources := map[string]string{}
	for _, f := range files {
		if _, link := f.IsLink(); !f.IsDir() && !link {
			sources[f.Src] = filepath.Join(t.TempDir(), f.Src)
			writeFile(t, sources[f.Src], f.Src+"\n")
		}
	}
	base, err := BusyboxBase()
	if err != nil {
		t.Fatal(err)
	}
	baseLayers, _ := base.Layers()
	build := func(nonRoot bool) v1.Image {
		img, err := Build(Options{Base: base, Sources: sources, NonRoot: nonRoot})
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	root, nonroot := build(false), build(true)
	args, stages, err := parseDockerfile(string(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target string
		img    v1.Image
	}{{"", root}, {"root", root}, {"nonroot", nonroot}} {
		im := evalTarget(args, stages, tc.target)
		for _, d := range diffImage(im, files, tc.img, len(baseLayers)) {
			t.Errorf("target %q: %s", tc.target, d)
		}
		if !strings.Contains(im.base, "jre") {
			t.Errorf("target %q is based on %q, want a JRE image", tc.target, im.base)
		}
	}

	// The build stage makes the static binary the final stages copy.
	build0, _ := chain(stages, "build")
	var runs string
	for _, in := range build0[len(build0)-1].instrs {
		if in.cmd == "RUN" {
			runs += in.args + "\n"
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-o /out/holdfast", "./cmd/holdfast"} {
		if !strings.Contains(runs, want) {
			t.Errorf("build stage RUNs lack %q:\n%s", want, runs)
		}
	}

	// Negative controls: each drift is caught.
	for _, m := range []struct{ old, new string }{
		{"--chmod=0755 /out/holdfast", "--chmod=0775 /out/holdfast"},
		{`ENTRYPOINT ["/usr/local/bin/holdfast", "--"]`, `ENTRYPOINT /usr/local/bin/holdfast --`},
		{`CMD ["java", "-jar", "/app/app.jar"]`, `CMD ["java", "-jar", "/app.jar"]`},
		{"STOPSIGNAL SIGTERM", "STOPSIGNAL SIGINT"},
		{"USER 10001:0", "USER 10001"},
		{"-o 10001 -g 0 /var/lib/holdfast", "-o 0 -g 0 /var/lib/holdfast"},
		{`VOLUME ["/var/lib/holdfast"]`, `VOLUME ["/var/lib/holdfast", "/tmp"]`},
		{"EXPOSE 8558 2222", "EXPOSE 8558"},
		{"WORKDIR /app", "WORKDIR /app\nENV JAVA_OPTS=-Xmx1g"},
	} {
		if !strings.Contains(string(text), m.old) {
			t.Fatalf("control: the Dockerfile has no %q to change", m.old)
		}
		a, s, err := parseDockerfile(strings.Replace(string(text), m.old, m.new, 1))
		if err != nil {
			t.Fatal(err)
		}
		if d := diffImage(evalTarget(a, s, "nonroot"), files, nonroot, len(baseLayers)); len(d) == 0 {
			t.Errorf("control: changing %q to %q went unnoticed", m.old, m.new)
		}
	}
}
