package cause

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// runJVM runs a real java with its stdout and stderr read as the relay
// reads them (a reader per pipe, chunks in arrival order) and returns the
// cause of its end.
func runJVM(t *testing.T, args ...string) *Cause {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = t.TempDir()
	outR, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := New()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for s, r := range map[Stream]io.Reader{Stdout: outR, Stderr: errR} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					mu.Lock()
					e.Write(s, buf[:n])
					mu.Unlock()
				}
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	x := Exit{Code: 0}
	var ee *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		x.Code = ws.ExitStatus()
		if ws.Signaled() {
			x.Code, x.Signal = -1, ws.Signal()
		}
	} else if err != nil {
		t.Fatal(err)
	}
	dumps, _ := filepath.Glob(filepath.Join(cmd.Dir, "*.hprof"))
	x.HeapDumps = dumps
	return e.Result(x)
}

// TestRealJVM runs a real JVM for a few of the rules.
func TestRealJVM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts JVMs")
	}
	hog := filepath.Join(t.TempDir(), "Hog.java")
	if err := os.WriteFile(hog, []byte(`public class Hog { public static void main(String[] a) {
	java.util.List<long[]> keep = new java.util.ArrayList<>(); while (true) keep.add(new long[1 << 16]); } }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		kind Kind
	}{
		{"unrecognized option", []string{"-XX:+NoSuchOption", "-version"}, JVMLaunch},
		{"missing jar", []string{"-jar", "/nonexistent/app.jar"}, JVMLaunch},
		{"heap OOM, exit on OOM", []string{"-Xmx16m", "-XX:+ExitOnOutOfMemoryError", hog}, OOMHeap},
		{"heap OOM, kill -9 after the dump", []string{"-Xmx16m", "-XX:+HeapDumpOnOutOfMemoryError", "-XX:OnOutOfMemoryError=kill -9 %p", hog}, OOMHeap},
		{"clean exit", []string{"-version"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runJVM(t, c.args...)
			if c.kind == "" {
				if got != nil {
					t.Fatalf("got %+v, want no cause", got)
				}
				return
			}
			if got == nil || got.Kind != c.kind {
				t.Fatalf("got %+v, want %s", got, c.kind)
			}
			t.Logf("%s: %s", got.Kind, got.Summary)
		})
	}
}
