package e2e

// holdfast jcmd in a JRE-only container: the image's JVM is Debian's
// openjdk-17-jre-headless, which has no jcmd, jstack or jmap; holdfast, PID 1 of the
// container under runc, attaches to it all the same.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
	"github.com/holdfast-dev/holdfast/e2e/image"
)

// runcJavaBinds are the host directories a container's JVM needs: the host JDK, or
// with jre only the files of the JRE package.
func runcJavaBinds(t testing.TB, jre bool) []image.Bind {
	t.Helper()
	if !jre {
		jdk, err := image.HostJDK()
		if err != nil {
			t.Fatal(err)
		}
		return jdk.Binds()
	}
	hfrun.NeedTool(t, "dpkg-query")
	binds, err := image.JREBinds(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return binds
}

// TestRuncJcmdJRE: in a JRE-only container (no jcmd in it), `holdfast jcmd Thread.print`
// shows the app's threads, VM.version names the build `java -version` prints,
// GC.heap_dump and `holdfast dump heap` write loadable .hprof files into the run dir
// (on the host), and run.json lists the dump.
func TestRuncJcmdJRE(t *testing.T) {
	t.Parallel()
	c := runcStart(t, runcOpts{app: "stuck", jre: true, env: []string{"PORT=0"}})
	st := c.waitPhase(t, "running")
	hfrun.WaitFor(t, runcWait, "the app to listen", func() bool { return strings.Contains(c.out.String(), "Started on port") },
		func() string { return c.out.String() })
	pid, _ := st["pid"].(float64)

	// A JRE: java is there, jcmd is not.
	home := strings.TrimSpace(c.exec(t, "sh", "-c", `dirname "$(dirname "$(readlink -f "$(command -v java)")")"`))
	if out := c.exec(t, "ls", home+"/bin"); !strings.Contains(out, "java") || strings.Contains(out, "jcmd") {
		t.Fatalf("%s/bin in the container lists %q: want java and no jcmd", home, out)
	}
	if out, err := c.runc(t, "exec", c.id, "jcmd", "1", "VM.version"); err == nil {
		t.Fatalf("jcmd ran in the JRE-only container: %s", out)
	}

	out := c.exec(t, "holdfast", "jcmd", "Thread.print")
	if !strings.HasPrefix(out, strconv.Itoa(int(pid))+":\n") || !strings.Contains(out, "Full thread dump") ||
		!strings.Contains(out, `"main"`) || !strings.Contains(out, "Stuck.main") {
		t.Errorf("holdfast jcmd Thread.print in the container (app pid %v):\n%.3000s", pid, out)
	}
	m := jcVersion.FindStringSubmatch(c.exec(t, "java", "-version"))
	if v := c.exec(t, "holdfast", "jcmd", "VM.version"); m == nil || !strings.Contains(v, m[1]) {
		t.Errorf("VM.version does not name the build of java -version (%v):\n%s", m, v)
	}

	runDir := filepath.Join(c.stateDir, "runs", "1")
	in := filepath.Join(image.StateDir, "runs", "1", "jvm", "by-jcmd.hprof")
	if out := c.exec(t, "holdfast", "jcmd", "GC.heap_dump", in); !strings.Contains(out, "Heap dump file created") {
		t.Errorf("GC.heap_dump: %s", out)
	}
	path := strings.TrimSpace(c.exec(t, "holdfast", "dump", "heap"))
	rel, err := filepath.Rel(filepath.Join(image.StateDir, "runs", "1"), path)
	if err != nil || !strings.HasPrefix(rel, "jvm/heap-") {
		t.Fatalf("holdfast dump heap printed %q, want a path in the run's jvm/", path)
	}
	for _, f := range []string{filepath.Join(runDir, "jvm", "by-jcmd.hprof"), filepath.Join(runDir, rel)} {
		if h := hfrun.ReadFile(t, f); !strings.HasPrefix(h, "JAVA PROFILE 1.0.2\x00") {
			t.Errorf("%s on the host does not start with the HPROF header", f)
		}
	}
	var listed bool
	for _, a := range hfrun.ReadRun(t, c.stateDir, 1).Of("heap-dump") {
		listed = listed || a.Name == rel
	}
	if !listed {
		t.Errorf("run.json does not list %s", rel)
	}
	if out, err := c.runc(t, "kill", c.id, "TERM"); err != nil {
		t.Fatalf("runc kill TERM: %v\n%s", err, out)
	}
	c.waitExit(t, hfrun.WaitLong)
}
