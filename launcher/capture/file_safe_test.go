package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// output.log is never written through a link planted at its name.
func TestFileLogRefusesLink(t *testing.T) {
	con, _, _ := testConsole(t)
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("victim\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "output.log")
	if err := os.Symlink(victim, logPath); err != nil {
		t.Fatal(err)
	}
	run, err := Start(Options{Console: con, LogPath: logPath})
	if err != nil {
		t.Fatal(err)
	}
	finish(t, run, child(t, run, nil, "bulk", "100000"))
	if b, _ := os.ReadFile(victim); string(b) != "victim\n" {
		t.Fatalf("written through the link: victim holds %d bytes", len(b))
	}
	if len(run.Bytes()) != 100000 {
		t.Errorf("retained %d bytes, want 100000 in memory", len(run.Bytes()))
	}
}

// A write that hits a full disk asks OnNoSpace for room and goes on; the
// file ends equal to the retained log.
func TestFileLogMakesRoomOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	// An older file takes most of the room; OnNoSpace deletes it.
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, make([]byte, 700<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	onNoSpace := func() bool {
		calls.Add(1)
		return os.Remove(old) == nil
	}
	con, _, _ := testConsole(t)
	logPath := filepath.Join(dir, "output.log")
	run, err := Start(Options{Console: con, LogPath: logPath, OnNoSpace: onNoSpace})
	if err != nil {
		t.Fatal(err)
	}
	const n = 600 << 10
	finish(t, run, child(t, run, nil, "bulk", "614400"))
	if calls.Load() == 0 {
		t.Fatal("OnNoSpace never called: the disk was not full; the test proves nothing")
	}
	got := readFile(t, logPath)
	if len(got) != n || !bytes.Equal(got, run.Bytes()) {
		t.Errorf("output.log has %d bytes, want the whole %d", len(got), n)
	}
}
