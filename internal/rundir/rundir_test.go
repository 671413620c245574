package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the uid a planted directory belongs to.
const nobody = 65534

func cleanFallbacks(t *testing.T, stateDir string) {
	t.Cleanup(func() {
		for _, d := range Fallbacks(stateDir) {
			os.RemoveAll(d)
		}
	})
}

func TestKeyIsAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if Key("state") != Key(filepath.Join(dir, "state")) || Key("/a/b/") != Key("/a/b") {
		t.Error("the key depends on how the state dir was spelled")
	}
	if Key("/a") == Key("/b") {
		t.Error("two state dirs share a key")
	}
}

func TestMakeCreatesPrivateDir(t *testing.T) {
	state := t.TempDir()
	cleanFallbacks(t, state)
	dir, err := Make(state, Private)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("fallback %s: %v %v, want a 0700 directory", dir, fi.Mode(), err)
	}
	if err := Check(dir, os.Geteuid()); err != nil {
		t.Error(err)
	}
	// Ours with a loose mode: reused and tightened.
	os.Chmod(dir, 0o777)
	if again, err := Make(state, Private); err != nil || again != dir {
		t.Fatalf("Make again = %s, %v", again, err)
	}
	if fi, _ := os.Lstat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v not reset to 0700", fi.Mode().Perm())
	}
}

// Shared with the app's user: 0711, which the client's check accepts; the
// next Make for a private one takes the bits away again.
func TestMakeReachableDir(t *testing.T) {
	state := t.TempDir()
	cleanFallbacks(t, state)
	dir, err := Make(state, Reachable)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dir); err != nil || fi.Mode().Perm() != 0o711 {
		t.Fatalf("fallback %s: %v %v, want 0711", dir, fi.Mode(), err)
	}
	if err := Check(dir, os.Geteuid()); err != nil {
		t.Errorf("the client refuses a 0711 fallback directory: %v", err)
	}
	if again, err := Make(state, Private); err != nil || again != dir {
		t.Fatalf("Make(Private) = %s, %v", again, err)
	}
	if fi, _ := os.Lstat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	if _, err := Make(state, 0o755); err == nil {
		t.Error("Make took mode 0755")
	}
}

func TestPlantedFallbackRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant a directory as another uid")
	}
	state := t.TempDir()
	cleanFallbacks(t, state)
	fbs := Fallbacks(state)
	for _, d := range fbs {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	if dir, err := Make(state, Private); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("Make with planted directories = %s, %v; want a refusal", dir, err)
	}
	if err := Check(fbs[0], os.Geteuid()); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("Check of a planted directory = %v", err)
	}
	// A symlink to a directory of ours is refused too.
	os.Remove(fbs[1])
	if err := os.Symlink(t.TempDir(), fbs[1]); err != nil {
		t.Fatal(err)
	}
	if err := Check(fbs[1], os.Geteuid()); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("Check of a symlink = %v", err)
	}
	if _, err := Make(state, Private); err == nil {
		t.Error("Make used a symlink")
	}
	// Negative control: one good directory is used.
	os.Remove(fbs[1])
	if dir, err := Make(state, Private); err != nil || dir != fbs[1] {
		t.Errorf("Make = %s, %v; want %s", dir, err, fbs[1])
	}
}

func TestCheckOwnerModes(t *testing.T) {
	for _, c := range []struct {
		owner int
		mode  os.FileMode
		ok    bool
	}{
		{0, 0o700, true}, {1000, 0o700, true}, {1000, 0o755, true}, {0, 0o600, true},
		{1001, 0o700, false}, {0, 0o770, false}, {1000, 0o702, false}, {0, 0o1777, false},
	} {
		err := CheckOwner("x", c.owner, c.mode, 1000)
		if (err == nil) != c.ok {
			t.Errorf("owner %d mode %v: %v, want ok=%v", c.owner, c.mode, err, c.ok)
		}
	}
}

// A socket may be writable by its group (connect, not replace), never by
// others; anything else follows CheckOwner.
func TestCheckSocketModes(t *testing.T) {
	for _, c := range []struct {
		owner int
		mode  os.FileMode
		ok    bool
	}{
		{0, 0o600, true}, {0, 0o660, true}, {0, 0o620, true}, {1000, 0o660, true},
		{1001, 0o660, false}, {0, 0o662, false}, {0, 0o666, false}, {0, 0o602, false},
	} {
		err := CheckSocket("x", c.owner, os.ModeSocket|c.mode, 1000)
		if (err == nil) != c.ok {
			t.Errorf("owner %d mode %v: %v, want ok=%v", c.owner, c.mode, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrNotTrusted) {
			t.Errorf("owner %d mode %v: %v does not match ErrNotTrusted", c.owner, c.mode, err)
		}
	}
	// Directories keep the strict rule.
	if err := CheckOwner("d", 0, os.ModeDir|0o770, 1000); err == nil {
		t.Error("CheckOwner took a group-writable directory")
	}
}

func TestLockIsExclusive(t *testing.T) {
	state := t.TempDir()
	cleanFallbacks(t, state)
	l, err := Acquire(state)
	if err != nil {
		t.Fatal(err)
	}
	if l.Path != filepath.Join(state, LockName) {
		t.Errorf("lock at %s", l.Path)
	}
	_, err = Acquire(state)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second Acquire = %v, want a HeldError naming pid %d", err, os.Getpid())
	}
	l.Close()
	l2, err := Acquire(state)
	if err != nil {
		t.Fatalf("Acquire after Close: %v", err)
	}
	l2.Close()
}

func TestLockNeverFollowsSymlink(t *testing.T) {
	state := t.TempDir()
	cleanFallbacks(t, state)
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep me\n"), 0o644)
	if err := os.Symlink(victim, filepath.Join(state, LockName)); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(state)
	if err == nil {
		// A symlink cannot be opened: the state dir could not hold the lock,
		// so the fallback did.
		defer l.Close()
		if filepath.Dir(l.Path) == state {
			t.Errorf("lock taken through the symlink at %s", l.Path)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("the symlink's target was written: %q", b)
	}
}

func TestLockInUnwritableStateDir(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root writes anywhere; a file in the way of the state dir makes it
		// impossible to create instead.
		parent := t.TempDir()
		os.WriteFile(filepath.Join(parent, "file"), nil, 0o600)
		state := filepath.Join(parent, "file", "state")
		cleanFallbacks(t, state)
		l, err := Acquire(state)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if !strings.HasPrefix(l.Path, "/run/holdfast-") && !strings.HasPrefix(l.Path, "/tmp/holdfast-") {
			t.Errorf("lock at %s, want the fallback directory", l.Path)
		}
		var held *HeldError
		if _, err := Acquire(state); !errors.As(err, &held) {
			t.Errorf("second Acquire = %v, want HeldError", err)
		}
		return
	}
	t.Skip("run as root")
}

func TestLockPlantedFileNotWritten(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant a file as another uid")
	}
	state := t.TempDir()
	cleanFallbacks(t, state)
	p := filepath.Join(state, LockName)
	os.WriteFile(p, []byte("not a pid"), 0o666)
	os.Chown(p, nobody, nobody)
	// The planter holds a lock on it: holdfast must still start.
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(state)
	if err != nil {
		t.Fatalf("a lock file planted and locked by uid %d kept holdfast out: %v", nobody, err)
	}
	defer l.Close()
	if filepath.Dir(l.Path) == state {
		t.Errorf("locked the planted file %s", l.Path)
	}
	if b, _ := os.ReadFile(p); string(b) != "not a pid" {
		t.Errorf("holdfast wrote into a lock file it does not own: %q", b)
	}
	// Still exclusive: a second holdfast makes the same choice.
	var held *HeldError
	if _, err := Acquire(state); !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Errorf("second Acquire = %v, want HeldError naming pid %d", err, os.Getpid())
	}
}
