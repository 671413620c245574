package runrec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/testutil"
)

// warnLog captures a Records logger's output so tests can count warnings.
type warnLog struct{ testutil.Buffer }

func (l *warnLog) warnings() int { return strings.Count(l.String(), "level=WARN") }

// finishCode ends rec like the supervisor would.
func finishCode(t *testing.T, r *Records, rec *RunRecord, code int, reason EndReason) {
	t.Helper()
	end := rec.StartedAt.Add(1500 * time.Millisecond)
	rec.EndedAt, rec.ExitCode, rec.Reason, rec.Decision = &end, &code, reason, "restart"
	if err := r.Finish(rec); err != nil {
		t.Fatalf("Finish run %d: %v", rec.Run, err)
	}
}

func diskRunNames(t *testing.T, stateDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRecordsNumberingContinuesAcrossReopen(t *testing.T) {
	state := t.TempDir()
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := Open(state, 20, nil)
	if !r.Writable() {
		t.Fatal("fresh temp dir not writable")
	}
	for want := 1; want <= 3; want++ {
		rec := r.Begin([]string{"java", "-jar", "app.jar"}, want, 100+want, start)
		if rec.Run != want {
			t.Fatalf("run = %d, want %d", rec.Run, want)
		}
		if rec.Dir != filepath.Join(state, "runs", strconv.Itoa(want)) || rec.Dir != r.RunDir(want) {
			t.Fatalf("dir = %q", rec.Dir)
		}
		finishCode(t, r, rec, want, "startup-crash")
	}

	// A new holdfast on the same state dir (container restart, emptyDir kept).
	r2 := Open(state, 20, nil)
	rec := r2.Begin([]string{"java"}, 1, 0, start)
	if rec.Run != 4 {
		t.Fatalf("after reopen run = %d, want 4", rec.Run)
	}
	list := r2.List()
	if len(list) != 4 {
		t.Fatalf("List has %d runs, want 4: %+v", len(list), list)
	}
	for i, got := range list {
		if got.Run != i+1 {
			t.Fatalf("List[%d].Run = %d", i, got.Run)
		}
	}
	old := list[1] // read back from disk by the second Records
	if old.ExitCode == nil || *old.ExitCode != 2 || old.Reason != "startup-crash" || old.PID != 102 ||
		!old.StartedAt.Equal(start) || old.RanForSeconds != 1.5 || !slices.Equal(old.Command, []string{"java", "-jar", "app.jar"}) {
		t.Fatalf("run 2 read back wrong: %+v", old)
	}
	if list[3].ExitCode != nil {
		t.Fatalf("running run has exit code %d", *list[3].ExitCode)
	}
	if g, ok := r2.Get(2); !ok || g.Run != 2 || g.Reason != "startup-crash" {
		t.Fatalf("Get(2) = %+v, %v", g, ok)
	}
	if _, ok := r2.Get(99); ok {
		t.Fatal("Get(99) found a run that does not exist")
	}

	// Negative control: another state dir starts again at 1.
	if n := Open(t.TempDir(), 20, nil).Begin(nil, 1, 0, start).Run; n != 1 {
		t.Fatalf("fresh state dir began at run %d", n)
	}
}

func TestRecordsPruneKeepsNewest(t *testing.T) {
	state := t.TempDir()
	r := Open(state, 3, nil)
	// Entries that are not run dirs are never touched.
	for _, name := range []string{"007", "notes"} {
		if err := os.Mkdir(filepath.Join(state, "runs", name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 6; n++ {
		rec := r.Begin([]string{"app"}, 1, 0, time.Now())
		want := []string{"007", "notes"}
		for k := max(1, n-2); k <= n; k++ {
			want = append(want, strconv.Itoa(k))
		}
		slices.Sort(want)
		if got := diskRunNames(t, state); !slices.Equal(got, want) {
			t.Fatalf("after run %d: dirs %v, want %v", rec.Run, got, want)
		}
		if len(r.List()) != min(n, 3) {
			t.Fatalf("after run %d: List has %d", n, len(r.List()))
		}
	}

	// keep 1 (and nonsense 0) keeps only the current run, never deletes it.
	for _, keep := range []int{1, 0} {
		r1 := Open(state, keep, nil)
		rec := r1.Begin([]string{"app"}, 1, 0, time.Now())
		got := r1.List()
		if len(got) != 1 || got[0].Run != rec.Run {
			t.Fatalf("keep %d: List = %+v, want only run %d", keep, got, rec.Run)
		}
		if _, err := os.Stat(rec.Dir); err != nil {
			t.Fatalf("keep %d: current run dir gone: %v", keep, err)
		}
	}
}

func TestRecordsFinishWritesAtomically(t *testing.T) {
	r := Open(t.TempDir(), 5, nil)
	rec := r.Begin([]string{"app"}, 1, 7, time.Now())
	path := filepath.Join(rec.Dir, "run.json")
	before := inode(t, path)
	var initial RunRecord
	readJSON(t, path, &initial)
	if initial.ExitCode != nil || initial.Run != rec.Run {
		t.Fatalf("initial run.json: %+v", initial)
	}

	finishCode(t, r, rec, 3, "late-crash")
	if after := inode(t, path); after == before {
		t.Fatal("run.json kept its inode: Finish wrote in place, not by rename")
	}
	var final RunRecord
	readJSON(t, path, &final)
	if final.ExitCode == nil || *final.ExitCode != 3 || final.Reason != "late-crash" || final.EndedAt == nil {
		t.Fatalf("final run.json: %+v", final)
	}
	noTemp(t, rec.Dir)

	// Negative control: an in-place write keeps the inode, so the check above
	// can tell the two apart.
	before = inode(t, path)
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if inode(t, path) != before {
		t.Fatal("in-place write changed the inode; the rename check proves nothing here")
	}

	// A failed rename (run.json replaced by a non-empty dir) reports the
	// error and leaves no temp file behind.
	os.Remove(path)
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := r.Finish(rec)
	if err == nil || !strings.Contains(err.Error(), "cannot rename") {
		t.Fatalf("Finish over a directory: err = %v", err)
	}
	noTemp(t, rec.Dir)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s is not valid JSON: %v\n%s", path, err, data)
	}
}

func noTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Fatalf("temp file %s left in %s", e.Name(), dir)
		}
	}
}

// readOnlyDir returns a state dir that cannot be written, holding an
// old run 4. Root ignores permission bits, so as root it is a read-only bind
// mount; otherwise mode 0555.
func readOnlyDir(t *testing.T) string {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "runs", "4"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := `{"run":4,"command":["app"],"exit_code":1,"reason":"startup-crash"}`
	if err := os.WriteFile(filepath.Join(src, "runs", "4", "run.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		os.Chmod(filepath.Join(src, "runs", "4"), 0o555)
		os.Chmod(filepath.Join(src, "runs"), 0o555)
		t.Cleanup(func() {
			os.Chmod(filepath.Join(src, "runs"), 0o755)
			os.Chmod(filepath.Join(src, "runs", "4"), 0o755)
		})
		return src
	}
	dst := t.TempDir()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("cannot bind mount %s: %v", src, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
	if err := unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("cannot remount %s read-only: %v", dst, err)
	}
	if err := os.WriteFile(filepath.Join(dst, "probe"), nil, 0o644); err == nil {
		t.Fatal("read-only bind mount is writable")
	}
	return dst
}

func TestRecordsUnwritableStateDirKeepsMemory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	runsIsFile := t.TempDir()
	if err := os.WriteFile(filepath.Join(runsIsFile, "runs"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		dir      string
		firstRun int
	}{
		{"under a regular file", filepath.Join(file, "sub"), 1},
		{"runs is a file", runsIsFile, 1},
		{"read-only", readOnlyDir(t), 5}, // numbering continues from the readable disk
	}
	ro := cases[2].dir
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log warnLog
			r := Open(tc.dir, 20, log.Logger())
			if r.Writable() {
				t.Fatal("Writable() = true")
			}
			a := r.Begin([]string{"app"}, 1, 0, time.Now())
			b := r.Begin([]string{"app"}, 2, 0, time.Now())
			if a.Run != tc.firstRun || b.Run != tc.firstRun+1 || a.Dir != "" || b.Dir != "" {
				t.Fatalf("runs %d %q, %d %q", a.Run, a.Dir, b.Run, b.Dir)
			}
			r.SetPID(b.Run, 99)
			finishCode(t, r, a, 1, "startup-crash")
			finishCode(t, r, b, 2, "startup-crash")
			list := r.List()
			if len(list) < 2 || list[len(list)-1].Run != b.Run || *list[len(list)-1].ExitCode != 2 || list[len(list)-1].PID != 99 {
				t.Fatalf("List = %+v", list)
			}
			if got, ok := r.Get(a.Run); !ok || got.Reason != "startup-crash" {
				t.Fatalf("Get(%d) = %+v %v", a.Run, got, ok)
			}
			if n := log.warnings(); n != 1 {
				t.Fatalf("%d warnings, want 1:\n%s", n, log.String())
			}
			if !strings.Contains(log.String(), filepath.Join(tc.dir, "runs")) {
				t.Fatalf("warning does not name the path:\n%s", log.String())
			}
		})
	}

	// Pruning in memory mode does not try (and warn about) the read-only disk.
	var roLog warnLog
	r1 := Open(ro, 1, roLog.Logger())
	for range 3 {
		r1.Begin([]string{"app"}, 1, 0, time.Now())
	}
	if list := r1.List(); len(list) != 2 || list[0].Run != 4 || list[1].Run != 7 || roLog.warnings() != 1 {
		t.Fatalf("read-only, keep 1: List %+v, log:\n%s", list, roLog.String())
	}

	// Negative control: a writable dir logs nothing and writes to disk.
	var log warnLog
	r := Open(t.TempDir(), 20, log.Logger())
	rec := r.Begin([]string{"app"}, 1, 0, time.Now())
	finishCode(t, r, rec, 1, "startup-crash")
	if !r.Writable() || rec.Dir == "" || log.warnings() != 0 {
		t.Fatalf("writable dir: writable=%v dir=%q log=%s", r.Writable(), rec.Dir, log.String())
	}
}

func TestRecordsMemoryModePrunesAndScansEvidenceDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := Open(filepath.Join(file, "x"), 2, nil)
	if r.Writable() {
		t.Fatal("state dir under a file is writable")
	}
	var last *RunRecord
	for range 4 {
		last = r.Begin([]string{"app"}, 1, 0, time.Now())
	}
	if list := r.List(); len(list) != 2 || list[0].Run != 3 || list[1].Run != 4 {
		t.Fatalf("memory mode kept %+v, want runs 3 and 4", list)
	}
	last.EvidenceDir = t.TempDir()
	os.WriteFile(filepath.Join(last.EvidenceDir, "java_pid1.hprof"), []byte("JAVA PROFILE"), 0o600)
	finishCode(t, r, last, 1, "startup-crash")
	got, _ := r.Get(last.Run)
	if len(got.Artifacts) != 1 || got.Artifacts[0].Kind != "heap-dump" || got.Artifacts[0].Size != 12 {
		t.Fatalf("artifacts = %+v", got.Artifacts)
	}
}

func TestRecordsArtifactKinds(t *testing.T) {
	r := Open(t.TempDir(), 5, nil)
	rec := r.Begin([]string{"java"}, 1, 0, time.Now())
	files := map[string]string{
		"output.log":                     "output",
		"java_pid13.hprof":               "heap-dump",
		"hs_err_pid13.log":               "hs-err",
		"core":                           "core",
		"core.77":                        "core",
		"thread-dump-1.txt":              "thread-dump",
		"threads-20261206T113308Z.txt":   "thread-dump",
		"histogram-20261206T113308Z.txt": "class-histogram",
		"histogram.txt":                  "other",
		"jvm/recording-1.jfr":            "jfr",
		"notes.txt":                      "other",
		"replay_pid13.log":               "other",
		"sub/java_pid14.hprof":           "heap-dump",
		".hidden":                        "",
		".run.json.123":                  "",
		"hs_err_pid13.log.gz.x":          "other",
	}
	for name := range files {
		p := filepath.Join(rec.Dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	finishCode(t, r, rec, 134, "late-crash")
	var onDisk RunRecord
	readJSON(t, filepath.Join(rec.Dir, "run.json"), &onDisk)
	got := map[string]Artifact{}
	for _, a := range onDisk.Artifacts {
		got[a.Name] = a
	}
	for name, kind := range files {
		a, ok := got[name]
		if kind == "" {
			if ok {
				t.Errorf("%s listed as an artifact", name)
			}
			continue
		}
		if !ok || a.Kind != kind || a.Size != int64(len(name)) {
			t.Errorf("%s: got %+v (listed %v), want kind %s size %d", name, a, ok, kind, len(name))
		}
	}
	if _, ok := got["run.json"]; ok {
		t.Error("run.json listed as an artifact")
	}
}

// Rescan lists a file added to a run that has not ended in its run.json
// at once; a run that is not kept is refused.
func TestRecordsRescan(t *testing.T) {
	r := Open(t.TempDir(), 5, nil)
	rec := r.Begin([]string{"java"}, 1, 0, time.Now())
	if err := os.WriteFile(filepath.Join(rec.Dir, "threads-1.txt"), []byte("dump"), 0o600); err != nil {
		t.Fatal(err)
	}
	var before RunRecord
	readJSON(t, filepath.Join(rec.Dir, "run.json"), &before)
	if len(before.Artifacts) != 0 {
		t.Fatalf("artifacts before Rescan: %+v", before.Artifacts)
	}
	if err := r.Rescan(rec.Run); err != nil {
		t.Fatal(err)
	}
	var after RunRecord
	readJSON(t, filepath.Join(rec.Dir, "run.json"), &after)
	want := []Artifact{{Name: "threads-1.txt", Kind: "thread-dump", Size: 4}}
	if !slices.Equal(after.Artifacts, want) || after.EndedAt != nil {
		t.Errorf("after Rescan: artifacts %+v ended %v, want %+v and still running", after.Artifacts, after.EndedAt, want)
	}
	if got, _ := r.Get(rec.Run); !slices.Equal(got.Artifacts, want) {
		t.Errorf("Get after Rescan: %+v", got.Artifacts)
	}
	if err := r.Rescan(rec.Run + 1); err == nil {
		t.Error("Rescan of a run that is not kept: no error")
	}
}

func TestRecordsListSurvivesCorruptRunJSON(t *testing.T) {
	state := t.TempDir()
	r := Open(state, 20, nil)
	for range 3 {
		rec := r.Begin([]string{"app"}, 1, 0, time.Now())
		finishCode(t, r, rec, 1, "startup-crash")
	}
	os.WriteFile(filepath.Join(state, "runs", "1", "run.json"), []byte(`{"run":1,"command":["ap`), 0o644)
	os.Remove(filepath.Join(state, "runs", "2", "run.json"))
	os.WriteFile(filepath.Join(state, "runs", "2", "hs_err_pid9.log"), []byte("crash"), 0o644)

	var log warnLog
	r2 := Open(state, 20, log.Logger())
	var list []RunRecord
	for range 3 {
		list = r2.List()
	}
	if len(list) != 3 {
		t.Fatalf("List = %+v", list)
	}
	if list[0].Reason != Unknown || list[0].Dir != r2.RunDir(1) {
		t.Fatalf("corrupt run 1 listed as %+v", list[0])
	}
	if list[1].Reason != Unknown || len(list[1].Artifacts) != 1 || list[1].Artifacts[0].Kind != "hs-err" {
		t.Fatalf("run 2 without run.json listed as %+v", list[1])
	}
	if list[2].Reason != "startup-crash" { // negative control: the intact one
		t.Fatalf("intact run 3 listed as %+v", list[2])
	}
	if n := log.warnings(); n != 2 {
		t.Fatalf("%d warnings over 3 Lists, want 2 (once per bad run):\n%s", n, log.String())
	}
	if rec := r2.Begin(nil, 1, 0, time.Now()); rec.Run != 4 {
		t.Fatalf("next run = %d, want 4", rec.Run)
	}
}

func TestRecordsSetPIDReachesDisk(t *testing.T) {
	r := Open(t.TempDir(), 5, nil)
	rec := r.Begin([]string{"app"}, 1, 0, time.Now())
	r.SetPID(rec.Run, 4242)
	if got, _ := r.Get(rec.Run); got.PID != 4242 {
		t.Fatalf("Get after SetPID: pid %d", got.PID)
	}
	finishCode(t, r, rec, 0, "clean-exit")
	var disk RunRecord
	readJSON(t, filepath.Join(rec.Dir, "run.json"), &disk)
	if disk.PID != 4242 {
		t.Fatalf("run.json pid = %d, want 4242", disk.PID)
	}
}

// The control socket lists while the supervisor begins and finishes runs.
func TestRecordsConcurrentList(t *testing.T) {
	r := Open(t.TempDir(), 3, nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				for _, rec := range r.List() {
					_ = rec.Command
				}
			}
		}
	}()
	for range 20 {
		rec := r.Begin([]string{"app"}, 1, 0, time.Now())
		finishCode(t, r, rec, 1, "startup-crash")
	}
	close(done)
	wg.Wait()
	if list := r.List(); len(list) != 3 || list[2].Run != 20 {
		t.Fatalf("List = %+v", list)
	}
}
