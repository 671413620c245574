package tarcp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestUnsupportedInvocations(t *testing.T) {
	for _, argv := range [][]string{
		{"tar"},
		{"tar", "--version"},
		{"tar", "xf", "-"},
		{"tar", "xf", "-", "-C", "/tmp"},
		{"tar", "-xf", "-"},
		{"tar", "cf", "-"},
		{"tar", "cf", "-", ""},
		{"tar", "cf", "-", "a", "b"},
		{"tar", "czf", "-", "a"},
		{"tar", "-cf", "-", "a"},
		{"tar", "cf", "out.tar", "a"},
		{"tar", "-xmf", "-", "-C"},
		{"tar", "-xmf", "-", "-C", ""},
		{"tar", "-xmf", "-", "-C", "d", "extra"},
		{"tar", "-xmf", "archive.tar"},
		{"tar", "--no-same-owner", "-xmf", "-"},
		{"tar", "--no-same-owner", "--no-same-permissions", "-xmf", "-"},
		{"tar", "-xmf", "-", "--no-same-owner"},
	} {
		code, out, stderr := runMain(t, argv, nil)
		if code != 2 || len(out) != 0 || stderr != "tar: "+Usage+"\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and the one line", argv, code, out, stderr)
		}
	}
}

func TestMemberName(t *testing.T) {
	for _, c := range []struct{ in, name, stripped string }{
		{"a", "a", ""},
		{"..", "", ".."},
		{"../", "", "../"},
		{"/", "", "/"},
		{"a/", "a/", ""},
		{"./a", "./a", ""},
		{"/var/lib/x", "var/lib/x", "/"},
		{"/var/../lib/x", "lib/x", "/var/../"},
		{"//x", "x", "//"},
		{"../a", "a", "../"},
		{"a/../b/../c", "c", "a/../b/../"},
		{"/a/../b", "b", "/a/../"},
	} {
		name, stripped := memberName(c.in)
		if name != c.name || stripped != c.stripped {
			t.Errorf("memberName(%q) = %q, %q; want %q, %q", c.in, name, stripped, c.name, c.stripped)
		}
	}
}

// TestCreateMatchesGNU: `tar cf - PATH` as kubectl cp runs it in the pod
// gives, member for member, what GNU tar gives for the same command: names,
// types, modes, owners, sizes, mtimes, link targets, device numbers and
// contents, and GNU's messages.
func TestCreateMatchesGNU(t *testing.T) {
	base := t.TempDir()
	a := makeSource(t, base)
	type invocation struct{ cwd, path string }
	var cases []invocation
	for _, path := range []string{"src/a", "src/a/", "./src/a", a, a + "/", "src/a/f.txt", "src/a/link",
		"src/a/sub/../sub", filepath.Join(a, "sub", "deep.log"), "src/a/fifo", "src/a/missing"} {
		cases = append(cases, invocation{base, path})
	}
	sub := filepath.Join(a, "sub")
	cases = append(cases, invocation{sub, ".."}, invocation{sub, "../"}, invocation{sub, "."}, invocation{sub, "../f.txt"})
	for _, c := range cases {
		path := c.path
		t.Run(strings.ReplaceAll(strings.TrimPrefix(c.cwd, base)+" "+path, "/", "_"), func(t *testing.T) {
			t.Chdir(c.cwd)
			argv := []string{"tar", "cf", "-", path}
			code, ours, ourErr := runMain(t, argv, nil)
			gcode, gnu, gnuErr := gnuTar(t, c.cwd, nil, argv[1:]...)
			if code != gcode {
				t.Errorf("exit %d, GNU tar %d (stderr %q / %q)", code, gcode, ourErr, gnuErr)
			}
			if len(ours)%recordSize != 0 || len(ours) != len(gnu) {
				t.Errorf("archive is %d bytes, GNU tar's %d", len(ours), len(gnu))
			}
			om, gm := members(t, ours), members(t, gnu)
			t.Logf("%d members, %d bytes", len(om), len(ours))
			if len(om) < 1 && !strings.HasSuffix(path, "missing") {
				t.Fatalf("no members")
			}
			hardOurs, hardGNU := hardLinks(om), hardLinks(gm)
			if !slices.Equal(om, gm) {
				for i := range max(len(om), len(gm)) {
					if i >= len(om) || i >= len(gm) || om[i] != gm[i] {
						t.Errorf("member %d:\n ours %+v\n GNU  %+v", i, at(om, i), at(gm, i))
					}
				}
			}
			if !slices.Equal(hardOurs, hardGNU) {
				t.Errorf("hard link pairs %v, GNU tar's %v", hardOurs, hardGNU)
			}
			if sortedLines(ourErr) != sortedLines(gnuErr) {
				t.Errorf("stderr %q, GNU tar's %q", ourErr, gnuErr)
			}
		})
	}
}

// hardLinks turns the hard link members into sets of names and blanks the
// fields that depend on which name came first (GNU: readdir order).
func hardLinks(ms []member) []string {
	groups := map[string][]string{}
	for _, m := range ms {
		if m.Type == '1' {
			groups[m.Linkname] = append(groups[m.Linkname], m.Name)
		}
	}
	var out []string
	for first, others := range groups {
		set := append([]string{first}, others...)
		slices.Sort(set)
		out = append(out, strings.Join(set, "="))
		for i := range ms {
			if slices.Contains(set, ms[i].Name) {
				ms[i].Type, ms[i].Linkname, ms[i].Size, ms[i].Sum = 'H', "", 0, ""
			}
		}
	}
	slices.Sort(out)
	return out
}

func at(ms []member, i int) any {
	if i < len(ms) {
		return ms[i]
	}
	return nil
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestCreateToGNUExtract: the archive, read from a pipe by GNU tar on the
// other side (as `kubectl exec … tar cf - X | tar xf -` would), gives back
// the source tree.
func TestCreateToGNUExtract(t *testing.T) {
	base := t.TempDir()
	a := makeSource(t, base)
	_, ours, stderr := runMain(t, []string{"tar", "cf", "-", a}, nil)
	out := filepath.Join(base, "out")
	must(t, os.Mkdir(out, 0o755))
	if code, _, e := gnuTar(t, out, ours, "xpf", "-"); code != 0 {
		t.Fatalf("GNU tar xf - of our archive: exit %d: %s (ours: %s)", code, e, stderr)
	}
	got := tree(t, filepath.Join(out, strings.TrimPrefix(a, "/")))
	want := tree(t, a)
	delete(got, ".")
	delete(want, ".")
	for k, n := range want {
		n.RecentTime = false
		want[k] = n
	}
	for k, n := range got {
		n.RecentTime = false
		got[k] = n
	}
	if d := diffTrees(got, want); len(d) > 0 {
		t.Errorf("extracted tree differs from the source:\n%s", strings.Join(d, "\n"))
	}
}
