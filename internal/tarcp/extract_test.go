package tarcp

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kubectlArchive builds what kubectl cp's own tar writer sends into the pod
// for `kubectl cp SRC POD:DEST`: every file, symlink and empty directory
// below src, named dest/<path>, with the header archive/tar makes from
// lstat (no hard link detection, no headers for non-empty directories).
func kubectlArchive(t *testing.T, src, dest string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		must(t, err)
		rel, _ := filepath.Rel(src, p)
		name := filepath.Join(dest, rel)
		link := ""
		switch {
		case fi.IsDir():
			entries, _ := os.ReadDir(p)
			if len(entries) > 0 {
				return nil
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			link, _ = os.Readlink(p)
		case fi.Mode()&fs.ModeNamedPipe != 0:
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		must(t, err)
		hdr.Name = name
		must(t, tw.WriteHeader(hdr))
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			must(t, err)
			tw.Write(b)
		}
		return nil
	}))
	must(t, tw.Close())
	return buf.Bytes()
}

// TestExtractMatchesGNU: the archive kubectl cp sends, fed through a pipe
// to holdfast's tar and to GNU tar with the argv kubectl uses, gives the
// same tree: types, permissions, owners, contents, link targets, and mtimes
// not restored (-m).
func TestExtractMatchesGNU(t *testing.T) {
	base := t.TempDir()
	a := makeSource(t, base)
	must(t, os.Remove(filepath.Join(a, "hard"))) // kubectl sends no hard links
	archive := kubectlArchive(t, a, "copied")
	for _, flags := range [][]string{
		{"-xmf", "-"},
		{"--no-same-permissions", "--no-same-owner", "-xmf", "-"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			ours, gnu := filepath.Join(base, "ours"), filepath.Join(base, "gnu")
			os.RemoveAll(ours)
			os.RemoveAll(gnu)
			must(t, os.Mkdir(ours, 0o755))
			must(t, os.Mkdir(gnu, 0o755))
			code, _, stderr := runMain(t, append(append([]string{"tar"}, flags...), "-C", ours), archive)
			gcode, _, gstderr := gnuTar(t, base, archive, append(flags, "-C", gnu)...)
			if code != 0 || gcode != 0 {
				t.Fatalf("exit %d (%s), GNU tar %d (%s)", code, stderr, gcode, gstderr)
			}
			o, g := tree(t, ours), tree(t, gnu)
			if len(o) < 10 {
				t.Fatalf("only %d files extracted", len(o))
			}
			if d := diffTrees(o, g); len(d) > 0 {
				t.Errorf("holdfast's tar vs GNU tar:\n%s", strings.Join(d, "\n"))
			}
			for name, n := range o {
				if n.Type&fs.ModeSymlink == 0 && !n.RecentTime {
					t.Errorf("%s has the archive's mtime; -m must not restore it", name)
				}
			}
			if os.Geteuid() == 0 {
				run := o["copied/run.sh"]
				want := uint32(1234)
				if len(flags) > 2 {
					want = 0
				}
				if run.Uid != want {
					t.Errorf("run.sh extracted with uid %d, want %d", run.Uid, want)
				}
			}
		})
	}
}

// TestExtractIntoMissingDir: -C of a directory that is not there fails as
// GNU tar does, with nothing written.
func TestExtractIntoMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	code, _, stderr := runMain(t, []string{"tar", "-xmf", "-", "-C", dir}, nil)
	if code != 2 || !strings.Contains(stderr, "Cannot open") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
}

// hostile is one member of an archive built to attack the extraction.
type hostile struct {
	typ    byte
	name   string
	link   string
	data   string
	refuse bool // the member must be refused
}

func buildArchive(t *testing.T, ms []hostile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		hdr := &tar.Header{Typeflag: m.typ, Name: m.name, Linkname: m.link, Mode: 0o644,
			Size: int64(len(m.data)), ModTime: time.Now(), Format: tar.FormatPAX}
		if m.typ == tar.TypeChar {
			hdr.Devmajor, hdr.Devminor = 1, 3
		}
		if m.typ != tar.TypeReg {
			hdr.Size = 0
		}
		must(t, tw.WriteHeader(hdr))
		if hdr.Size > 0 {
			tw.Write([]byte(m.data))
		}
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// snapshot records every file below root except skip: type, content, link.
func snapshot(t *testing.T, root, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		must(t, err)
		v := fi.Mode().String()
		switch {
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			v += " -> " + l
		}
		out[p] = v
		return nil
	}))
	return out
}

// attackDirs makes parent/{dest, outside.txt, dest-evil/} and returns
// parent and dest.
func attackDirs(t *testing.T) (string, string) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	must(t, os.Mkdir(dest, 0o755))
	must(t, os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("ORIGINAL\n"), 0o644))
	must(t, os.Mkdir(filepath.Join(parent, "dest-evil"), 0o755))
	return parent, dest
}

// TestExtractRefusesEscapes builds the archives of the kubectl cp CVEs and
// their variants: every hostile member is refused with a message, nothing
// outside the target dir changes, and the harmless member after them is
// still extracted (file by file).
func TestExtractRefusesEscapes(t *testing.T) {
	const reg, dir, sym, hard = tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink
	cases := map[string]func(parent string) []hostile{
		// CVE-2018-1002100: names with ".." write next to the target dir.
		"CVE-2018-1002100 dot-dot": func(string) []hostile {
			return []hostile{
				{typ: reg, name: "../outside.txt", data: "PWNED", refuse: true},
				{typ: reg, name: "a/../../outside.txt", data: "PWNED", refuse: true},
				{typ: reg, name: "./../outside.txt", data: "PWNED", refuse: true},
			}
		},
		"absolute name": func(parent string) []hostile {
			return []hostile{{typ: reg, name: parent + "/outside.txt", data: "PWNED", refuse: true}}
		},
		// CVE-2019-1002101: a symlink in the archive, then a file written
		// through it.
		"CVE-2019-1002101 write through a symlink": func(parent string) []hostile {
			return []hostile{
				{typ: sym, name: "escape", link: "..", refuse: true},
				{typ: reg, name: "escape/outside.txt", data: "PWNED"},
				{typ: sym, name: "abs", link: parent, refuse: true},
				{typ: reg, name: "abs/outside.txt", data: "PWNED"},
			}
		},
		// CVE-2019-11246: the fix of the above bypassed with a relative
		// link in a subdir and with links through links.
		"CVE-2019-11246 nested and chained links": func(string) []hostile {
			return []hostile{
				{typ: dir, name: "sub"},
				{typ: sym, name: "sub/up", link: "../..", refuse: true},
				{typ: reg, name: "sub/up/outside.txt", data: "PWNED"},
				{typ: sym, name: "self", link: "."},
				{typ: sym, name: "self/up", link: "..", refuse: true},
				{typ: reg, name: "self/up/outside.txt", data: "PWNED", refuse: true},
				{typ: sym, name: "sub/root", link: ".."},
				{typ: sym, name: "chain", link: "sub/root/..", refuse: true},
				{typ: reg, name: "sub/root/x", data: "inside", refuse: true},
			}
		},
		// CVE-2019-11249: a sibling whose name starts with the target's
		// passed a string-prefix check.
		"CVE-2019-11249 sibling prefix": func(parent string) []hostile {
			return []hostile{
				{typ: reg, name: "../dest-evil/pwned", data: "PWNED", refuse: true},
				{typ: sym, name: "sib", link: "../dest-evil", refuse: true},
				{typ: reg, name: "sib/pwned", data: "PWNED"},
				{typ: reg, name: parent + "/dest-evil/pwned", data: "PWNED", refuse: true},
			}
		},
		"hard links out": func(parent string) []hostile {
			return []hostile{
				{typ: hard, name: "hl", link: "../outside.txt", refuse: true},
				{typ: hard, name: "hl2", link: parent + "/outside.txt", refuse: true},
				{typ: sym, name: "inlink", link: "ok-target"},
				{typ: hard, name: "hl3", link: "inlink", refuse: true},
				{typ: reg, name: "hl", data: "PWNED"},
			}
		},
		"devices and fifos": func(string) []hostile {
			return []hostile{
				{typ: tar.TypeChar, name: "null", refuse: true},
				{typ: tar.TypeBlock, name: "sda", refuse: true},
				{typ: tar.TypeFifo, name: "fifo", refuse: true},
			}
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			parent, dest := attackDirs(t)
			ms := append(build(parent), hostile{typ: reg, name: "ok.txt", data: "fine"})
			before := snapshot(t, parent, dest)
			code, _, stderr := runMain(t, []string{"tar", "-xmf", "-", "-C", dest}, buildArchive(t, ms))
			after := snapshot(t, parent, dest)
			for p, v := range after {
				if before[p] != v {
					t.Errorf("outside the target dir: %s is now %q (was %q)", p, v, before[p])
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("outside the target dir: %s was removed", p)
				}
			}
			refused := false
			for _, m := range ms {
				if m.refuse {
					refused = true
					if !strings.Contains(stderr, "tar: "+m.name+": refused: ") {
						t.Errorf("%q was not refused; stderr:\n%s", m.name, stderr)
					}
				}
			}
			if refused && code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if b, err := os.ReadFile(filepath.Join(dest, "ok.txt")); err != nil || string(b) != "fine" {
				t.Errorf("the harmless member was not extracted: %v", err)
			}
			t.Logf("stderr:\n%s", stderr)
		})
	}
}

// TestSnapshotSeesWrites is the negative control of the "nothing outside
// changed" check.
func TestSnapshotSeesWrites(t *testing.T) {
	parent, dest := attackDirs(t)
	before := snapshot(t, parent, dest)
	must(t, os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("PWNED"), 0o644))
	must(t, os.WriteFile(filepath.Join(dest, "inside.txt"), []byte("x"), 0o644))
	after := snapshot(t, parent, dest)
	if before[filepath.Join(parent, "outside.txt")] == after[filepath.Join(parent, "outside.txt")] {
		t.Errorf("snapshot misses a write outside")
	}
	if len(before) != len(after) {
		t.Errorf("snapshot sees inside the target dir")
	}
}

// TestExtractPlantedLinks: links and hard links that were in the target dir
// before (an app planted them) carry no write outside: a member under a
// planted directory link is refused, and a member named like a planted
// link or hard link replaces it instead of writing through it.
func TestExtractPlantedLinks(t *testing.T) {
	parent, dest := attackDirs(t)
	outside := filepath.Join(parent, "outside.txt")
	must(t, os.Symlink(parent, filepath.Join(dest, "planted-dir")))
	must(t, os.Symlink(outside, filepath.Join(dest, "planted-file")))
	must(t, os.Link(outside, filepath.Join(dest, "shared")))
	ms := []hostile{
		{typ: tar.TypeReg, name: "planted-dir/outside.txt", data: "PWNED", refuse: true},
		{typ: tar.TypeSymlink, name: "via", link: "planted-dir/outside.txt", refuse: true},
		{typ: tar.TypeLink, name: "hl", link: "planted-dir/outside.txt", refuse: true},
		{typ: tar.TypeReg, name: "planted-file", data: "replaced"},
		{typ: tar.TypeReg, name: "shared", data: "replaced"},
	}
	before := snapshot(t, parent, dest)
	code, _, stderr := runMain(t, []string{"tar", "-xmf", "-", "-C", dest}, buildArchive(t, ms))
	if after := snapshot(t, parent, dest); len(after) != len(before) || after[outside] != before[outside] {
		t.Errorf("a planted link carried a write outside: %q", after[outside])
	}
	for _, m := range ms[:3] {
		if !strings.Contains(stderr, "tar: "+m.name+": refused: ") {
			t.Errorf("%q was not refused:\n%s", m.name, stderr)
		}
	}
	for _, n := range []string{"planted-file", "shared"} {
		fi, err := os.Lstat(filepath.Join(dest, n))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: not replaced by a regular file: %v", n, err)
			continue
		}
		if b, _ := os.ReadFile(filepath.Join(dest, n)); string(b) != "replaced" {
			t.Errorf("%s: %q", n, b)
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

// TestExtractKeepsInsideLinks: links that stay inside the target dir are
// extracted: the refusals above are not a refusal of every link.
func TestExtractKeepsInsideLinks(t *testing.T) {
	_, dest := attackDirs(t)
	ms := []hostile{
		{typ: tar.TypeReg, name: "lib/real.so", data: "elf"},
		{typ: tar.TypeSymlink, name: "bin/tool", link: "../lib/real.so"},
		{typ: tar.TypeSymlink, name: "here", link: "./lib"},
		{typ: tar.TypeSymlink, name: "dangling", link: "not/yet"},
		{typ: tar.TypeLink, name: "lib/again.so", link: "lib/real.so"},
	}
	code, _, stderr := runMain(t, []string{"tar", "-xmf", "-", "-C", dest}, buildArchive(t, ms))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, p := range []string{"bin/tool", "here/real.so", "lib/again.so"} {
		if b, err := os.ReadFile(filepath.Join(dest, p)); err != nil || string(b) != "elf" {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(dest, "dangling")); err != nil || l != "not/yet" {
		t.Errorf("dangling: %q, %v", l, err)
	}
}

// TestExtractModes: setuid and setgid are dropped, the sticky bit and the
// permission bits kept (as root); without -C the working directory is the
// target.
func TestExtractModes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("permissions are kept only as root")
	}
	dest := t.TempDir()
	t.Chdir(dest)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeReg, Name: "suid", Mode: 0o4755},
		{Typeflag: tar.TypeReg, Name: "sgid", Mode: 0o2750},
		{Typeflag: tar.TypeDir, Name: "sticky/", Mode: 0o1777},
		{Typeflag: tar.TypeReg, Name: "plain", Mode: 0o604},
	} {
		must(t, tw.WriteHeader(h))
	}
	must(t, tw.Close())
	code, _, stderr := runMain(t, []string{"tar", "-xmf", "-"}, buf.Bytes())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, want := range map[string]fs.FileMode{"suid": 0o755, "sgid": 0o750, "sticky": fs.ModeDir | fs.ModeSticky | 0o777, "plain": 0o604} {
		fi, err := os.Stat(filepath.Join(dest, name))
		must(t, err)
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
}

// TestExtractAsNonRoot: a user other than root gets the umask applied and
// keeps ownership, as GNU tar's defaults for non-root users.
func TestExtractAsNonRoot(t *testing.T) {
	euid = func() int { return 1000 }
	defer func() { euid = os.Geteuid }()
	dest := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "open", Mode: 0o666, Uid: 4321, Gid: 4321}))
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o777, Uid: 4321, Gid: 4321}))
	must(t, tw.Close())
	code, _, stderr := runMain(t, []string{"tar", "-xmf", "-", "-C", dest}, buf.Bytes())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	mask := umask()
	for name, want := range map[string]fs.FileMode{"open": 0o666 &^ mask, "d": fs.ModeDir | (0o777 &^ mask)} {
		fi, err := os.Stat(filepath.Join(dest, name))
		must(t, err)
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v (umask %#o)", name, fi.Mode(), want, mask)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid == 4321 {
			t.Errorf("%s: owner taken from the archive although not root", name)
		}
	}
}
