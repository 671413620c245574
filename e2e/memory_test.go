package e2e

// Memory evidence before the OOM kill: a JVM in a memory-limited container (runc with
// linux.resources.memory) grows towards the limit. At 90% holdfast logs one warning and
// saves cheap evidence in the run dir (memory/: the app's /proc status and smaps_rollup,
// the cgroup's memory.stat; a thread dump in output.log); the run's record keeps the
// memory summary and the JVM's heap against the limit. On cgroup v1 the kernel's OOM
// killer then kills the JVM and holdfast survives; when the whole container is killed
// at once instead (a cgroup v2 group OOM kill), the next holdfast on the same state dir
// finds the run vanished, with its last memory sample in the cause.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
	"github.com/holdfast-dev/holdfast/e2e/image"
)

const memLimit = 256 << 20

// growCtr starts the zoo's grow app (heap 1g, above the limit) in a 256 MiB container.
func growCtr(t *testing.T, perSec int, stateDir string) *runcCtr {
	return runcStart(t, runcOpts{app: "grow", memory: memLimit, stateDir: stateDir,
		// A small young generation: a collection promotes little at once, so usage
		// climbs in steps well below the 10% between the watermark and the limit.
		cmd: []string{"java", "-XX:+UseSerialGC", "-Xmn16m", "-Xmx1g", "-jar", image.AppJarPath},
		env: []string{"HOLDFAST_MAX_RESTARTS=0", fmt.Sprintf("GROW_MB_PER_SEC=%d", perSec)}})
}

const watermarkLine = "memory at 90% of the container's limit"

func waitConsole(t *testing.T, c *runcCtr, s string) {
	t.Helper()
	hfrun.WaitFor(t, runcWait, fmt.Sprintf("the console to say %q", s), func() bool {
		return strings.Contains(c.out.String(), s) || c.exited()
	}, func() string { return c.out.String() })
	if !strings.Contains(c.out.String(), s) {
		t.Fatalf("the container exited before saying %q:\n%s", s, c.out)
	}
}

func TestRuncMemoryWatermarkBeforeOOMKill(t *testing.T) {
	t.Parallel()
	c := growCtr(t, 4, "")
	waitConsole(t, c, "the JVM's maximum heap alone reaches the container's memory limit")
	waitConsole(t, c, watermarkLine)
	st := c.waitPhase(t, "held")
	t.Logf("run 1: %s", hfrun.ReadFile(t, filepath.Join(c.stateDir, "runs", "1", "run.json")))
	if st["hold_reason"] != "startup-crash" {
		t.Errorf("held: %v, want startup-crash", st)
	}
	rec := runcRunRecord(t, c.stateDir, 1)
	if rec["signal"] != "SIGKILL" {
		t.Errorf("run 1 ended by %v, want the OOM killer's SIGKILL: %v", rec["signal"], rec)
	}
	ended, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["ended_at"]))
	dir := filepath.Join(c.stateDir, "runs", "1")
	for _, name := range []string{"memory/status", "memory/smaps_rollup", "memory/memory.stat"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() == 0 {
			t.Errorf("evidence %s: %v", name, err)
			continue
		}
		if !fi.ModTime().Before(ended) {
			t.Errorf("evidence %s written at %v, not before the kill at %v", name, fi.ModTime(), ended)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "memory", "status")); !strings.Contains(string(b), "VmRSS") {
		t.Errorf("memory/status is not the app's /proc status:\n%s", b)
	}
	mem, _ := rec["memory"].(map[string]any)
	limit, _ := mem["limit"].(float64)
	peak, _ := mem["peak"].(float64)
	if limit != memLimit || peak < 0.9*memLimit || mem["watermark"] != true {
		t.Errorf("run.json memory %v, want limit %d, peak at least 90%% of it, watermark", mem, memLimit)
	}
	heap, _ := rec["jvm_heap"].(map[string]any)
	if heap["max_heap"] != float64(1<<30) || heap["reaches_limit"] != true || heap["limit"] != float64(memLimit) {
		t.Errorf("run.json jvm_heap %v, want 1 GiB reaching the %d limit", heap, memLimit)
	}
	if fi, err := os.Stat(filepath.Join(dir, "memory.timeline")); err != nil || fi.Size() == 0 {
		t.Errorf("memory.timeline: %v", err)
	}
	hfrun.WaitFileHas(t, filepath.Join(dir, "output.log"), "Full thread dump")
	if n := strings.Count(c.out.String(), watermarkLine); n != 1 {
		t.Errorf("the watermark warning was logged %d times, want once", n)
	}
}

// The container killed as a whole right after the warning (what the kernel's group OOM
// kill does on cgroup v2): the timeline survives, and the next container on the same
// state dir names the run vanished, with its last memory sample; with --max-restarts=0
// that one vanished startup crash spends the budget, so it starts held.
func TestRuncGroupKillLeavesTimeline(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	c := growCtr(t, 4, stateDir)
	waitConsole(t, c, watermarkLine)
	if out, err := c.runc(t, "kill", c.id, "KILL"); err != nil {
		t.Fatalf("runc kill KILL: %v\n%s", err, out)
	}
	c.waitExit(t, hfrun.WaitLong)

	c2 := growCtr(t, 4, stateDir)
	st := c2.waitPhase(t, "held")
	if st["hold_reason"] != "startup-crash" || st["pid"] != nil {
		t.Errorf("second container: %v, want held at start, no app", st)
	}
	rec := runcRunRecord(t, stateDir, 1)
	cause, _ := rec["cause"].(map[string]any)
	summary := fmt.Sprint(cause["summary"])
	if rec["reason"] != "vanished" || !strings.Contains(summary, "% of the memory limit") || !strings.Contains(summary, "most likely the kernel OOM group kill") {
		t.Errorf("run 1: reason %v cause %v, want vanished with the last memory sample near the limit", rec["reason"], cause)
	}
	if runs := runcRuns(t, stateDir); len(runs) != 1 {
		t.Errorf("runs %v, want only run 1: the app must not start again", runs)
	}
	waitConsole(t, c2, "1 container restart(s)")
}
