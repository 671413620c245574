package bundle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// made is one bundle written to disk and unpacked by GNU tar.
type made struct {
	file    string   // the .tgz
	size    int64    // its compressed size
	listing string   // tar -tzvf output
	root    string   // the extracted top dir
	files   []string // every extracted file, relative to root
	res     Result
}

func makeBundle(t *testing.T, o Options) made {
	t.Helper()
	dir := t.TempDir()
	m := made{file: filepath.Join(dir, "bundle.tgz")}
	f, err := os.Create(m.file)
	must(t, err)
	m.res, err = Write(f, o)
	must(t, err)
	must(t, f.Close())
	fi, err := os.Stat(m.file)
	must(t, err)
	m.size = fi.Size()

	// GNU tar reads it from a pipe, as `holdfast bundle | tar -tzvf -` does.
	list := exec.Command("tar", "-tzvf", "-")
	list.Stdin, _ = os.Open(m.file)
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("tar -tzvf -: %v\n%s", err, out)
	}
	m.listing = string(out)
	x := filepath.Join(dir, "x")
	must(t, os.Mkdir(x, 0o755))
	if out, err := exec.Command("tar", "-xzf", m.file, "-C", x).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf: %v\n%s", err, out)
	}
	m.root = filepath.Join(x, TopDir(o.Now))
	must(t, filepath.WalkDir(x, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			if !d.Type().IsRegular() {
				t.Errorf("extracted %s is not a regular file (%v)", p, d.Type())
			}
			rel, _ := filepath.Rel(m.root, p)
			m.files = append(m.files, rel)
		}
		return nil
	}))
	slices.Sort(m.files)
	return m
}

// checkManifest verifies that MANIFEST names every other extracted file
// with its size and SHA-256, and nothing else.
func (m made) checkManifest(t *testing.T) {
	t.Helper()
	f, err := os.Open(filepath.Join(m.root, ManifestName))
	must(t, err)
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), "  ", 3)
		if len(fields) != 3 {
			t.Fatalf("MANIFEST line %q", sc.Text())
		}
		name := fields[2]
		if strings.HasPrefix(name, `"`) {
			name, err = strconv.Unquote(name)
			must(t, err)
		}
		data, err := os.ReadFile(filepath.Join(m.root, name))
		if err != nil {
			t.Errorf("MANIFEST names %s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != fields[0] {
			t.Errorf("%s: sha256 %s, MANIFEST says %s", name, got, fields[0])
		}
		if strconv.Itoa(len(data)) != fields[1] {
			t.Errorf("%s: %d bytes, MANIFEST says %s", name, len(data), fields[1])
		}
		listed = append(listed, name)
	}
	listed = append(listed, ManifestName)
	slices.Sort(listed)
	if !slices.Equal(listed, m.files) {
		t.Errorf("MANIFEST lists %v\nextracted: %v", listed, m.files)
	}
}

func (m made) read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.root, rel))
	must(t, err)
	return string(b)
}

func TestRoundTripDefault(t *testing.T) {
	f := newFixture(t)
	m := makeBundle(t, f.opts)
	m.checkManifest(t)
	want := []string{"MANIFEST", "SUMMARY.txt", "facts.json", "runs.json",
		"runs/1/output.log", "runs/1/run.json", "runs/2/output.log", "runs/2/run.json",
		"runs/3/hs_err_pid7.log", "runs/3/jvm/gc.log", "runs/3/output.log", "runs/3/run.json",
		"runs/3/thread-dump-1.txt", "status.json"}
	if !slices.Equal(m.files, want) {
		t.Errorf("files %v\nwant  %v", m.files, want)
	}
	if !strings.Contains(m.listing, TopDir(f.opts.Now)+"/runs/3/output.log") {
		t.Errorf("tar -tzvf does not list runs/3/output.log:\n%s", m.listing)
	}
	// The files are the run dir's, byte for byte.
	for _, rel := range []string{"runs/2/output.log", "runs/3/hs_err_pid7.log", "runs/3/run.json"} {
		orig, err := os.ReadFile(filepath.Join(f.stateDir, rel))
		must(t, err)
		if m.read(t, rel) != string(orig) {
			t.Errorf("%s differs from the run dir's", rel)
		}
	}
	if m.read(t, "status.json") != string(f.opts.Status) {
		t.Errorf("status.json is not the status given")
	}
	var runs []map[string]any
	must(t, json.Unmarshal([]byte(m.read(t, "runs.json")), &runs))
	if len(runs) != 3 || runs[2]["decision"] != "hold" || runs[2]["dir"] == nil {
		t.Errorf("runs.json does not repeat the records: %v", runs)
	}
	sum := m.read(t, "SUMMARY.txt")
	for _, s := range []string{
		"phase: held (startup-crash)",
		"spring-failure-analysis: Web server failed to start. Port 8080 was already in use.",
		"runs/3/java_pid7.hprof (64.0 MiB): heap dump; --with-heap includes it",
		"runs/3/big.bin (1.0 MiB): larger than 1.0 MiB",
		"runs/3/jvm/evil.log: symbolic link to",
		"runs/3/jvm/up: symbolic link to",
		"runs/3/jvm/pipe: fifo; not read",
	} {
		if !strings.Contains(sum, s) {
			t.Errorf("SUMMARY.txt lacks %q:\n%s", s, sum)
		}
	}
	t.Log("SUMMARY.txt:\n" + sum)
	if n := strings.Count(sum, "\n"); n > 60 {
		t.Errorf("SUMMARY.txt has %d lines; it should fit on a page", n)
	}
	t.Logf("default bundle of 3 held Spring Boot runs: %d bytes compressed, %d bytes in %d files", m.size, m.res.Bytes, m.res.Files)
	if m.size > 64<<10 {
		t.Errorf("default bundle is %d bytes; it should be small enough to paste into a ticket", m.size)
	}
}

func TestWithHeap(t *testing.T) {
	f := newFixture(t)
	o := f.opts
	o.WithHeap = true
	m := makeBundle(t, o)
	m.checkManifest(t)
	if !slices.Contains(m.files, "runs/3/java_pid7.hprof") {
		t.Fatalf("--with-heap bundle lacks the heap dump: %v", m.files)
	}
	fi, err := os.Stat(filepath.Join(m.root, "runs/3/java_pid7.hprof"))
	must(t, err)
	if fi.Size() != 64<<20 {
		t.Errorf("heap dump is %d bytes, want %d", fi.Size(), 64<<20)
	}
	if strings.Contains(m.read(t, "SUMMARY.txt"), "java_pid7.hprof") {
		t.Errorf("SUMMARY.txt lists the heap dump as left out although it is in")
	}
}

func TestSelection(t *testing.T) {
	f := newFixture(t)
	o := f.opts
	o.Select = Selection{Run: 2}
	m := makeBundle(t, o)
	m.checkManifest(t)
	for _, name := range m.files {
		if strings.HasPrefix(name, "runs/") && !strings.HasPrefix(name, "runs/2/") {
			t.Errorf("--run 2 bundles %s", name)
		}
	}
	if !slices.Contains(m.files, "runs/2/output.log") {
		t.Errorf("--run 2 lacks its output.log: %v", m.files)
	}
	o.Select = Selection{Run: 9}
	var out bytes.Buffer
	if _, err := Write(&out, o); err == nil || !strings.Contains(err.Error(), "run 9 is not kept") {
		t.Errorf("--run 9: %v, want 'run 9 is not kept'", err)
	}
	if out.Len() != 0 {
		t.Errorf("--run 9 wrote %d bytes before refusing", out.Len())
	}

	// A run dir the list does not name goes in with --all only.
	must(t, os.MkdirAll(filepath.Join(f.runsDir, "7"), 0o755))
	writeFile(t, filepath.Join(f.runsDir, "7", "output.log"), "old run\n")
	o.Select = Selection{}
	if m := makeBundle(t, o); slices.Contains(m.files, "runs/7/output.log") {
		t.Errorf("default bundle has run 7, which the runs list does not keep")
	}
	o.Select = Selection{All: true}
	if m := makeBundle(t, o); !slices.Contains(m.files, "runs/7/output.log") {
		t.Errorf("--all lacks run 7: %v", m.files)
	}
}

// TestSecretFilter: the app's secrets appear nowhere in the extracted
// bundle, their names do, and an allow-listed value does (the negative
// control: a filter that dropped everything would pass otherwise).
func TestSecretFilter(t *testing.T) {
	f := newFixture(t)
	m := makeBundle(t, f.opts)
	var all bytes.Buffer
	for _, rel := range m.files {
		all.WriteString(m.read(t, rel))
	}
	for _, v := range secretValues {
		if bytes.Contains(all.Bytes(), []byte(v)) {
			t.Errorf("secret value %q is in the bundle", v)
		}
	}
	facts := m.read(t, "facts.json")
	for _, s := range []string{"SPRING_DATASOURCE_PASSWORD", "API_TOKEN", "HOLDFAST_API_KEY", "SPRING_DATASOURCE_URL",
		`"prod-eu"`, "/usr/local/bin:/usr/bin:/bin", "-Xmx512m -Djavax.net.ssl.keyStorePassword=***"} {
		if !strings.Contains(facts, s) {
			t.Errorf("facts.json lacks %q:\n%s", s, facts)
		}
	}
	var fx Facts
	must(t, json.Unmarshal([]byte(facts), &fx))
	if fx.Kernel == "" || fx.Hostname == "" || fx.UptimeSeconds <= 0 || fx.Holdfast.Version != "v0.9.0-test" ||
		fx.App.JavaToolOptions == nil || len(fx.App.Env) != len(appEnv) {
		t.Errorf("facts.json lacks machine or app facts: %+v", fx)
	}
	if strings.Contains(facts, "shop-unlisted") {
		t.Errorf("facts.json has the value of a variable that is not allow-listed")
	}
	if strings.Contains(all.String(), "OUTSIDE-CONTENT") {
		t.Errorf("the bundle has the content of a planted link's target")
	}
}

func TestEnvFilter(t *testing.T) {
	got := Env([]string{"JAVA_OPTS=-Dapi.key=k1 -Xss1m", "HOLDFAST_SSH_PASSWORD=p", "TZ=UTC", "HOME=/root", "NOVALUE"})
	want := []struct{ name, value, hidden string }{
		{"JAVA_OPTS", "-Dapi.key=*** -Xss1m", ""},
		{"HOLDFAST_SSH_PASSWORD", "", "secret-looking name"},
		{"TZ", "UTC", ""},
		{"HOME", "", "not allow-listed"},
		{"NOVALUE", "", "not allow-listed"},
	}
	for i, w := range want {
		g := got[i]
		v := ""
		if g.Value != nil {
			v = *g.Value
		}
		if g.Name != w.name || v != w.value || g.Hidden != w.hidden {
			t.Errorf("%d: %+v (value %q), want %+v", i, g, v, w)
		}
	}
}

func TestCgroupFacts(t *testing.T) {
	v2 := t.TempDir()
	writeFile(t, filepath.Join(v2, "cgroup.controllers"), "cpu memory\n")
	writeFile(t, filepath.Join(v2, "memory.max"), "536870912\n")
	writeFile(t, filepath.Join(v2, "cpu.max"), "150000 100000\n")
	if c := readCgroup(v2); c.Version != "v2" || c.MemoryLimit != "536870912" || c.CPUs != 1.5 {
		t.Errorf("v2: %+v", c)
	}
	v1 := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(v1, "memory"), 0o755))
	must(t, os.MkdirAll(filepath.Join(v1, "cpu,cpuacct"), 0o755))
	writeFile(t, filepath.Join(v1, "memory", "memory.limit_in_bytes"), "9223372036854771712\n")
	writeFile(t, filepath.Join(v1, "cpu,cpuacct", "cpu.cfs_quota_us"), "-1\n")
	writeFile(t, filepath.Join(v1, "cpu,cpuacct", "cpu.cfs_period_us"), "100000\n")
	if c := readCgroup(v1); c.Version != "v1" || c.MemoryLimit != "max" || c.CPUMax != "max 100000" || c.CPUs != 0 {
		t.Errorf("v1: %+v", c)
	}
	if c := readCgroup(t.TempDir()); c.Version != "" {
		t.Errorf("no cgroup: %+v", c)
	}
}

// TestRunDirLink: a run dir that is itself a link is not followed; the
// record from the runs list stands in for it.
func TestRunDirLink(t *testing.T) {
	f := newFixture(t)
	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "output.log"), "OUTSIDE-CONTENT\n")
	must(t, os.RemoveAll(filepath.Join(f.runsDir, "2")))
	must(t, os.Symlink(elsewhere, filepath.Join(f.runsDir, "2")))
	m := makeBundle(t, f.opts)
	m.checkManifest(t)
	if slices.Contains(m.files, "runs/2/output.log") {
		t.Errorf("a linked run dir was followed")
	}
	if !slices.Contains(m.files, "runs/2/run.json") || !strings.Contains(m.read(t, "runs/2/run.json"), `"run": 2`) {
		t.Errorf("run 2's record is not in the bundle: %v", m.files)
	}
	if !strings.Contains(m.read(t, "SUMMARY.txt"), "runs/2/: run dir is a symbolic link or not a directory; not followed") {
		t.Errorf("SUMMARY.txt does not say why run 2's dir is missing:\n%s", m.read(t, "SUMMARY.txt"))
	}
}

// TestMemoryOnlyRecords: with no runs dir (records kept in memory) each
// run's record from the runs list is its run.json.
func TestMemoryOnlyRecords(t *testing.T) {
	f := newFixture(t)
	o := f.opts
	o.RunsDir = ""
	m := makeBundle(t, o)
	m.checkManifest(t)
	want := []string{"MANIFEST", "SUMMARY.txt", "facts.json", "runs.json", "runs/1/run.json", "runs/2/run.json", "runs/3/run.json", "status.json"}
	if !slices.Equal(m.files, want) {
		t.Errorf("files %v, want %v", m.files, want)
	}
	if got := m.read(t, "runs/3/run.json"); got != string(f.runs[2].Raw) {
		t.Errorf("runs/3/run.json is not the record:\n%s", got)
	}
	if !strings.Contains(m.read(t, "SUMMARY.txt"), "runs/3/: no run dir: records kept in memory only") {
		t.Errorf("SUMMARY.txt does not say the runs have no dir:\n%s", m.read(t, "SUMMARY.txt"))
	}
}

// TestFileChangesWhileRead: a file that grows while bundled (a live
// output.log) is cut at its size at open, one that shrinks is padded with
// zeros; SUMMARY.txt says so and MANIFEST stays true.
func TestFileChangesWhileRead(t *testing.T) {
	f := newFixture(t)
	grow := filepath.Join(f.runsDir, "3", "output.log")
	shrink := filepath.Join(f.runsDir, "2", "output.log")
	orig, err := os.ReadFile(grow)
	must(t, err)
	afterOpen = func(rel string) {
		switch rel {
		case "runs/3/output.log":
			fh, err := os.OpenFile(grow, os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			fh.WriteString("a line written while the bundle reads\n")
			fh.Close()
		case "runs/2/output.log":
			must(t, os.Truncate(shrink, 100))
		}
	}
	defer func() { afterOpen = nil }()
	m := makeBundle(t, f.opts)
	m.checkManifest(t)
	if got := m.read(t, "runs/3/output.log"); got != string(orig) {
		t.Errorf("grown file: %d bytes bundled, want its %d at open", len(got), len(orig))
	}
	got := m.read(t, "runs/2/output.log")
	if !strings.HasPrefix(springLog(t, 2), got[:100]) || strings.Trim(got[100:], "\x00") != "" {
		t.Errorf("shrunk file is not its first 100 bytes and zeros")
	}
	sum := m.read(t, "SUMMARY.txt")
	for _, s := range []string{"runs/3/output.log: grew while read; bundled its first", "runs/2/output.log: shrank while read after 100 of"} {
		if !strings.Contains(sum, s) {
			t.Errorf("SUMMARY.txt lacks %q:\n%s", s, sum)
		}
	}
}
