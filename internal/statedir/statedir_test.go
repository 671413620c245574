package statedir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mode(t *testing.T, p string) (int, os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid), fi.Mode().Perm()
}

func TestPrepareFixesModesOfItsOwnDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(filepath.Join(dir, RunsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, RunsDir)} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := Prepare(dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, RunsDir)} {
		if _, m := mode(t, p); m != 0o755 {
			t.Errorf("%s: mode %v, want 0755", p, m)
		}
	}
}

func TestPrepareCreatesMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	if err := Prepare(dir, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("state dir not made: %v", err)
	}
}

// The rest needs another uid to own things: root only.
func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
}

func TestPrepareRefusesForeignDirWithBoundary(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	app := &syscall.Credential{Uid: 65534, Gid: 65534}
	err := Prepare(dir, app)
	var unsafe *UnsafeError
	if !errors.As(err, &unsafe) || unsafe.Path != dir || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("Prepare(app-owned dir, --user) = %v, want an UnsafeError naming %s", err, dir)
	}
	// Negative control: no boundary when the app runs as holdfast's uid.
	if err := Prepare(dir, nil); err != nil {
		t.Errorf("Prepare without --user = %v, want nil", err)
	}
	if err := Prepare(dir, &syscall.Credential{Uid: 0}); err != nil {
		t.Errorf("Prepare with --user of holdfast's own uid = %v, want nil", err)
	}
}

func TestPrepareRefusesRunsLinkWithBoundary(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, RunsDir)); err != nil {
		t.Fatal(err)
	}
	var unsafe *UnsafeError
	if err := Prepare(dir, &syscall.Credential{Uid: 65534, Gid: 65534}); !errors.As(err, &unsafe) {
		t.Fatalf("runs as a link, --user: %v, want an UnsafeError", err)
	}
	if err := Prepare(dir, nil); err != nil {
		t.Errorf("runs as a link, no --user: %v, want nil (records stay in memory)", err)
	}
}

func TestPrepareReclaimsRunDirsOfAnOlderHoldfast(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "state")
	old := filepath.Join(dir, RunsDir, "3")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(old, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, RunsDir, "4")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(outside, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(dir, &syscall.Credential{Uid: 65534, Gid: 65534}); err != nil {
		t.Fatal(err)
	}
	if uid, m := mode(t, old); uid != 0 || m != 0o755 {
		t.Errorf("old run dir: uid %d mode %v, want root's 0755", uid, m)
	}
	if uid, _ := mode(t, outside); uid != 65534 {
		t.Errorf("a link's target was chowned to %d", uid)
	}
}

func TestReserveEnsureAndRelease(t *testing.T) {
	dir := t.TempDir()
	r := NewReserve(dir)
	if err := r.Ensure(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, ReserveName))
	if err != nil || fi.Size() != ReserveSize {
		t.Fatalf("reserve: %v size %d", err, fi.Size())
	}
	if !r.Release() {
		t.Fatal("Release found nothing")
	}
	if r.Release() {
		t.Fatal("second Release freed something")
	}
	if _, err := os.Stat(filepath.Join(dir, ReserveName)); !os.IsNotExist(err) {
		t.Fatalf("reserve still there: %v", err)
	}
	// A link planted at the reserve's name is replaced, never written through.
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("v"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, ReserveName)); err != nil {
		t.Fatal(err)
	}
	if err := r.Ensure(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "v" {
		t.Errorf("victim = %q", b)
	}
}
