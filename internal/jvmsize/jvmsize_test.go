package jvmsize

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

const host = 24 * gib

func TestCompute(t *testing.T) {
	java := []string{"/usr/bin/java"}
	args := func(a ...string) []string { return append(append([]string{}, java...), a...) }
	cases := []struct {
		name    string
		in      Input
		heap    uint64
		reaches bool
		source  string
	}{
		{"default 25% of the limit", Input{Argv: args("-jar", "app.jar"), Limit: 2 * gib, HostMemory: host},
			512 * mib, false, "default: 25% of 2.0 GiB"},
		{"small memory: 50%", Input{Argv: args("Main"), Limit: 200 * mib, HostMemory: host},
			100 * mib, false, "small memory: 50%"},
		{"between: the 124.8 MiB minimum", Input{Argv: args("Main"), Limit: 300 * mib, HostMemory: host},
			126 * mib, false, "minimum heap"},
		{"no limit: a quarter of the host", Input{Argv: args("Main"), HostMemory: 8 * gib},
			2 * gib, false, "25% of 8.0 GiB"},
		{"container support off: the host", Input{Argv: args("-XX:-UseContainerSupport", "Main"), Limit: gib, HostMemory: 8 * gib},
			2 * gib, true, "25% of 8.0 GiB"},
		{"-Xmx above the limit", Input{Argv: args("-Xmx1g", "-jar", "app.jar"), Limit: 512 * mib, HostMemory: host},
			gib, true, "-Xmx1g in the command line"},
		{"last -Xmx wins", Input{Argv: args("-Xmx1g", "-XX:MaxHeapSize=256m", "Main"), Limit: 512 * mib, HostMemory: host},
			256 * mib, false, "-Xmx256m"},
		{"after the main class is the app's", Input{Argv: args("-Xmx256m", "Main", "-Xmx2g"), Limit: 512 * mib, HostMemory: host},
			256 * mib, false, "-Xmx256m"},
		{"after -jar is the app's", Input{Argv: args("-cp", "x", "-jar", "a.jar", "-Xmx2g"), Limit: 512 * mib, HostMemory: host},
			128 * mib, false, "default"},
		{"JAVA_TOOL_OPTIONS", Input{Argv: args("Main"), Env: []string{"JAVA_TOOL_OPTIONS=-Xmx600m"}, Limit: 512 * mib, HostMemory: host},
			600 * mib, true, "-Xmx600m in JAVA_TOOL_OPTIONS"},
		{"the command line overrides JAVA_TOOL_OPTIONS", Input{Argv: args("-Xmx300m", "Main"), Env: []string{"JAVA_TOOL_OPTIONS=-Xmx600m"}, Limit: 512 * mib, HostMemory: host},
			300 * mib, false, "the command line"},
		{"JDK_JAVA_OPTIONS over JAVA_TOOL_OPTIONS", Input{Argv: args("Main"), Env: []string{"JAVA_TOOL_OPTIONS=-Xmx600m", "JDK_JAVA_OPTIONS=-Xmx400m"}, Limit: 512 * mib, HostMemory: host},
			400 * mib, false, "JDK_JAVA_OPTIONS"},
		{"JDK_JAVA_OPTIONS is the java launcher's only", Input{Argv: []string{"/opt/app/bin/server", "-Xfoo"}, Env: []string{"JDK_JAVA_OPTIONS=-Xmx4g"}, Limit: 512 * mib, HostMemory: host},
			128 * mib, false, "default"},
		{"_JAVA_OPTIONS overrides all", Input{Argv: args("-Xmx300m", "Main"), Env: []string{"_JAVA_OPTIONS=-Xmx700m"}, Limit: 512 * mib, HostMemory: host},
			700 * mib, true, "_JAVA_OPTIONS"},
		{"MaxRAMPercentage 80", Input{Argv: args("-XX:MaxRAMPercentage=80", "Main"), Limit: gib, HostMemory: host},
			820 * mib, false, "80% of 1.0 GiB"},
		{"MaxRAMPercentage 100 reaches the limit", Input{Argv: args("-XX:MaxRAMPercentage=100", "Main"), Limit: gib, HostMemory: host},
			gib, true, "100%"},
		{"MaxRAMFraction 2", Input{Argv: args("-XX:MaxRAMFraction=2", "Main"), Limit: gib, HostMemory: host},
			512 * mib, false, "50% of 1.0 GiB"},
		{"MaxRAMFraction 3", Input{Argv: args("-XX:MaxRAMFraction=3", "Main"), Limit: 2 * gib, HostMemory: host},
			684 * mib, false, "33.33% of 2.0 GiB"},
		{"MaxRAM beats the limit", Input{Argv: args("-XX:MaxRAM=4g", "Main"), Limit: gib, HostMemory: host},
			gib, true, "25% of 4.0 GiB"},
		{"-Xms raises the default", Input{Argv: args("-Xms768m", "Main"), Limit: gib, HostMemory: host},
			768 * mib, false, "raised by the initial heap in the command line"},
		{"quoted options", Input{Argv: args("Main"), Env: []string{`JAVA_TOOL_OPTIONS=-Dx="a b" -Xmx64m`}, Limit: gib, HostMemory: host},
			64 * mib, false, "JAVA_TOOL_OPTIONS"},
		{"G1 aligns to its region", Input{Argv: args("-Xmx5001m", "Main"), HostMemory: host},
			5004 * mib, false, "-Xmx5001m"},
		{"Serial aligns to 2 MiB", Input{Argv: args("-Xmx5001m", "-XX:+UseSerialGC", "Main"), HostMemory: host},
			5002 * mib, false, "-Xmx5001m"},
		{"compressed oops cap", Input{Argv: args("Main"), HostMemory: 200 * gib},
			maxCompressedOopsHeap, false, "compressed oops"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compute(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.MaxHeap != c.heap || r.ReachesLimit != c.reaches || !strings.Contains(r.Source, c.source) {
				t.Fatalf("got %s (%d) reaches=%v %q; want %s reaches=%v %q", HumanBytes(r.MaxHeap), r.MaxHeap,
					r.ReachesLimit, r.Source, HumanBytes(c.heap), c.reaches, c.source)
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	for _, argv := range [][]string{
		{"java", "-Xmxlots", "Main"},
		{"java", "-XX:MaxRAMPercentage=abc", "Main"},
		{"java", "-XX:MaxRAMFraction=0", "Main"},
		{"java", "-Xmx1g", "-Xms2g", "Main"},
		{"java", "-Xmx99999999999999999999t", "Main"},
	} {
		if r, err := Compute(Input{Argv: argv, Limit: gib, HostMemory: host}); err == nil {
			t.Errorf("%v: want an error, got %+v", argv, r)
		}
	}
	r, err := Compute(Input{Argv: []string{"java", "@opts", "Main"}, Limit: gib, HostMemory: host})
	if err != nil || len(r.Ignored) != 1 {
		t.Fatalf("argfile: %+v %v", r, err)
	}
}

func TestSplitOptions(t *testing.T) {
	got := SplitOptions(` -Xmx1g  -Dname='a b' "-Dq=c d"	-v `)
	want := []string{"-Xmx1g", "-Dname=a b", "-Dq=c d", "-v"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}

// TestAgainstRealJVM runs the JVM on this machine with each command line
// and compares its MaxHeapSize with Compute's. -XX:MaxRAM stands in for a
// container limit.
func TestAgainstRealJVM(t *testing.T) {
	javaBin, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	hostMem := memTotal(t)
	cases := []struct {
		args []string
		env  []string
	}{
		{args: []string{"-XX:MaxRAM=200m"}},
		{args: []string{"-XX:MaxRAM=300m"}},
		{args: []string{"-XX:MaxRAM=1000000000", "-XX:+UseSerialGC"}},
		{args: []string{"-XX:MaxRAM=25000m"}},
		{args: []string{"-XX:MaxRAM=1g", "-XX:MaxRAMPercentage=80"}},
		{args: []string{"-XX:MaxRAM=2g", "-XX:MaxRAMFraction=3"}},
		{args: []string{"-Xmx5001m"}},
		{args: []string{"-Xmx5001m", "-XX:+UseSerialGC"}},
		{args: []string{"-Xmx100000000"}},
		{args: []string{"-XX:MaxRAM=1g", "-Xms700m"}},
		{args: []string{}},
		{args: []string{"-XX:MaxRAM=200g", "-XX:+UseCompressedOops"}},
		{args: []string{"-Xmx500m"}, env: []string{"JAVA_TOOL_OPTIONS=-Xmx300m", "JDK_JAVA_OPTIONS=-Xmx400m"}},
		{args: []string{}, env: []string{"JAVA_TOOL_OPTIONS=-Xmx300m", "JDK_JAVA_OPTIONS=-Xmx400m"}},
		{args: []string{"-Xmx500m"}, env: []string{"_JAVA_OPTIONS=-Xmx200m"}},
		{args: []string{"-XX:MaxRAM=3g"}, env: []string{"JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=60"}},
	}
	for _, c := range cases {
		argv := append(append([]string{javaBin}, c.args...), "-XX:+PrintFlagsFinal", "-version")
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(cleanEnv(), c.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
		real := maxHeapFlag(t, out)
		r, err := Compute(Input{Argv: argv, Env: c.env, HostMemory: hostMem})
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxHeap != real {
			t.Errorf("%v %v: computed %d (%s, %s), the JVM says %d (%s)", c.env, c.args,
				r.MaxHeap, HumanBytes(r.MaxHeap), r.Source, real, HumanBytes(real))
		} else {
			t.Logf("%v %v: %s (%s)", c.env, c.args, HumanBytes(real), r.Source)
		}
	}
}

// cleanEnv is the environment without the variables the JVM reads options
// from.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "JAVA_TOOL_OPTIONS" && k != "JDK_JAVA_OPTIONS" && k != "_JAVA_OPTIONS" {
			out = append(out, kv)
		}
	}
	return out
}

func maxHeapFlag(t *testing.T, out []byte) uint64 {
	t.Helper()
	for _, line := range bytes.Split(out, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) >= 4 && f[1] == "MaxHeapSize" {
			v, err := strconv.ParseUint(f[3], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no MaxHeapSize in\n%s", out)
	return 0
}

func memTotal(t *testing.T) uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	t.Fatal("no MemTotal")
	return 0
}

// TestRealJVMInLimitedCgroup starts the JVM inside a v1 memory cgroup with
// a limit (no -XX:MaxRAM): its container support must see the limit as
// Compute does.
func TestRealJVMInLimitedCgroup(t *testing.T) {
	javaBin, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	dir := limitedCgroup(t)
	hostMem := memTotal(t)
	for _, limit := range []uint64{200 * mib, gib} {
		if err := os.WriteFile(dir+"/memory.limit_in_bytes", []byte(strconv.FormatUint(limit, 10)), 0); err != nil {
			t.Fatal(err)
		}
		// The shell moves itself into the cgroup, then becomes the JVM.
		cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" -XX:+PrintFlagsFinal -version`,
			"sh", dir, javaBin)
		cmd.Env = cleanEnv()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("java in a %s cgroup: %v", HumanBytes(limit), err)
		}
		real := maxHeapFlag(t, out)
		r, err := Compute(Input{Argv: []string{javaBin}, Limit: limit, HostMemory: hostMem})
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxHeap != real {
			t.Errorf("limit %s: computed %s (%s), the JVM says %s", HumanBytes(limit),
				HumanBytes(r.MaxHeap), r.Source, HumanBytes(real))
		} else {
			t.Logf("limit %s: %s (%s)", HumanBytes(limit), HumanBytes(real), r.Source)
		}
	}
}

// limitedCgroup makes a child of the test's own v1 memory cgroup, or skips.
func limitedCgroup(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a memory cgroup")
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	var own string
	for _, line := range strings.Split(string(data), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && parts[1] == "memory" {
			own = parts[2]
		}
	}
	base := "/sys/fs/cgroup/memory" + own
	if own == "" {
		t.Skip("no v1 memory controller")
	}
	if _, err := os.Stat(base + "/memory.limit_in_bytes"); err != nil {
		t.Skipf("v1 memory cgroup not at %s: %v", base, err)
	}
	dir := base + "/holdfast-jvmsize-test-" + strconv.Itoa(os.Getpid())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// Every JVM run has exited (Output waits), so the cgroup is empty.
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}
