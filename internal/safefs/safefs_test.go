package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// bothModes runs f with openat2 and with the per-component fallback.
func bothModes(t *testing.T, f func(t *testing.T)) {
	for _, fallback := range []bool{false, true} {
		name := "openat2"
		if fallback {
			name = "fallback"
		}
		t.Run(name, func(t *testing.T) {
			old := noOpenat2.Load()
			noOpenat2.Store(fallback)
			t.Cleanup(func() { noOpenat2.Store(old) })
			f(t)
		})
	}
}

// plant makes root/{victim,dir} and, in base, links to them.
type planted struct {
	base, victim, outside string
}

const victimText = "victim\n"

func plant(t *testing.T) planted {
	t.Helper()
	top := t.TempDir()
	p := planted{base: filepath.Join(top, "base"), victim: filepath.Join(top, "victim"), outside: filepath.Join(top, "outside")}
	must(t, os.Mkdir(p.base, 0o755))
	must(t, os.WriteFile(p.victim, []byte(victimText), 0o644))
	must(t, os.MkdirAll(filepath.Join(p.outside, "1"), 0o755))
	must(t, os.WriteFile(filepath.Join(p.outside, "1", "keep"), []byte("keep"), 0o644))
	must(t, os.Symlink(p.victim, filepath.Join(p.base, "file-link")))
	must(t, os.Symlink(p.outside, filepath.Join(p.base, "dir-link")))
	must(t, os.Mkdir(filepath.Join(p.base, "real"), 0o755))
	must(t, os.Symlink(p.victim, filepath.Join(p.base, "real", "inner-link")))
	must(t, os.Symlink(p.outside, filepath.Join(p.base, "real", "inner-dir-link")))
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (p planted) intact(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile(p.victim); err != nil || string(b) != victimText {
		t.Errorf("victim = %q, %v: written through a link", b, err)
	}
	if _, err := os.Stat(filepath.Join(p.outside, "1", "keep")); err != nil {
		t.Errorf("outside dir touched: %v", err)
	}
	if entries, _ := os.ReadDir(p.outside); len(entries) != 1 {
		t.Errorf("outside dir has %d entries, want 1", len(entries))
	}
}

func TestNegativeControlOSFollowsLinks(t *testing.T) {
	// The same operations through os.* do follow the links: the test
	// setup can tell.
	p := plant(t)
	f, err := os.OpenFile(filepath.Join(p.base, "file-link"), os.O_WRONLY|os.O_TRUNC, 0o600)
	must(t, err)
	f.Close()
	if b, _ := os.ReadFile(p.victim); len(b) != 0 {
		t.Fatal("os.OpenFile did not truncate through the link")
	}
	must(t, os.WriteFile(filepath.Join(p.base, "dir-link", "new"), nil, 0o600))
	if _, err := os.Stat(filepath.Join(p.outside, "new")); err != nil {
		t.Fatal("os.WriteFile did not create through the dir link")
	}
	must(t, os.RemoveAll(filepath.Join(p.base, "dir-link", "1")))
	if _, err := os.Stat(filepath.Join(p.outside, "1")); err == nil {
		t.Fatal("os.RemoveAll did not remove through the dir link")
	}
}

func TestOpenFileRefusesLinks(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		p := plant(t)
		d, err := OpenRoot(p.base)
		must(t, err)
		defer d.Close()
		for _, tc := range []struct {
			rel  string
			flag int
		}{
			{"file-link", os.O_WRONLY | os.O_TRUNC},
			{"file-link", os.O_WRONLY | os.O_APPEND | os.O_CREATE},
			{"file-link", os.O_WRONLY | os.O_CREATE | os.O_EXCL},
			{"file-link", os.O_RDONLY},
			{"dir-link/new", os.O_WRONLY | os.O_CREATE},
			{"dir-link/1/keep", os.O_WRONLY | os.O_TRUNC},
			{"real/inner-link", os.O_WRONLY | os.O_TRUNC},
			{"real/inner-dir-link/1/keep", os.O_WRONLY | os.O_TRUNC},
			{"../victim", os.O_WRONLY | os.O_TRUNC},
			{"/etc/passwd", os.O_RDONLY},
		} {
			if f, err := d.OpenFile(tc.rel, tc.flag, 0o600); err == nil {
				f.Close()
				t.Errorf("OpenFile(%q, %#x) succeeded", tc.rel, tc.flag)
			}
		}
		if _, err := d.OpenFile("file-link", os.O_WRONLY|os.O_TRUNC, 0); !errors.Is(err, ErrLink) {
			t.Errorf("a link is reported as %v, want ErrLink", err)
		}
		if _, err := d.OpenDir("dir-link"); err == nil {
			t.Error("OpenDir followed a link")
		}
		if err := d.Mkdir("dir-link/x", 0o755); err == nil {
			t.Error("Mkdir through a dir link succeeded")
		}
		if err := d.Rename("real/inner-link", "dir-link/moved"); err == nil {
			t.Error("Rename into a dir link succeeded")
		}
		p.intact(t)

		// What is allowed works: create, truncate a regular file, rename
		// over a link (replaces the link), read.
		f, err := d.OpenFile("real/new", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		must(t, err)
		_, _ = f.WriteString("hello")
		f.Close()
		must(t, d.Rename("real/new", "file-link"))
		b, err := d.ReadFile("file-link")
		if err != nil || string(b) != "hello" {
			t.Errorf("after rename over the link: %q %v", b, err)
		}
		f, err = d.OpenFile("file-link", os.O_WRONLY|os.O_TRUNC, 0)
		must(t, err)
		f.Close()
		if b, _ := d.ReadFile("file-link"); len(b) != 0 {
			t.Errorf("O_TRUNC of a regular file left %q", b)
		}
		p.intact(t)
	})
}

func TestOpenFileRefusesFIFOWithoutBlocking(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
		d, err := OpenRoot(dir)
		must(t, err)
		defer d.Close()
		if f, err := d.OpenFile("fifo", os.O_RDONLY, 0); err == nil {
			f.Close()
			t.Fatal("opened a FIFO")
		}
	})
}

func TestRemoveAllNeverFollows(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		p := plant(t)
		d, err := OpenRoot(p.base)
		must(t, err)
		defer d.Close()
		must(t, os.MkdirAll(filepath.Join(p.base, "real", "deep", "er"), 0o755))
		must(t, os.Symlink(p.outside, filepath.Join(p.base, "real", "deep", "er", "l")))
		if err := d.RemoveAll("dir-link/1"); err == nil {
			t.Error("RemoveAll through a dir link succeeded")
		}
		must(t, d.RemoveAll("real"))
		must(t, d.RemoveAll("dir-link"))
		must(t, d.RemoveAll("missing"))
		entries, err := d.ReadDir()
		must(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
		}
		if !slices.Equal(names, []string{"file-link"}) {
			t.Errorf("left %v, want [file-link]", names)
		}
		if !entries[0].IsLink() || entries[0].IsDir() || entries[0].IsRegular() {
			t.Errorf("entry type %o, want a link", entries[0].Mode)
		}
		p.intact(t)
	})
}
