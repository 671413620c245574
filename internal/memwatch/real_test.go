package memwatch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeLimitedCgroup creates a child memory cgroup of the test's own with
// the given limit, or skips when that is not possible here (not root, or
// not the v1 memory controller, which this test drives).
func makeLimitedCgroup(t *testing.T, limit int) Cgroup {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a memory cgroup")
	}
	own, err := Find()
	if err != nil {
		t.Skipf("no memory cgroup: %v", err)
	}
	if own.Version != V1 {
		t.Skipf("this test drives the v1 memory controller; found %v", own.Version)
	}
	dir := filepath.Join(own.Dir, "holdfast-memwatch-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The cgroup can only go once its last task is gone; the test
		// waits for its child, so this is bounded.
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("removing %s: %v", dir, err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	cg := Cgroup{Version: V1, Dir: dir}
	if err := os.WriteFile(cg.file("memory.limit_in_bytes"), []byte(strconv.Itoa(limit)), 0); err != nil {
		t.Fatal(err)
	}
	// No swap may stand in for the OOM kill.
	os.WriteFile(cg.file("memory.swappiness"), []byte("0"), 0)
	return cg
}

// A process in a 64 MiB cgroup grows to 92% of it: the 90% watermark fires
// and its evidence is on disk while the process still lives. Then it grows
// on: the kernel OOM-kills it, and the cgroup's oom_kill counter says so.
// A second, small process in the same cgroup survives (v1 kills one
// process, not the group).
func TestRealWatermarkBeforeOOMKill(t *testing.T) {
	const limit = 64 << 20
	cg := makeLimitedCgroup(t, limit)
	h := startHelper(t, "grow", "HOLDFAST_PLATEAU_PERCENT=92", "HOLDFAST_CGROUP="+cg.Dir, "GOGC=off")
	pid := h.cmd.Process.Pid
	if err := os.WriteFile(cg.file("cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatal(err)
	}
	// A bystander in the same cgroup, as holdfast is beside its app: on
	// v1 the OOM killer picks one process, the bystander survives.
	bystander := startHelper(t, "cost", "HOLDFAST_SAMPLING=0")
	bystander.expect(t, "ready", 60*time.Second)
	if err := os.WriteFile(cg.file("cgroup.procs"), []byte(strconv.Itoa(bystander.cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	before, err := cg.OOMKills()
	if err != nil {
		t.Fatal(err)
	}

	evDir := t.TempDir()
	fired := make(chan []string, 1)
	s, err := NewSampler(Config{
		Cgroup:   cg,
		PID:      pid,
		Timeline: tempPath(t, "memory.timeline"),
		OnWatermark: func(p Point) {
			written, err := SaveEvidence(evDir, pid, cg)
			if err != nil {
				t.Errorf("evidence: %v", err)
			}
			fired <- written
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	fmt.Fprintln(h.stdin, "go")
	h.expect(t, "plateau", 60*time.Second)
	var written []string
	deadline := time.Now().Add(30 * time.Second)
	for written == nil {
		if _, err := s.Sample(time.Now()); err != nil {
			t.Fatal(err)
		}
		select {
		case written = <-fired:
		default:
			if time.Now().After(deadline) {
				t.Fatalf("no watermark; summary %+v", s.Summary())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The evidence exists and the process is alive: it was taken before
	// any kill.
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("helper gone before the OOM: %v", err)
	}
	if len(written) != 3 {
		t.Fatalf("evidence %v", written)
	}
	st, _ := os.ReadFile(filepath.Join(evDir, EvidenceStatus))
	rss, _ := parseVmRSS(st)
	if rss < 50<<20 {
		t.Fatalf("evidence status shows RSS %d, want ≥ 50 MiB", rss)
	}
	if mid, _ := cg.OOMKills(); mid != before {
		t.Fatalf("OOM kill before the helper was told to grow on (%d → %d)", before, mid)
	}
	sum := s.Summary()
	t.Logf("at the watermark: %+v", sum)
	if sum.Limit != limit || float64(sum.Peak) < 0.9*limit {
		t.Fatalf("summary %+v", sum)
	}

	// Negative control done above (no kill yet); now the kill.
	fmt.Fprintln(h.stdin, "more")
	err = h.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("helper: %v, want killed", err)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want SIGKILL", ws)
	}
	after, err := cg.OOMKills()
	if err != nil {
		t.Fatal(err)
	}
	if !OOMKilledDuring(before, after) {
		t.Fatalf("oom_kill %d → %d: the kernel's kill is not counted", before, after)
	}
	t.Logf("oom_kill %d → %d", before, after)
	if err := syscall.Kill(bystander.cmd.Process.Pid, 0); err != nil {
		t.Fatalf("the bystander died with the OOM kill on v1: %v", err)
	}
	if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", bystander.cmd.Process.Pid)); strings.Contains(string(st), ") Z ") {
		t.Fatal("the bystander is a zombie: it was killed")
	}
	// Leave the cgroup empty for its removal.
	bystander.stdin.Close()
	bystander.cmd.Wait()
}

// A sampler SIGKILLed mid-stream leaves a timeline with every sample it
// reported, readable.
func TestRealTimelineSurvivesSIGKILL(t *testing.T) {
	if _, err := Find(); err != nil {
		t.Skipf("no memory cgroup: %v", err)
	}
	path := tempPath(t, "memory.timeline")
	h := startHelper(t, "sample", "HOLDFAST_TIMELINE="+path)
	h.expect(t, "ready", 60*time.Second)
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	ps, err := ReadTimeline(path)
	if err != nil {
		t.Fatal(err)
	}
	var fine []Point
	for _, p := range ps {
		if !p.Coarse {
			fine = append(fine, p)
		}
	}
	if len(fine) < 50 {
		t.Fatalf("%d fine samples survived, want ≥ 50", len(fine))
	}
	for i := 1; i < len(fine); i++ {
		if fine[i].Seq != fine[i-1].Seq+1 || fine[i].Time.Before(fine[i-1].Time) {
			t.Fatalf("samples out of order at %d: %+v %+v", i, fine[i-1], fine[i])
		}
	}
	last := fine[len(fine)-1]
	if last.Usage == 0 || last.RSS == 0 || time.Since(last.Time) > time.Minute {
		t.Fatalf("last sample %+v", last)
	}
	t.Logf("%d records survived; last seq %d", len(ps), last.Seq)
}

// Find in a container-like setup: a cgroup namespace rooted at a limited
// cgroup, a tmpfs at /sys/fs/cgroup and a fresh v1 memory mount in it, as
// a container runtime makes (mountinfo still lists the old, now hidden,
// mount). Find must return the mount point and read the
// limit set from outside. Without the fresh mount (the old one shows the
// hierarchy from above the namespace) it must refuse.
func TestRealFindInCgroupNamespace(t *testing.T) {
	const limit = 96 << 20
	cg := makeLimitedCgroup(t, limit)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	run := func(mount bool) string {
		inner := `exec "$1" -test.run='^$'`
		if mount {
			inner = `mount -t tmpfs tmpfs /sys/fs/cgroup && mkdir /sys/fs/cgroup/memory && ` +
				`mount -t cgroup -o memory memcg /sys/fs/cgroup/memory && ` + inner
		}
		script := `echo $$ > "$2/cgroup.procs" && exec unshare --cgroup --mount sh -c '` +
			strings.ReplaceAll(inner, "'", `'\''`) + `' sh "$1"`
		cmd := exec.Command("/bin/sh", "-c", script, "sh", os.Args[0], cg.Dir)
		cmd.Env = append(os.Environ(), helperEnv+"=find")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	got := run(true)
	want := fmt.Sprintf("found v1 /sys/fs/cgroup/memory %d <nil>", limit)
	if got != want {
		t.Fatalf("with a fresh mount: %q, want %q", got, want)
	}
	if got := run(false); got != "error "+ErrOutsideNamespace.Error() {
		t.Fatalf("with the old mount: %q", got)
	}
}
