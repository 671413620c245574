package exitfacts

import (
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/runrec"
)

// JVMEvidence reads the heap dumps and the hs_err file the app left in
// its jvm/ dir, and nothing it planted to mislead or block holdfast: a
// link and a FIFO with the right names are skipped without blocking.
func TestJVMEvidence(t *testing.T) {
	run := t.TempDir()
	jvm := filepath.Join(run, runrec.AppDirName)
	if err := os.Mkdir(jvm, 0o755); err != nil {
		t.Fatal(err)
	}
	hs, err := os.ReadFile("../../cause/testdata/hs_err_pid14691.log")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(jvm, "java_pid43.hprof"), []byte("JAVA PROFILE 1.0.2"), 0o600))
	must(os.WriteFile(filepath.Join(jvm, "hs_err_pid14691.log"), hs, 0o600))
	must(os.Symlink("/etc/passwd", filepath.Join(jvm, "java_pid1.hprof")))
	must(syscall.Mkfifo(filepath.Join(jvm, "hs_err_pid99999.log"), 0o600))
	log := slog.New(slog.DiscardHandler)
	dumps, hsErr := JVMEvidence(EvidenceDir(&runrec.RunRecord{Dir: run}), log)
	if len(dumps) != 1 || dumps[0] != filepath.Join(jvm, "java_pid43.hprof") {
		t.Errorf("heap dumps %q, want only the regular file", dumps)
	}
	if hsErr == nil || hsErr.Kind != cause.JVMCrash || hsErr.HsErr != filepath.Join(jvm, "hs_err_pid14691.log") {
		t.Errorf("hs_err cause %+v", hsErr)
	}
	// Memory mode: the JVM wrote into the temp evidence dir itself.
	if d, c := JVMEvidence(EvidenceDir(&runrec.RunRecord{EvidenceDir: jvm}), log); len(d) != 1 || c == nil {
		t.Errorf("memory mode's evidence dir: %q %+v", d, c)
	}
	// Negative control: no jvm/ dir, no evidence.
	if d, c := JVMEvidence(EvidenceDir(&runrec.RunRecord{Dir: t.TempDir()}), log); d != nil || c != nil {
		t.Errorf("evidence without a jvm dir: %q %+v", d, c)
	}
}

// OOMWatch on this machine's own memory cgroup: a run with no OOM kill
// reads OOMNone with the limit and peak; a run it did not see start reads
// unknown (negative control). Without a readable cgroup it adds nothing.
func TestOOMWatch(t *testing.T) {
	w := NewOOMWatch(slog.New(slog.DiscardHandler))
	w.Start(7)
	var x cause.Exit
	w.End(7, &x)
	if !w.Readable() {
		if x.OOM != cause.OOMUnknown || x.MemoryLimit != 0 || x.MemoryPeak != 0 {
			t.Fatalf("no cgroup, yet facts %+v", x)
		}
		t.Skip("no memory cgroup readable here")
	}
	if x.OOM != cause.OOMNone || x.MemoryPeak == 0 {
		t.Errorf("a run without an OOM kill: %+v, want OOMNone and a peak", x)
	}
	var other cause.Exit
	w.End(8, &other)
	if other.OOM != cause.OOMUnknown {
		t.Errorf("a run the watch did not see start: OOM = %v, want unknown", other.OOM)
	}
}
