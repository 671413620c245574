package jvmflags

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/runrec"
)

func TestIsJava(t *testing.T) {
	for argv, want := range map[string]bool{
		"/usr/bin/java -jar x": true, "java": true, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java": true,
		"bash -c java": false, "javac": false, "/usr/bin/java.sh": false, "": false,
	} {
		if got := IsJava(strings.Fields(argv)); got != want {
			t.Errorf("IsJava(%q) = %v, want %v", argv, got, want)
		}
	}
}

// testOptions returns the JAVA_TOOL_OPTIONS entries of env.
func testOptions(env []string) []string {
	var out []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JAVA_TOOL_OPTIONS="); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestJVMEnvModes(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATH=/usr/bin", "HOME=/root"}
	for _, tc := range []struct {
		mode string
		argv []string
		want bool
	}{
		{"auto", []string{"/usr/bin/java", "-jar", "app.jar"}, true},
		{"auto", []string{"java", "Main"}, true},
		{"auto", []string{"bash", "-c", "java Main"}, false},
		{"on", []string{"bash", "-c", "java Main"}, true},
		{"off", []string{"java", "Main"}, false},
		{"bogus", []string{"java", "Main"}, false},
	} {
		got, evidence, applied := Env(tc.mode, tc.argv, env, dir, 1)
		if applied != tc.want {
			t.Errorf("%s %v: applied = %v, want %v", tc.mode, tc.argv, applied, tc.want)
			continue
		}
		if !applied {
			if !slices.Equal(got, env) || evidence != "" {
				t.Errorf("%s %v: not applied but env %v, evidence %q", tc.mode, tc.argv, got, evidence)
			}
			continue
		}
		want := "-XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=" + dir + " -XX:ErrorFile=" + dir + "/hs_err_pid%p.log"
		if opts := testOptions(got); !slices.Equal(opts, []string{want}) || evidence != dir {
			t.Errorf("%s %v: JAVA_TOOL_OPTIONS %q evidence %q, want %q", tc.mode, tc.argv, opts, evidence, want)
		}
		if !slices.Equal(got[:2], env) {
			t.Errorf("other variables changed: %v", got)
		}
	}
}

func TestJVMEnvNeverOverridesUserFlags(t *testing.T) {
	dir := t.TempDir()
	ours := map[string]string{
		"dump": "-XX:+HeapDumpOnOutOfMemoryError", "path": "-XX:HeapDumpPath=" + dir,
		"err": "-XX:ErrorFile=" + dir + "/hs_err_pid%p.log",
	}
	for _, tc := range []struct {
		name  string
		argv  []string
		env   []string
		added []string // which of ours are expected
	}{
		{"nothing set", []string{"java", "Main"}, nil, []string{"dump", "path", "err"}},
		{"HeapDumpPath in JAVA_TOOL_OPTIONS", []string{"java", "Main"},
			[]string{"JAVA_TOOL_OPTIONS=-XX:HeapDumpPath=/data/dumps"}, []string{"dump", "err"}},
		{"dumps disabled in JDK_JAVA_OPTIONS", []string{"java", "Main"},
			[]string{"JDK_JAVA_OPTIONS=-Xmx1g -XX:-HeapDumpOnOutOfMemoryError"}, []string{"path", "err"}},
		{"ErrorFile quoted in _JAVA_OPTIONS", []string{"java", "Main"},
			[]string{`_JAVA_OPTIONS='-XX:ErrorFile=/a b/e.log'`}, []string{"dump", "path"}},
		{"ErrorFile on the command line", []string{"java", "-cp", "lib", "-XX:ErrorFile=/x/e.log", "Main"}, nil,
			[]string{"dump", "path"}},
		{"after the main class it is the app's", []string{"java", "-cp", "lib", "Main", "-XX:ErrorFile=/x"}, nil,
			[]string{"dump", "path", "err"}},
		{"after -jar it is the app's", []string{"java", "-jar", "a.jar", "-XX:HeapDumpPath=/x"}, nil,
			[]string{"dump", "path", "err"}},
		{"an earlier duplicate does not count", []string{"java", "Main"},
			[]string{"JAVA_TOOL_OPTIONS=-XX:HeapDumpPath=/old", "JAVA_TOOL_OPTIONS=-Xss1m"}, []string{"dump", "path", "err"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, applied := Env("auto", tc.argv, tc.env, dir, 1)
			if !applied {
				t.Fatal("not applied")
			}
			opts := testOptions(got)
			if len(opts) != 1 {
				t.Fatalf("JAVA_TOOL_OPTIONS entries: %q", opts)
			}
			words := split(opts[0])
			for key, flag := range ours {
				if has := slices.Contains(words, flag); has != slices.Contains(tc.added, key) {
					t.Errorf("%s added = %v in %q", flag, has, opts[0])
				}
			}
		})
	}
	// Everything set: nothing to do, env untouched.
	env := []string{"JAVA_TOOL_OPTIONS=-XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=/d -XX:ErrorFile=/d/e.log"}
	if got, ev, applied := Env("on", []string{"java"}, env, dir, 1); applied || ev != "" || !slices.Equal(got, env) {
		t.Fatalf("all flags set: applied=%v evidence=%q env=%q", applied, ev, got)
	}
}

func TestJVMEnvKeepsExistingOptionsVerbatim(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run 7") // needs quoting
	old := `-Dgreeting="hello world"  -Xss1m `
	env := []string{"A=1", "JAVA_TOOL_OPTIONS=" + old, "B=2"}
	got, evidence, applied := Env("auto", []string{"java", "Main"}, env, dir, 7)
	if !applied || evidence != dir {
		t.Fatalf("applied=%v evidence=%q", applied, evidence)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("evidence dir not created: %v", err)
	}
	opts := testOptions(got)
	if len(opts) != 1 || !strings.HasPrefix(opts[0], old+" -XX:") {
		t.Fatalf("JAVA_TOOL_OPTIONS = %q, want it to start with %q", opts, old+" ")
	}
	words := split(opts[0])
	want := []string{"-Dgreeting=hello world", "-Xss1m", "-XX:+HeapDumpOnOutOfMemoryError",
		"-XX:HeapDumpPath=" + dir, "-XX:ErrorFile=" + dir + "/hs_err_pid%p.log"}
	if !slices.Equal(words, want) {
		t.Fatalf("JVM would read %q, want %q", words, want)
	}
	if got[0] != "A=1" || got[1] != "B=2" {
		t.Fatalf("other variables changed: %q", got)
	}
}

func TestJVMQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{"/plain/path", "/a b", "it's", `say "hi"`, "tab\there", `'"' mixed "'"`, "/x%p"} {
		tok := quote("-XX:HeapDumpPath=" + s)
		if got := split(tok); !slices.Equal(got, []string{"-XX:HeapDumpPath=" + s}) {
			t.Errorf("split(quote(%q)) = %q via %s", s, got, tok)
		}
	}
	// Plain paths stay unquoted: JDK 8 does not understand quotes.
	if q := quote("-XX:HeapDumpPath=/var/lib/holdfast/runs/3"); strings.ContainsAny(q, `'"`) {
		t.Fatalf("plain path quoted: %s", q)
	}
	// Negative control: without quoting a space splits the word.
	if got := split("-XX:HeapDumpPath=/a b"); len(got) != 2 {
		t.Fatalf("split of an unquoted space = %q", got)
	}
}

func TestJVMEnvMemoryModeUsesTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	argv := []string{"java", "Main"}
	_, ev, applied := Env("auto", argv, nil, "", 3)
	if want := filepath.Join(tmp, "holdfast-evidence", "3"); !applied || ev != want {
		t.Fatalf("evidence = %q applied=%v, want %s", ev, applied, want)
	}
	// A leftover dump from an earlier holdfast with the same run number
	// would block the new one (same pid): a fresh dir is used instead.
	os.WriteFile(filepath.Join(ev, "java_pid1.hprof"), []byte("x"), 0o600)
	_, ev2, _ := Env("auto", argv, nil, "", 3)
	if ev2 == ev || !strings.HasPrefix(filepath.Base(ev2), "3-") {
		t.Fatalf("second evidence dir = %q, first %q", ev2, ev)
	}
	if fi, err := os.Stat(ev2); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("second evidence dir: %v %v", fi, err)
	}
	// Nowhere to put evidence: flags not added (a missing HeapDumpPath dir
	// would be taken as a file name and the dump lost anyway).
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0o644)
	t.Setenv("TMPDIR", file)
	env := []string{"JAVA_TOOL_OPTIONS=-Xss1m"}
	if got, ev, applied := Env("auto", argv, env, "", 4); applied || ev != "" || !slices.Equal(got, env) {
		t.Fatalf("no temp dir: applied=%v evidence=%q env=%q", applied, ev, got)
	}
}

// need fails (CI) or skips when a JDK tool is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (scripts/deps.sh installs openjdk-17-jdk-headless)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

var jvmFlagLine = regexp.MustCompile(`^\s*\S+\s+(\w+)\s+:?= ?(.*?)\s+\{[^}]*\}\s*\{([^}]*)\}\s*$`)

// finalFlags runs java -XX:+PrintFlagsFinal -version with env and returns
// flag name -> value and origin.
func finalFlags(t *testing.T, env []string) map[string][2]string {
	t.Helper()
	cmd := exec.Command("java", "-XX:+PrintFlagsFinal", "-version")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java -XX:+PrintFlagsFinal: %v\n%s", err, out)
	}
	flags := map[string][2]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := jvmFlagLine.FindStringSubmatch(line); m != nil {
			flags[m[1]] = [2]string{m[2], m[3]}
		}
	}
	return flags
}

func TestJVMEnvRealJVMTakesFlags(t *testing.T) {
	need(t, "java")
	dir := filepath.Join(t.TempDir(), "runs", "7 with space")
	base := append(os.Environ(), "JAVA_TOOL_OPTIONS=-XX:+UseSerialGC")
	env, _, applied := Env("auto", []string{"/usr/bin/java", "Main"}, base, dir, 7)
	if !applied {
		t.Fatal("not applied")
	}
	flags := finalFlags(t, env)
	for name, want := range map[string]string{
		"HeapDumpPath": dir, "ErrorFile": dir + "/hs_err_pid%p.log",
		"HeapDumpOnOutOfMemoryError": "true", "UseSerialGC": "true",
	} {
		if got := flags[name]; got != [2]string{want, "environment"} {
			t.Errorf("%s = %q, want %q from the environment", name, got, want)
		}
	}

	// The user's own HeapDumpPath wins and ours is not added.
	user := append(os.Environ(), "JAVA_TOOL_OPTIONS=-XX:HeapDumpPath=/srv/dumps")
	env, _, _ = Env("auto", []string{"java", "Main"}, user, dir, 7)
	if got := finalFlags(t, env)["HeapDumpPath"]; got[0] != "/srv/dumps" {
		t.Errorf("user HeapDumpPath became %q", got)
	}

	// Negative control: without Env the JVM has no dump path.
	if got := finalFlags(t, os.Environ())["HeapDumpPath"]; got[0] != "" || got[1] != "default" {
		t.Errorf("plain JVM HeapDumpPath = %q", got)
	}
}

const jvmOOMSource = `import java.util.ArrayList;
public class Oom {
    public static void main(String[] args) {
        ArrayList<long[]> hog = new ArrayList<>();
        while (true) hog.add(new long[1 << 16]);
    }
}
`

// TestJVMEnvRealOOMPerRunDirs reproduces the container case: java runs as
// pid 1 of a fresh pid namespace each time, so its pid repeats. With one
// shared dump dir the second OOM loses its dump ("File exists"); with a run
// dir per run both dumps and both hs_err files are kept.
func TestJVMEnvRealOOMPerRunDirs(t *testing.T) {
	need(t, "java", "javac", "unshare")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "Oom.java"), []byte(jvmOOMSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("javac", "-d", src, filepath.Join(src, "Oom.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	// CrashOnOutOfMemoryError makes the JVM write hs_err after the heap dump.
	argv := []string{"java", "-Xmx16m", "-XX:+CrashOnOutOfMemoryError", "-XX:-CreateCoredumpOnCrash", "-cp", src, "Oom"}
	run := func(evidence string, n int) string {
		env, _, applied := Env("auto", argv, os.Environ(), evidence, n)
		if !applied {
			t.Fatal("not applied")
		}
		ns := []string{"--pid", "--fork"}
		if os.Geteuid() != 0 {
			ns = append([]string{"--user", "--map-root-user"}, ns...)
		}
		cmd := exec.Command("unshare", append(ns, argv...)...)
		cmd.Env = env
		start := time.Now()
		out, _ := cmd.CombinedOutput() // the JVM aborts by design
		if !strings.Contains(string(out), "java.lang.OutOfMemoryError") {
			t.Fatalf("run %d did not hit the OOM after %v:\n%s", n, time.Since(start), out)
		}
		return string(out)
	}

	r := runrec.Open(t.TempDir(), 5, nil)
	for n := 1; n <= 2; n++ {
		rec := r.Begin(argv, n, 0, time.Now())
		run(rec.Dir, rec.Run)
		if err := r.Finish(rec); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, a := range rec.Artifacts {
			if a.Size > 0 {
				kinds[a.Name] = a.Kind
			}
		}
		if kinds["java_pid1.hprof"] != "heap-dump" || kinds["hs_err_pid1.log"] != "hs-err" {
			t.Fatalf("run %d artifacts = %+v, want java_pid1.hprof and hs_err_pid1.log", n, rec.Artifacts)
		}
	}

	// Negative control: the same dir for both runs loses the second dump.
	shared := t.TempDir()
	run(shared, 1)
	if out := run(shared, 2); !strings.Contains(out, "File exists") {
		t.Fatalf("second OOM into a shared dir did not collide:\n%s", out)
	}
}

// EnvFor gives what Env gave for the same dir, and makes nothing.
func TestEnvFor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "3", "jvm")
	argv := []string{"java", "-jar", "app.jar"}
	env := []string{"PATH=/bin", "JAVA_TOOL_OPTIONS=-Xmx64m"}
	got := EnvFor("auto", argv, env, dir)
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("EnvFor made %s", dir)
	}
	want, _, _ := Env("auto", argv, env, dir, 3)
	if !slices.Equal(got, want) || !strings.Contains(strings.Join(got, " "), "-Xmx64m -XX:+HeapDumpOnOutOfMemoryError") {
		t.Errorf("EnvFor = %q, Env = %q", got, want)
	}
	if got := EnvFor("auto", []string{"sh"}, env, dir); !slices.Equal(got, env) {
		t.Errorf("EnvFor of a non-java command = %q, want env unchanged", got)
	}
	if got := EnvFor("on", argv, env, ""); !slices.Equal(got, env) {
		t.Errorf("EnvFor without a dir = %q, want env unchanged", got)
	}
}
