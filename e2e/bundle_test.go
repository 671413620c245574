package e2e

// holdfast bundle end to end (README "Take the evidence home"): the archive read by GNU
// tar, every file against MANIFEST, heap dumps only with --with-heap, the app's secret
// values nowhere in it, and the same evidence from the state dir alone after `holdfast
// release`.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// bundleSecrets are the secret values of the app's environment in TestBundle.
var bundleSecrets = []string{"hunter2", "tok-e2e-5f4d3c2b1a"}

func TestBundle(t *testing.T) {
	t.Parallel()
	gtar := hfrun.NeedTool(t, "tar")
	envFile := filepath.Join(t.TempDir(), "env")
	// Two runs crash at once; the second is held.
	z := start(t, spec{
		pid1: true, probe: true,
		args: []string{"--hold=true", "--max-restarts=1", "--backoff=100ms"},
		env: []string{"ENV_FILE=" + envFile, "SPRING_PROFILES_ACTIVE=prod-e2e",
			"SPRING_DATASOURCE_PASSWORD=" + bundleSecrets[0], "API_TOKEN=" + bundleSecrets[1]},
		app: []string{"/bin/sh", "-c", `env > "$ENV_FILE"; echo "starting run"; echo "Application run failed" >&2; exit 3`},
	})
	z.waitPhase(t, "held", 2)
	// The attack's premise: the app did get the secrets.
	if env := hfrun.ReadFile(t, envFile); !strings.Contains(env, bundleSecrets[0]) || !strings.Contains(env, bundleSecrets[1]) {
		t.Fatalf("the app's environment lacks the secrets: the test proves nothing\n%s", env)
	}
	// The JVM's evidence, as a JVM leaves it in the run's jvm/ dir.
	jvm := filepath.Join(hfrun.RunDir(z.stateDir, 2), "jvm")
	must(t, os.MkdirAll(jvm, 0o755))
	must(t, os.WriteFile(filepath.Join(jvm, "hs_err_pid42.log"), []byte("# A fatal error has been detected by the Java Runtime Environment\n"), 0o644))
	heap := make([]byte, 3<<20)
	rand.Read(heap)
	must(t, os.WriteFile(filepath.Join(jvm, "java_pid42.hprof"), heap, 0o600))

	live := map[string]string{}
	for _, args := range [][]string{{"runs"}, {"runs", "--json"}, {"logs", "--run", "1"}, {"logs", "--run", "2", "--tail", "1"}} {
		out, errOut, code := runCLI(t, z.stateDir, args[0], args[1:]...)
		if code != 0 {
			t.Fatalf("holdfast %v: exit %d: %s", args, code, errOut)
		}
		live[strings.Join(args, " ")] = out
	}

	// The default bundle, listed by GNU tar.
	tgz, errOut, code := runCLI(t, z.stateDir, "bundle")
	if code != 0 {
		t.Fatalf("holdfast bundle: exit %d: %s", code, errOut)
	}
	listing := gnuTar(t, gtar, []byte(tgz), "-tzvf", "-")
	for _, want := range []string{"/status.json", "/runs.json", "/facts.json", "/runs/1/run.json", "/runs/1/output.log",
		"/runs/2/run.json", "/runs/2/output.log", "/runs/2/jvm/hs_err_pid42.log", "/SUMMARY.txt", "/MANIFEST"} {
		if !strings.Contains(listing, want+"\n") {
			t.Errorf("tar -tzvf lacks %s:\n%s", want, listing)
		}
	}
	if strings.Contains(listing, ".hprof") {
		t.Errorf("the default bundle holds the heap dump:\n%s", listing)
	}
	dir := extractBundle(t, gtar, []byte(tgz))
	checkManifest(t, dir)
	summary := hfrun.ReadFile(t, filepath.Join(dir, "SUMMARY.txt"))
	if !strings.Contains(summary, "runs/2/jvm/java_pid42.hprof (3.0 MiB): heap dump; --with-heap includes it") {
		t.Errorf("SUMMARY.txt does not list the heap dump with its size:\n%s", summary)
	}
	if !strings.Contains(hfrun.ReadFile(t, filepath.Join(dir, "runs/1/output.log")), "Application run failed") {
		t.Error("runs/1/output.log lacks the app's output")
	}
	checkNoSecrets(t, dir)
	facts := hfrun.ReadFile(t, filepath.Join(dir, "facts.json"))
	for _, want := range []string{`"SPRING_DATASOURCE_PASSWORD"`, `"API_TOKEN"`, `"prod-e2e"`} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts.json lacks %s:\n%s", want, facts)
		}
	}

	// --with-heap: the heap dump, byte for byte.
	tgz, errOut, code = runCLI(t, z.stateDir, "bundle", "--with-heap", "--run", "2")
	if code != 0 {
		t.Fatalf("holdfast bundle --with-heap: exit %d: %s", code, errOut)
	}
	dir = extractBundle(t, gtar, []byte(tgz))
	checkManifest(t, dir)
	checkNoSecrets(t, dir)
	if got, err := os.ReadFile(filepath.Join(dir, "runs/2/jvm/java_pid42.hprof")); err != nil || !bytes.Equal(got, heap) {
		t.Errorf("--with-heap: the heap dump is not in the bundle as it is on disk (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs/1")); err == nil {
		t.Error("--run 2 bundled run 1 too")
	}
	liveBundle := extractBundle(t, gtar, []byte(runCLIOK(t, z.stateDir, "bundle")))

	// After release: the same evidence from the state dir alone.
	if _, errOut, code := runCLI(t, z.stateDir, "release"); code != 0 {
		t.Fatalf("holdfast release: exit %d: %s", code, errOut)
	}
	z.waitExit(t, hfrun.WaitLong)
	for args, want := range live {
		a := strings.Fields(args)
		out, errOut, code := runCLI(t, z.stateDir, a[0], a[1:]...)
		if code != 0 || out != want {
			t.Errorf("holdfast %s after release: exit %d\n%s\nwant what it printed while holdfast lived:\n%s", args, code, out, want)
		}
		if !strings.Contains(errOut, "no holdfast is running; reading the state dir") {
			t.Errorf("holdfast %s after release does not say it reads the state dir: %q", args, errOut)
		}
	}
	tgz, errOut, code = runCLI(t, z.stateDir, "bundle")
	if code != 0 || !strings.Contains(errOut, "reading the state dir") {
		t.Fatalf("holdfast bundle after release: exit %d: %s", code, errOut)
	}
	dir = extractBundle(t, gtar, []byte(tgz))
	checkManifest(t, dir)
	for _, f := range []string{"runs.json", "runs/1/run.json", "runs/1/output.log", "runs/2/run.json", "runs/2/output.log", "runs/2/jvm/hs_err_pid42.log"} {
		if a, b := hfrun.ReadFile(t, filepath.Join(liveBundle, f)), hfrun.ReadFile(t, filepath.Join(dir, f)); a != b {
			t.Errorf("%s after release differs from the live bundle's:\n%s\nlive:\n%s", f, b, a)
		}
	}
	if s := hfrun.ReadFile(t, filepath.Join(dir, "status.json")); !strings.Contains(s, `"offline": true`) {
		t.Errorf("status.json of the offline bundle = %s", s)
	}

	// A state dir that is not there: one clear line, exit 1.
	missing := filepath.Join(t.TempDir(), "gone")
	for _, sub := range []string{"runs", "logs", "bundle"} {
		out, errOut, code := runCLI(t, missing, sub)
		if code != 1 || out != "" || !strings.Contains(errOut, "cannot read the state dir "+missing) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("holdfast %s on a missing state dir: exit %d, stdout %q, stderr %q", sub, code, out, errOut)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runCLIOK is runCLI that must exit 0; it returns stdout.
func runCLIOK(t testing.TB, stateDir, sub string, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, stateDir, sub, args...)
	if code != 0 {
		t.Fatalf("holdfast %s %v: exit %d: %s", sub, args, code, errOut)
	}
	return out
}

// gnuTar runs GNU tar with stdin and returns its stdout.
func gnuTar(t testing.TB, gtar string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(gtar, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tar %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// extractBundle unpacks a bundle with GNU tar and returns its one top directory.
func extractBundle(t testing.TB, gtar string, tgz []byte) string {
	t.Helper()
	dir := t.TempDir()
	gnuTar(t, gtar, tgz, "-xzf", "-", "-C", dir)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "holdfast-bundle-") {
		t.Fatalf("the bundle's top level is %v (%v), want one holdfast-bundle-* dir", entries, err)
	}
	return filepath.Join(dir, entries[0].Name())
}

// checkManifest checks that MANIFEST names every other file with its size and SHA-256.
func checkManifest(t testing.TB, dir string) {
	t.Helper()
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(hfrun.ReadFile(t, filepath.Join(dir, "MANIFEST"))), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Errorf("MANIFEST line %q", line)
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f[2]))
		sum := sha256.Sum256(b)
		if err != nil || hex.EncodeToString(sum[:]) != f[0] || strconv.Itoa(len(b)) != f[1] {
			t.Errorf("%s: sha256 %x, %d bytes (%v); MANIFEST says %s, %s", f[2], sum, len(b), err, f[0], f[1])
		}
		listed[f[2]] = true
	}
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			if n++; rel != "MANIFEST" && !listed[rel] {
				t.Errorf("%s is in the bundle but not in MANIFEST", rel)
			}
		}
		return nil
	})
	if n < 5 {
		t.Errorf("only %d files in the bundle", n)
	}
}

// checkNoSecrets greps every file of an extracted bundle for the secret values.
func checkNoSecrets(t testing.TB, dir string) {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, _ := os.ReadFile(p)
		n++
		for _, s := range bundleSecrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %q", p, s)
			}
		}
		return nil
	})
	if n == 0 {
		t.Error("no files to grep")
	}
}

// A 2 GiB evidence set (three runs' output.log and heap dumps, sparse files) streams
// through `holdfast bundle --with-heap` into GNU tar with holdfast's peak RSS bounded
// (docs/benchmarks.md has the number).
func TestBundleStreamsBoundedRSS(t *testing.T) {
	t.Parallel()
	gtar := hfrun.NeedTool(t, "tar")
	state := t.TempDir()
	const per = 2 << 30 / 6
	for n := 1; n <= 3; n++ {
		dir := filepath.Join(state, "runs", strconv.Itoa(n))
		must(t, os.MkdirAll(filepath.Join(dir, "jvm"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "run.json"), []byte(`{"run":`+strconv.Itoa(n)+`,"reason":"startup-crash"}`), 0o600))
		for _, f := range []string{"output.log", "jvm/java_pid" + strconv.Itoa(n) + ".hprof"} {
			must(t, os.WriteFile(filepath.Join(dir, f), []byte("head\n"), 0o644))
			must(t, os.Truncate(filepath.Join(dir, f), per))
		}
	}
	bundle := exec.Command(holdfastBin, "bundle", "--with-heap", "--state-dir", state)
	list := exec.Command(gtar, "-tzvf", "-")
	pipe, err := bundle.StdoutPipe()
	must(t, err)
	list.Stdin = pipe
	var listing, errb bytes.Buffer
	list.Stdout, list.Stderr, bundle.Stderr = &listing, &listing, &errb
	must(t, bundle.Start())
	must(t, list.Start())
	peak := watchHWM(bundle)
	if err := bundle.Wait(); err != nil {
		t.Fatalf("holdfast bundle: %v\n%s", err, errb.String())
	}
	hwm := peak()
	if err := list.Wait(); err != nil {
		t.Fatalf("tar -tzvf -: %v\n%s", err, listing.String())
	}
	for n := 1; n <= 3; n++ {
		if !strings.Contains(listing.String(), fmt.Sprintf(" %d ", per)) ||
			!strings.Contains(listing.String(), fmt.Sprintf("/runs/%d/jvm/java_pid%d.hprof\n", n, n)) {
			t.Errorf("tar -tzvf - lacks run %d's heap dump of %d bytes:\n%s", n, per, listing.String())
		}
	}
	t.Logf("holdfast bundle --with-heap of %d MiB: peak RSS (VmHWM) %d MiB, %v user", 6*per>>20, hwm>>20, bundle.ProcessState.UserTime())
	if hwm == 0 || hwm > 64<<20 {
		t.Errorf("holdfast bundle's peak RSS was %d bytes streaming 2 GiB; bound 64 MiB", hwm)
	}

	// The negative control: the sampler sees a process that holds 48 MiB.
	hog := exec.Command("sh", "-c", `x=$(head -c 50331648 /dev/zero | tr '\0' a); sleep 1; echo ${#x}`)
	var hogOut bytes.Buffer
	hog.Stdout = &hogOut
	must(t, hog.Start())
	hogPeak := watchHWM(hog)
	must(t, hog.Wait())
	got := hogPeak()
	t.Logf("the control: a shell holding 48 MiB peaked at %d MiB", got>>20)
	if got < 40<<20 {
		t.Errorf("the sampler saw a peak of %d bytes in a shell holding %s bytes; it misses growth", got, strings.TrimSpace(hogOut.String()))
	}
}

// watchHWM samples cmd's VmHWM (its peak RSS since exec: rusage's ru_maxrss would also
// count the test's own memory, which the child shares until exec) every 10 ms until it
// exits; the returned function gives the last value seen, once cmd.Wait has returned.
func watchHWM(cmd *exec.Cmd) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			b, err := os.ReadFile(status)
			if err != nil || bytes.Contains(b, []byte("State:\tZ")) {
				return
			}
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					peak.Store(kb << 10)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() int64 { <-done; return peak.Load() }
}

// With --user, the app's uid may use the control socket (an ssh session runs as it), but
// run.json and output.log are holdfast's, mode 0600. `holdfast bundle` as the app's uid
// still carries them, through the control socket, and the app's own jvm/ files.
func TestBundleAsAppUser(t *testing.T) {
	t.Parallel()
	gtar := hfrun.NeedTool(t, "tar")
	bin, _ := csShared(t)
	stateDir := filepath.Join(csOpenDir(t), "state")
	h := start(t, spec{pid1: true, stateDir: stateDir, args: []string{"--hold=true", "--max-restarts=0",
		fmt.Sprintf("--user=%d:%d", csNobody, csNobody), "--", "sh", "-c", "echo boom-out; exit 3"}})
	h.waitOutput(t, "APP HELD", hfrun.WaitLong)
	app := &syscall.Credential{Uid: csNobody, Gid: csNobody}
	// The premise: the app's uid cannot read the run's output itself.
	if r := csCLI(t, "/bin/cat", nil, "/", app, filepath.Join(stateDir, "runs", "1", "output.log")); r.code == 0 {
		t.Fatalf("uid %d can read output.log itself; the test proves nothing", csNobody)
	}
	r := csCLI(t, bin, nil, "/", app, "bundle", "--state-dir", stateDir)
	if r.code != 0 {
		t.Fatalf("holdfast bundle as the app's uid:\n%v", r)
	}
	dir := extractBundle(t, gtar, []byte(r.out))
	checkManifest(t, dir)
	if got := hfrun.ReadFile(t, filepath.Join(dir, "runs/1/output.log")); got != "boom-out\n" {
		t.Errorf("runs/1/output.log = %q, want the app's output\n%s", got, hfrun.ReadFile(t, filepath.Join(dir, "SUMMARY.txt")))
	}
	if got := hfrun.ReadFile(t, filepath.Join(dir, "runs/1/run.json")); !strings.Contains(got, `"reason": "startup-crash"`) {
		t.Errorf("runs/1/run.json = %q", got)
	}
}
