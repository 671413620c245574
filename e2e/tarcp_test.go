package e2e

// holdfast's tar personality (internal/tarcp) driven with the exact argv kubectl v1.36
// cp runs in the container (k8s.io/kubectl v0.36.3 pkg/cmd/cp/cp.go), through pipes,
// against GNU tar running the same argv; and the traversal patterns of kubectl cp's CVEs
// (CVE-2018-1002100, CVE-2019-1002101, CVE-2019-11246, CVE-2019-11249) refused with
// nothing written outside the target directory.

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// The commands kubectl cp runs in the container.
var (
	kubectlCreate    = func(path string) []string { return []string{"tar", "cf", "-", path} }
	kubectlExtract   = func(dir string) []string { return []string{"tar", "-xmf", "-", "-C", dir} }
	kubectlNoPreserv = func(dir string) []string {
		return []string{"tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C", dir}
	}
)

// holdfastTar is a symlink named tar to the holdfast under test, in a directory of its own.
func holdfastTar(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tar")
	must(t, os.Symlink(holdfastBin, p))
	return p
}

// runTar runs argv (argv[0] "tar") as bin, with stdin, in dir; it returns stdout,
// stderr and the exit code.
func runTar(t testing.TB, bin string, argv []string, stdin []byte, dir string) ([]byte, string, int) {
	t.Helper()
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatalf("%s %q: %v", bin, argv, err)
	}
	return out.Bytes(), errb.String(), cmd.ProcessState.ExitCode()
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// node is what a test compares of one file of a tree.
type node struct {
	Type     string
	Mode     fs.FileMode
	Size     int64
	Sum      string
	Link     string
	UID, GID uint32
	Mtime    int64
}

// tree describes every entry below root by its slash path.
func tree(t testing.TB, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		fi, _ := d.Info()
		n := node{Mode: fi.Mode(), UID: st.Uid, GID: st.Gid, Mtime: st.Mtim.Sec}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			n.Type, n.Size, n.Sum = "file", int64(len(b)), hex.EncodeToString(s[:])
		case fi.IsDir():
			n.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			n.Type, n.Link = "symlink", must1(os.Readlink(p))
		default:
			n.Type = fi.Mode().Type().String()
		}
		out[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func must1[T any](v T, _ error) T { return v }

// members describes the members of an uncompressed tar.
func members(t testing.TB, archive []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading the archive: %v", err)
		}
		b, _ := io.ReadAll(tr)
		s := sha256.Sum256(b)
		out[h.Name] = fmt.Sprintf("type %c mode %o uid %d gid %d uname %q gname %q size %d mtime %d link %q sha %x",
			h.Typeflag, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.Size, h.ModTime.Unix(), h.Linkname, s[:8])
	}
}

// evidenceTree makes a run dir as holdfast leaves one, with modes, owners, a link, an
// empty file and an empty dir, and past mtimes.
func evidenceTree(t testing.TB, root string) {
	t.Helper()
	files := []struct {
		name string
		mode fs.FileMode
		data string
	}{
		{"run.json", 0o600, `{"run":3}`},
		{"output.log", 0o644, strings.Repeat("Application run failed\n", 40000)},
		{"jvm/hs_err_pid7.log", 0o640, "# A fatal error\n"},
		{"jvm/start.sh", 0o755, "#!/bin/sh\n"},
		{"jvm/empty", 0o644, ""},
	}
	for _, f := range files {
		p := filepath.Join(root, f.name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(f.data), f.mode))
		must(t, os.Chmod(p, f.mode))
	}
	must(t, os.Mkdir(filepath.Join(root, "jvm", "nothing"), 0o750))
	must(t, os.Symlink("hs_err_pid7.log", filepath.Join(root, "jvm", "latest")))
	must(t, os.Lchown(filepath.Join(root, "jvm", "hs_err_pid7.log"), 1234, 4321))
	past := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			must(t, os.Chtimes(p, past, past))
		}
		return nil
	})
	must(t, os.Chtimes(root, past, past))
}

// kubectlArchive is the archive kubectl cp LOCAL POD:DEST sends: each file, link and
// empty directory below src, named below base (the last element of DEST), from
// archive/tar's FileInfoHeader; no entries for directories that have contents.
func kubectlArchive(t testing.TB, src, base string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var walk func(p, name string)
	walk = func(p, name string) {
		fi, err := os.Lstat(p)
		must(t, err)
		hdr, err := tar.FileInfoHeader(fi, "")
		must(t, err)
		hdr.Name = name
		switch {
		case fi.IsDir():
			entries, err := os.ReadDir(p)
			must(t, err)
			if len(entries) == 0 {
				must(t, tw.WriteHeader(hdr))
			}
			for _, e := range entries {
				walk(filepath.Join(p, e.Name()), name+"/"+e.Name())
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			hdr.Linkname = must1(os.Readlink(p))
			must(t, tw.WriteHeader(hdr))
		default:
			must(t, tw.WriteHeader(hdr))
			b, err := os.ReadFile(p)
			must(t, err)
			_, err = tw.Write(b)
			must(t, err)
		}
	}
	walk(src, base)
	must(t, tw.Close())
	return buf.Bytes()
}

// kubectl cp POD:PATH LOCAL: `tar cf - PATH` in the pod. holdfast's archive has the
// members GNU tar writes for the same command (names, types, modes, owners, sizes,
// mtimes, link targets, contents) and its message about the leading "/"; GNU tar
// extracts it to the same tree.
func TestTarCopyFromPod(t *testing.T) {
	t.Parallel()
	gtar := hfrun.NeedTool(t, "tar")
	ht := holdfastTar(t)
	root := t.TempDir()
	src := filepath.Join(root, "var", "lib", "holdfast", "runs", "3")
	evidenceTree(t, src)

	hOut, hErr, hCode := runTar(t, ht, kubectlCreate(src), nil, "/")
	gOut, gErr, gCode := runTar(t, gtar, kubectlCreate(src), nil, "/")
	if hCode != 0 || gCode != 0 {
		t.Fatalf("exit: holdfast %d (%s), GNU tar %d (%s)", hCode, hErr, gCode, gErr)
	}
	if hErr != gErr {
		t.Errorf("stderr: holdfast %q, GNU tar %q", hErr, gErr)
	}
	hm, gm := members(t, hOut), members(t, gOut)
	if len(hm) < 9 {
		t.Fatalf("holdfast's archive has %d members: %v", len(hm), hm)
	}
	for name, g := range gm {
		if h := hm[name]; h != g {
			t.Errorf("%s:\n  holdfast %s\n  GNU tar  %s", name, h, g)
		}
	}
	for name := range hm {
		if _, ok := gm[name]; !ok {
			t.Errorf("%s: in holdfast's archive only", name)
		}
	}

	// kubectl's side: the archive read by GNU tar gives the pod's tree.
	out := t.TempDir()
	gnuTar(t, gtar, hOut, "-xf", "-", "-C", out)
	want, got := tree(t, src), tree(t, filepath.Join(out, strings.TrimPrefix(src, "/")))
	compareTrees(t, got, want, true)
}

// kubectl cp LOCAL POD:DIR: `tar -xmf - -C DIR`, and with --no-preserve `tar
// --no-same-permissions --no-same-owner -xmf - -C DIR`, fed kubectl's own archive and
// GNU tar's: holdfast extracts the tree GNU tar extracts (contents, types, modes,
// owners), and neither keeps the archive's mtimes (-m).
func TestTarCopyToPod(t *testing.T) {
	t.Parallel()
	gtar := hfrun.NeedTool(t, "tar")
	ht := holdfastTar(t)
	src := filepath.Join(t.TempDir(), "evidence")
	evidenceTree(t, src)
	gnuArchive := []byte(gnuTarOut(t, gtar, "-cf", "-", "-C", filepath.Dir(src), "evidence"))
	for aname, archive := range map[string][]byte{"kubectl's archive": kubectlArchive(t, src, "evidence"), "GNU tar's archive": gnuArchive} {
		for fname, argv := range map[string]func(string) []string{"-xmf": kubectlExtract, "--no-preserve": kubectlNoPreserv} {
			before := time.Now().Add(-2 * time.Second)
			hDir, gDir := t.TempDir(), t.TempDir()
			_, hErr, hCode := runTar(t, ht, argv(hDir), archive, "/")
			_, gErr, gCode := runTar(t, gtar, argv(gDir), archive, "/")
			if hCode != 0 || gCode != 0 {
				t.Fatalf("%s, %s: exit holdfast %d (%s), GNU tar %d (%s)", aname, fname, hCode, hErr, gCode, gErr)
			}
			got, want := tree(t, hDir), tree(t, gDir)
			if len(got) < 8 {
				t.Fatalf("%s, %s: holdfast extracted %d entries", aname, fname, len(got))
			}
			t.Run(strings.ReplaceAll(aname+" "+fname, " ", "_"), func(t *testing.T) { compareTrees(t, got, want, false) })
			for name, n := range got {
				if n.Type == "file" && n.Mtime < before.Unix() {
					t.Errorf("%s, %s: %s has mtime %s, the archive's: -m must not keep it", aname, fname, name, time.Unix(n.Mtime, 0))
				}
			}
		}
	}
	// -xmf - without -C extracts into the working directory (kubectl cp LOCAL POD:NAME).
	hDir := t.TempDir()
	if _, errOut, code := runTar(t, ht, []string{"tar", "-xmf", "-"}, gnuArchive, hDir); code != 0 {
		t.Fatalf("tar -xmf - in %s: exit %d: %s", hDir, code, errOut)
	}
	if _, err := os.Stat(filepath.Join(hDir, "evidence", "run.json")); err != nil {
		t.Errorf("tar -xmf - did not extract into its working directory: %v", err)
	}
	// Anything else: one line, exit 2.
	for _, argv := range [][]string{{"tar", "xzf", "-"}, {"tar", "-cf", "-", "x"}, {"tar", "--version"}, {"tar", "-xmf", "/etc/passwd"}} {
		out, errOut, code := runTar(t, ht, argv, nil, t.TempDir())
		if code != 2 || len(out) != 0 || !strings.Contains(errOut, "holdfast's tar supports only what kubectl cp uses") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line", argv, code, out, errOut)
		}
	}
}

func gnuTarOut(t testing.TB, gtar string, args ...string) string {
	return gnuTar(t, gtar, nil, args...)
}

// compareTrees compares two extracted trees; mtimes only with withMtime.
func compareTrees(t testing.TB, got, want map[string]node, withMtime bool) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		g, w := got[n], want[n]
		if !withMtime || g.Type == "symlink" {
			g.Mtime, w.Mtime = 0, 0
		}
		if g.Type == "dir" && !withMtime {
			g.Size, w.Size = 0, 0
		}
		if g != w {
			t.Errorf("%s:\n  holdfast %+v\n  GNU tar  %+v", n, g, w)
		}
	}
}

// attack is one archive of traversal members, each of which must be refused.
type attack struct {
	name    string
	members func(outside string) []*tar.Header // data members carry "pwned"
	pre     func(t testing.TB, target, outside string)
	// replaced: the member is extracted, replacing what was planted (never written
	// through it), so there is nothing to refuse.
	replaced bool
}

// attacks are the patterns of kubectl cp's CVEs and their relatives, aimed at outside,
// a sibling of the target dir. Each archive ends with a harmless ok.txt.
var attacks = []attack{
	{name: "CVE-2018-1002100 dot-dot name", members: func(string) []*tar.Header {
		return []*tar.Header{reg("../outside/pwned-dotdot")}
	}},
	{name: "dot-dot inside a name", members: func(string) []*tar.Header {
		return []*tar.Header{reg("sub/../../outside/pwned-inner")}
	}},
	{name: "absolute name", members: func(outside string) []*tar.Header {
		return []*tar.Header{reg(outside + "/pwned-abs")}
	}},
	{name: "CVE-2019-1002101 absolute symlink then a file through it", members: func(outside string) []*tar.Header {
		return []*tar.Header{link("evil", outside), reg("evil/pwned-abslink")}
	}},
	{name: "CVE-2019-11246 relative symlink climbing out then a file through it", members: func(string) []*tar.Header {
		return []*tar.Header{link("rel", "../outside"), reg("rel/pwned-rellink")}
	}},
	{name: "CVE-2019-11249 symlink with dot-dot after a name", members: func(string) []*tar.Header {
		return []*tar.Header{dir("d"), link("d/up", "../d/../../outside"), reg("d/up/pwned-dotdotlink")}
	}},
	{name: "symlink chain out", members: func(string) []*tar.Header {
		return []*tar.Header{dir("a"), link("a/one", ".."), link("a/two", "one/../.."), reg("a/two/outside/pwned-chain")}
	}},
	{name: "symlink then overwrite the link's target", members: func(outside string) []*tar.Header {
		return []*tar.Header{link("victim-link", outside+"/victim"), reg("victim-link")}
	}},
	{name: "hard link to a file outside, then written", members: func(outside string) []*tar.Header {
		return []*tar.Header{hard("hl", outside+"/victim"), reg("hl")}
	}},
	{name: "hard link with dot-dot, then written", members: func(string) []*tar.Header {
		return []*tar.Header{hard("hl2", "../outside/victim"), reg("hl2")}
	}},
	{name: "a symlink already in the target dir", members: func(string) []*tar.Header {
		return []*tar.Header{reg("planted/pwned-planted")}
	}, pre: func(t testing.TB, target, outside string) {
		must(t, os.Symlink(outside, filepath.Join(target, "planted")))
	}},
	{name: "a hard link already in the target dir", members: func(string) []*tar.Header {
		return []*tar.Header{reg("planted-hard")}
	}, pre: func(t testing.TB, target, outside string) {
		must(t, os.Link(filepath.Join(outside, "victim"), filepath.Join(target, "planted-hard")))
	}, replaced: true},
	{name: "devices and a fifo", members: func(string) []*tar.Header {
		return []*tar.Header{
			{Name: "mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1, Mode: 0o666},
			{Name: "sda", Typeflag: tar.TypeBlock, Devmajor: 8, Devminor: 0, Mode: 0o660},
			{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o644},
		}
	}},
}

func reg(name string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len("pwned\n"))}
}
func dir(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755} }
func link(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}
func hard(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
}

// attackArchive writes a's members, then ok.txt.
func attackArchive(t testing.TB, a attack, outside string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range append(a.members(outside), reg("ok.txt")) {
		h.Format = tar.FormatGNU
		must(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte("pwned\n"))
			must(t, err)
		}
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// attackScene is a target dir and its sibling outside/, which holds a victim file.
func attackScene(t testing.TB, a attack) (target, outside string, snapshot func() map[string]node) {
	t.Helper()
	base := t.TempDir()
	target, outside = filepath.Join(base, "target"), filepath.Join(base, "outside")
	must(t, os.Mkdir(target, 0o755))
	must(t, os.Mkdir(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "victim"), []byte("the victim's own content\n"), 0o644))
	if a.pre != nil {
		a.pre(t, target, outside)
	}
	return target, outside, func() map[string]node {
		s := tree(t, base)
		for name := range s {
			if name == "target" || strings.HasPrefix(name, "target/") {
				delete(s, name)
			}
		}
		return s
	}
}

// escaped says what changed outside the target dir, or "" when nothing did.
func escaped(before, after map[string]node) string {
	var out []string
	for name, n := range after {
		if b, ok := before[name]; !ok || b.Sum != n.Sum || b.Type != n.Type {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// The attack: every pattern, extracted with kubectl cp's argv (both forms), is refused
// member by member with a message and exit 2; nothing outside the target dir is created
// or changed; nothing in it is a device, a fifo, or a link that leads out; and the
// harmless member after the attack is extracted.
func TestTarTraversalRefused(t *testing.T) {
	t.Parallel()
	ht := holdfastTar(t)
	for _, a := range attacks {
		for fname, argv := range map[string]func(string) []string{"-xmf": kubectlExtract, "--no-preserve": kubectlNoPreserv} {
			target, outside, snapshot := attackScene(t, a)
			before := snapshot()
			_, errOut, code := runTar(t, ht, argv(target), attackArchive(t, a, outside), "/")
			if a.replaced && code != 0 {
				t.Errorf("%s (%s): exit %d, stderr %q; want exit 0", a.name, fname, code, errOut)
			}
			if !a.replaced && (code != 2 || !strings.Contains(errOut, ": refused: ")) {
				t.Errorf("%s (%s): exit %d, stderr %q; want exit 2 and a refusal", a.name, fname, code, errOut)
			}
			if what := escaped(before, snapshot()); what != "" {
				t.Errorf("%s (%s): written outside the target dir: %s\nstderr: %s", a.name, fname, what, errOut)
			}
			if b, err := os.ReadFile(filepath.Join(target, "ok.txt")); err != nil || string(b) != "pwned\n" {
				t.Errorf("%s (%s): the harmless member after the attack was not extracted: %v", a.name, fname, err)
			}
			for name, n := range tree(t, target) {
				switch {
				case n.Type != "file" && n.Type != "dir" && n.Type != "symlink":
					t.Errorf("%s (%s): %s is a %s in the target dir", a.name, fname, name, n.Type)
				case n.Type == "symlink" && !inside(target, must1(filepath.EvalSymlinks(filepath.Join(target, name)))) &&
					!(a.pre != nil && name == "planted"):
					t.Errorf("%s (%s): %s is a link out of the target dir, to %s", a.name, fname, name, n.Link)
				}
			}
		}
	}
}

// inside reports whether p is dir or below it.
func inside(dir, p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// The negative control: a naive extractor (a path join, then create, following links)
// given the same archives does write outside, and escaped sees it; so a pass of
// TestTarTraversalRefused is not for want of a working check.
func TestTarTraversalControl(t *testing.T) {
	t.Parallel()
	caught := 0
	for _, a := range attacks {
		target, outside, snapshot := attackScene(t, a)
		before := snapshot()
		naiveExtract(target, attackArchive(t, a, outside))
		if escaped(before, snapshot()) != "" {
			caught++
		}
	}
	t.Logf("a naive extractor escaped in %d of %d patterns", caught, len(attacks))
	if caught < 8 {
		t.Errorf("a naive extractor escaped in only %d of %d patterns; the check sees too little", caught, len(attacks))
	}
}

// naiveExtract extracts as kubectl cp's untar did before its fixes.
func naiveExtract(dir string, archive []byte) {
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err != nil {
			return
		}
		p := filepath.Join(dir, h.Name)
		if filepath.IsAbs(h.Name) {
			p = h.Name
		}
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		switch h.Typeflag {
		case tar.TypeDir:
			_ = os.MkdirAll(p, 0o755)
		case tar.TypeSymlink:
			_ = os.Symlink(h.Linkname, p)
		case tar.TypeLink:
			target := h.Linkname
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
			_ = os.Link(target, p)
		case tar.TypeReg:
			if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err == nil {
				_, _ = io.Copy(f, tr)
				f.Close()
			}
		}
	}
}

// kubectl cp on an image with no tar of its own: the image e2e/image builds carries
// /usr/local/bin/tar -> holdfast; with busybox's tar removed from the rootfs, a runc
// container's `tar cf - /var/lib/holdfast/runs/1` (kubectl cp POD:... LOCAL) gives the
// run dir to GNU tar on the host, and `tar -xmf - -C /tmp` (kubectl cp LOCAL POD:/tmp/in)
// takes kubectl's archive in.
func TestRuncKubectlCpWithoutTar(t *testing.T) {
	t.Parallel()
	gtar := hfrun.NeedTool(t, "tar")
	c := runcStart(t, runcOpts{app: "springfail", cmd: []string{"sh", "-c", "echo the evidence; exit 3"},
		env: []string{"HOLDFAST_MAX_RESTARTS=0"}})
	c.waitPhase(t, "held")
	if l, err := os.Readlink(filepath.Join(c.rootfs, "usr/local/bin/tar")); err != nil || l != "holdfast" {
		t.Fatalf("the image's /usr/local/bin/tar links to %q (%v), want holdfast", l, err)
	}
	must(t, os.Remove(filepath.Join(c.rootfs, "usr/bin/tar")))
	// runc exec finds argv[0] on the image's PATH, as the kubelet's runtime does.
	var tars []string
	for _, kv := range c.cfg.Env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range filepath.SplitList(path) {
				if _, err := os.Lstat(filepath.Join(c.rootfs, d, "tar")); err == nil {
					tars = append(tars, filepath.Join(d, "tar"))
				}
			}
		}
	}
	if !slices.Equal(tars, []string{"/usr/local/bin/tar"}) {
		t.Fatalf("tar on the image's PATH: %q, want only /usr/local/bin/tar", tars)
	}

	out, errOut, code := c.execPipe(t, nil, "tar", "cf", "-", "/var/lib/holdfast/runs/1")
	if code != 0 || !strings.Contains(errOut, "Removing leading `/'") {
		t.Fatalf("tar cf - in the container: exit %d: %s", code, errOut)
	}
	dir := t.TempDir()
	gnuTar(t, gtar, out, "-xf", "-", "-C", dir)
	got, want := tree(t, filepath.Join(dir, "var/lib/holdfast/runs/1")), tree(t, filepath.Join(c.stateDir, "runs", "1"))
	if want["output.log"].Size == 0 || want["run.json"].Size == 0 {
		t.Fatalf("run 1 on the host: %v", want)
	}
	compareTrees(t, got, want, true)

	// runc's default spec leaves root without CAP_CHOWN: the file owned by 1234:4321
	// is extracted with root's owner and its mode, and the failure reported as GNU tar
	// reports it (exit 2); everything else is as in the archive.
	src := filepath.Join(t.TempDir(), "in")
	evidenceTree(t, src)
	_, errOut, code = c.execPipe(t, kubectlArchive(t, src, "in"), "tar", "-xmf", "-", "-C", "/tmp")
	if code != 2 || strings.TrimSpace(errOut) != "tar: in/jvm/hs_err_pid7.log: Cannot change ownership to uid 1234, gid 4321: Operation not permitted\n"+
		"tar: Exiting with failure status due to previous errors" {
		t.Errorf("tar -xmf - -C /tmp in the container: exit %d: %s", code, errOut)
	}
	if got := c.exec(t, "cat", "/tmp/in/jvm/hs_err_pid7.log", "/tmp/in/run.json"); got != "# A fatal error\n{\"run\":3}" {
		t.Errorf("copied in: %q", got)
	}
	if got := strings.Fields(c.exec(t, "stat", "-c", "%a %u:%g", "/tmp/in/jvm/hs_err_pid7.log", "/tmp/in/jvm/start.sh", "/tmp/in/run.json")); strings.Join(got, " ") != "640 0:0 755 0:0 600 0:0" {
		t.Errorf("copied in with modes and owners %q, want 640 0:0 755 0:0 600 0:0", got)
	}
	// kubectl cp --no-preserve: no owner asked for, so nothing to fail.
	if _, errOut, code := c.execPipe(t, kubectlArchive(t, src, "in2"), kubectlNoPreserv("/tmp")...); code != 0 {
		t.Errorf("tar --no-same-permissions --no-same-owner -xmf - -C /tmp: exit %d: %s", code, errOut)
	}
}

// execPipe runs argv in the container with stdin, stdout and stderr apart (exec's
// output mixes them).
func (c *runcCtr) execPipe(t testing.TB, stdin []byte, argv ...string) ([]byte, string, int) {
	t.Helper()
	cmd := exec.Command(runcBin(t), append([]string{"--root", c.root, "exec", c.id}, argv...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	done := make(chan error, 1)
	must(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(hfrun.WaitLong):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("runc exec %q did not return within %v", argv, hfrun.WaitLong)
	}
	return out.Bytes(), errb.String(), cmd.ProcessState.ExitCode()
}
