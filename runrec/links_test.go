package runrec

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A link planted in the state dir is never followed: not at runs, not as a
// numbered run, not in the app's jvm/ dir.

func outside(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	for _, n := range []string{"1", "2", "3"} {
		if err := os.MkdirAll(filepath.Join(out, n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, n, "keep"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func outsideIntact(t *testing.T, out string) {
	t.Helper()
	entries, _ := os.ReadDir(out)
	if len(entries) != 3 {
		t.Errorf("outside dir holds %d entries, want 3", len(entries))
	}
	for _, n := range []string{"1", "2", "3"} {
		if _, err := os.Stat(filepath.Join(out, n, "keep")); err != nil {
			t.Errorf("outside/%s/keep: %v", n, err)
		}
	}
}

func TestRecordsRunsLinkIsNotFollowed(t *testing.T) {
	state, out := t.TempDir(), outside(t)
	if err := os.Symlink(out, filepath.Join(state, "runs")); err != nil {
		t.Fatal(err)
	}
	var log warnLog
	r := Open(state, 1, log.Logger())
	for i := range 3 {
		rec := r.Begin([]string{"app"}, i+1, 0, time.Now())
		if rec.Dir != "" {
			t.Fatalf("run dir %q made through the link", rec.Dir)
		}
		finishCode(t, r, rec, 1, "startup-crash")
	}
	if r.Writable() || !strings.Contains(log.String(), "symbolic link") {
		t.Errorf("writable=%v, want memory mode and a warning naming the link:\n%s", r.Writable(), log.String())
	}
	outsideIntact(t, out)

	// Negative control: os.RemoveAll through the same path does reach outside.
	if err := os.RemoveAll(filepath.Join(state, "runs", "1")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "1")); !os.IsNotExist(err) {
		t.Fatal("os.RemoveAll did not follow the link; the test proves nothing")
	}
}

func TestRecordsPruneSkipsNumberedLinks(t *testing.T) {
	state, out := t.TempDir(), outside(t)
	if err := os.MkdirAll(filepath.Join(state, "runs"), 0o755); err != nil {
		t.Fatal(err)
	}
	// runs/1 is a link to a dir outside; runs/2 a real run with a link inside.
	if err := os.Symlink(filepath.Join(out, "1"), filepath.Join(state, "runs", "1")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(state, "runs", "2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(out, "2"), filepath.Join(state, "runs", "2", "dumps")); err != nil {
		t.Fatal(err)
	}
	r := Open(state, 1, nil)
	rec := r.Begin([]string{"app"}, 1, 0, time.Now())
	if rec.Run != 3 {
		t.Errorf("run %d, want 3 (after the real run 2; a link is no run)", rec.Run)
	}
	if _, err := os.Lstat(filepath.Join(state, "runs", "2")); !os.IsNotExist(err) {
		t.Errorf("run 2 not pruned: %v", err)
	}
	outsideIntact(t, out)
}

func TestRecordsScanListsLinksWithoutFollowing(t *testing.T) {
	r := Open(t.TempDir(), 5, nil)
	rec := r.Begin([]string{"java"}, 1, 0, time.Now())
	app, err := r.AppDir(rec.Run, nil)
	if err != nil || app != filepath.Join(rec.Dir, "jvm") {
		t.Fatalf("AppDir = %q, %v", app, err)
	}
	if fi, err := os.Stat(app); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("jvm/: %v %v, want mode 0700", fi.Mode(), err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(app, "java_pid1.hprof")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(app, "root")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "hs_err_pid1.log"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	finishCode(t, r, rec, 1, "startup-crash")
	got, _ := r.Get(rec.Run)
	kinds := map[string]string{}
	for _, a := range got.Artifacts {
		kinds[a.Name] = a.Kind
	}
	if kinds["jvm/java_pid1.hprof"] != "link" || kinds["jvm/root"] != "link" || kinds["jvm/hs_err_pid1.log"] != "hs-err" || len(kinds) != 3 {
		t.Errorf("artifacts %+v, want the two links as kind link and the hs_err file", got.Artifacts)
	}
	for _, name := range []string{"run.json"} {
		if fi, err := os.Stat(filepath.Join(rec.Dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", name, err)
		}
	}
}

func TestRecordsAppDirBelongsToTheApp(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	r := Open(t.TempDir(), 5, nil)
	rec := r.Begin([]string{"java"}, 1, 0, time.Now())
	app, err := r.AppDir(rec.Run, &syscall.Credential{Uid: 65534, Gid: 65533})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(app)
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 65534 || s.Gid != 65533 {
		t.Errorf("jvm/ owned by %d:%d, want 65534:65533", s.Uid, s.Gid)
	}
	st, _ = os.Stat(rec.Dir)
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 0 || st.Mode().Perm() != 0o755 {
		t.Errorf("run dir owned by %d mode %v, want root's 0755", s.Uid, st.Mode().Perm())
	}
	// The run ends: jvm/ is taken back (the app's group may still read it).
	finishCode(t, r, rec, 1, "startup-crash")
	st, _ = os.Stat(app)
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 0 || s.Gid != 65533 || st.Mode().Perm() != 0o750 {
		t.Errorf("jvm/ after the run: %d:%d mode %v, want 0:65533 0750", s.Uid, s.Gid, st.Mode().Perm())
	}
}

// tmpfs mounts a small tmpfs for a full-disk test (root only).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return // ENOSPC: full
		}
	}
}

func TestRecordsFullDiskKeepsNewestRecord(t *testing.T) {
	state := tmpfs(t, "1m")
	var log warnLog
	r := Open(state, 10, log.Logger())
	old := r.Begin([]string{"app"}, 1, 0, time.Now())
	fill(t, filepath.Join(old.Dir, "output.log"))
	finishCode(t, r, old, 1, "startup-crash")

	// The disk is full: the next run's records still get written, first
	// from the reserve, then from the oldest run's output.
	for i := 2; i <= 4; i++ {
		rec := r.Begin([]string{"app"}, i, 0, time.Now())
		if rec.Dir == "" {
			t.Fatalf("run %d: no run dir on a full disk", i)
		}
		r.SetPID(rec.Run, 1000+i)
		var disk RunRecord
		readJSON(t, filepath.Join(rec.Dir, "run.json"), &disk)
		if disk.PID != 1000+i {
			t.Errorf("run %d: run.json pid %d, want %d", i, disk.PID, 1000+i)
		}
		fill(t, filepath.Join(rec.Dir, "output.log"))
		if !r.FreeForOutput(rec.Run) && i == 2 {
			t.Errorf("run %d: nothing freed for its output, want run 1's output.log dropped", i)
		}
		fill(t, filepath.Join(rec.Dir, "output.log"))
		finishCode(t, r, rec, 1, "startup-crash")
	}
	if _, err := os.Stat(filepath.Join(old.Dir, "output.log")); !os.IsNotExist(err) {
		t.Errorf("run 1's output.log kept (%v); the oldest output goes first", err)
	}
	d := r.Degraded()
	for _, want := range []string{"full", "reserve", "deleted"} {
		if !strings.Contains(d, want) {
			t.Errorf("Degraded() = %q, want it to say %q", d, want)
		}
	}
	// Negative control: a fresh Records on a roomy disk is not degraded.
	if d := Open(t.TempDir(), 10, nil).Degraded(); d != "" {
		t.Errorf("fresh Records degraded: %q", d)
	}
}
