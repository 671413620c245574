package dumps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/attach"
)

// Bounds: generous, the box is shared and a cold JVM is slow.
const (
	jvmStartBound = 90 * time.Second
	dumpBound     = 60 * time.Second
)

// classDir holds the compiled attach test target; "" without javac.
var classDir string

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("javac"); err == nil {
		root, err := os.MkdirTemp("", "dumps-test-")
		if err == nil {
			dir := filepath.Join(root, "classes")
			out, err := exec.Command("javac", "-d", dir, "../attach/testdata/AttachTarget.java").CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "dumps tests: javac: %v: %s\n", err, out)
			} else {
				classDir = dir
			}
			defer os.RemoveAll(root)
		}
	}
	code := m.Run()
	if classDir != "" {
		os.RemoveAll(filepath.Dir(classDir))
	}
	os.Exit(code)
}

// startJVM starts the attach test target in mode ("idle" or "deadlock")
// under sh, as a wrapper script would, and returns sh's pid once the JVM
// printed "ready". Both end with the test.
func startJVM(t *testing.T, mode string) int {
	t.Helper()
	if classDir == "" {
		t.Skip("no javac: the JVM tests need a JDK")
	}
	cmd := exec.Command("sh", "-c", `java -Xmx64m -XX:TieredStopAtLevel=1 -cp "$0" AttachTarget "$1"; echo done`, classDir, mode)
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	javaPid := 0 // known once ready
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		// A killed JVM leaves its attach socket in the shared /tmp; a
		// later JVM of another user given the same pid could not
		// remove it (the sticky bit) and could not be attached to.
		if javaPid != 0 {
			os.Remove(fmt.Sprintf("/tmp/.java_pid%d", javaPid))
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the JVM exited before it was ready")
		}
	case <-time.After(jvmStartBound):
		t.Fatalf("the JVM was not ready within %v", jvmStartBound)
	}
	javaPid = FindJVM(cmd.Process.Pid)
	return cmd.Process.Pid
}

func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), dumpBound)
	t.Cleanup(cancel)
	return ctx
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FindJVM looks through a wrapper shell to its java child; a process
// without one is its own answer.
func TestFindJVM(t *testing.T) {
	sh := startJVM(t, "idle")
	j := FindJVM(sh)
	if j == sh || comm(j) != "java" {
		t.Fatalf("FindJVM(%d) = %d (%q), want sh's java child", sh, j, comm(j))
	}
	if got := FindJVM(j); got != j {
		t.Errorf("FindJVM(java %d) = %d", j, got)
	}
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	if got := FindJVM(sleep.Process.Pid); got != sleep.Process.Pid {
		t.Errorf("FindJVM(sleep) = %d, want itself", got)
	}
}

// A thread dump of a deadlocked JVM lands in the run dir as
// threads-<time>.txt, mode 0600, naming the deadlock; a second one taken
// in the same second gets a name of its own; a histogram lands next to it.
func TestTakeText(t *testing.T) {
	jvm := FindJVM(startJVM(t, "deadlock"))
	p := Place{RunDir: t.TempDir()}
	r1, err := Take(bounded(t), jvm, Threads, p)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(r1.Path) != p.RunDir || !strings.HasPrefix(filepath.Base(r1.Path), "threads-") || !strings.HasSuffix(r1.Path, ".txt") {
		t.Errorf("thread dump at %s, want threads-<time>.txt in %s", r1.Path, p.RunDir)
	}
	if s := readFile(t, r1.Path); !strings.Contains(s, "Found one Java-level deadlock") || !strings.Contains(s, `"deadlock-1"`) {
		t.Errorf("thread dump lacks the deadlock:\n%s", s)
	}
	if fi, err := os.Stat(r1.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("thread dump mode %v (%v), want 0600", fi.Mode(), err)
	}
	r2, err := Take(bounded(t), jvm, Threads, p)
	if err != nil || r2.Path == r1.Path {
		t.Errorf("second thread dump: %v at %s (first %s)", err, r2.Path, r1.Path)
	}
	h, err := Take(bounded(t), jvm, Histogram, p)
	if err != nil {
		t.Fatal(err)
	}
	if s := readFile(t, h.Path); !strings.HasPrefix(filepath.Base(h.Path), "histogram-") || !strings.Contains(s, "#instances") || !strings.Contains(s, "java.lang.String") {
		t.Errorf("histogram %s:\n%.500s", h.Path, s)
	}
}

// A failed dump leaves nothing in the run dir: a process that is not a
// JVM, and a dead one.
func TestTakeFailsClean(t *testing.T) {
	p := Place{RunDir: t.TempDir(), AppDir: t.TempDir()}
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	for _, k := range Kinds {
		if _, err := Take(bounded(t), sleep.Process.Pid, k, p); !errors.Is(err, attach.ErrNotJVM) {
			t.Errorf("%s of sleep: %v, want ErrNotJVM", k, err)
		}
	}
	if _, err := Take(bounded(t), 0, Threads, p); !errors.Is(err, attach.ErrNoProcess) {
		t.Errorf("threads of pid 0: %v, want ErrNoProcess", err)
	}
	for _, d := range []string{p.RunDir, p.AppDir} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s holds %v after failed dumps", d, ents)
		}
	}
	if _, err := ParseKind("core"); err == nil {
		t.Error(`ParseKind("core"): no error`)
	}
}

// A heap dump is written by the JVM into the app's dir and is an HPROF
// file; without an app dir there is none.
func TestTakeHeap(t *testing.T) {
	jvm := FindJVM(startJVM(t, "idle"))
	p := Place{RunDir: t.TempDir(), AppDir: t.TempDir()}
	r, err := Take(bounded(t), jvm, Heap, p)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(r.Path) != p.AppDir || !strings.HasPrefix(filepath.Base(r.Path), "heap-") || !strings.HasSuffix(r.Path, ".hprof") {
		t.Errorf("heap dump at %s, want heap-<time>.hprof in %s", r.Path, p.AppDir)
	}
	if s := readFile(t, r.Path); !strings.HasPrefix(s, "JAVA PROFILE 1.0.2\x00") {
		t.Errorf("heap dump starts %q", s[:min(len(s), 20)])
	}
	if !strings.Contains(r.Note, "Heap dump file created") {
		t.Errorf("note %q", r.Note)
	}
	if _, err := Take(bounded(t), jvm, Heap, Place{RunDir: p.RunDir}); err == nil || !strings.Contains(err.Error(), "jvm/") {
		t.Errorf("heap dump without an app dir: %v", err)
	}
}

// JFR: the first call starts the recording, the next dumps it.
func TestTakeJFR(t *testing.T) {
	jvm := FindJVM(startJVM(t, "idle"))
	p := Place{RunDir: t.TempDir(), AppDir: t.TempDir()}
	r, err := Take(bounded(t), jvm, JFR, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Path != "" || !strings.Contains(r.Note, "started JFR recording") {
		t.Errorf("first jfr: %+v, want a started recording and no file", r)
	}
	r, err = Take(bounded(t), jvm, JFR, p)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(r.Path) != p.AppDir || !strings.HasSuffix(r.Path, ".jfr") {
		t.Errorf("recording at %s", r.Path)
	}
	if s := readFile(t, r.Path); !strings.HasPrefix(s, "FLR\x00") {
		t.Errorf("recording starts %q", s[:min(len(s), 8)])
	}
}
