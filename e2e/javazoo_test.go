package e2e

// The Java zoo: small JDK-only programs under testdata/java that crash, hang, leak or
// misbehave the way real JVM services do. They are built once per test binary and cached
// under the temp dir by a hash of their sources, so several test binaries can share them.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// javaZooSrc holds one directory per program, each with exactly one <Class>.java.
const javaZooSrc = "testdata/java"

var javaZoo struct {
	once sync.Once
	jars map[string]string // program name -> absolute jar path
	err  error
}

// javaProgram is one zoo program: testdata/java/<Name>/<Class>.java.
type javaProgram struct {
	Name, Class, Source string
}

// javaBin returns the path of the java binary (missing: see hfrun.NeedTool).
func javaBin(t testing.TB) string {
	t.Helper()
	return hfrun.NeedTool(t, "java")
}

// javaJar builds (once per test binary, cached by a hash of the sources under
// os.TempDir()/holdfast-javazoo-<hash>/) every program and returns the path of the named jar.
func javaJar(t testing.TB, name string) string {
	t.Helper()
	hfrun.NeedTool(t, "javac")
	hfrun.NeedTool(t, "jar")
	javaZoo.once.Do(func() {
		start := time.Now()
		var dir string
		var cached bool
		dir, cached, javaZoo.jars, javaZoo.err = javaBuildZoo(javaZooSrc, os.TempDir())
		if javaZoo.err == nil {
			t.Logf("java zoo in %s (cached=%v, %v)", dir, cached, time.Since(start).Round(time.Millisecond))
		}
	})
	if javaZoo.err != nil {
		t.Fatalf("cannot build the java zoo: %v", javaZoo.err)
	}
	jar, ok := javaZoo.jars[name]
	if !ok {
		names := make([]string, 0, len(javaZoo.jars))
		for n := range javaZoo.jars {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Fatalf("no java program %q under %s (have %s)", name, javaZooSrc, strings.Join(names, ", "))
	}
	return jar
}

// javaPrograms lists the programs under src.
func javaPrograms(src string) ([]javaProgram, error) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", src, err)
	}
	var progs []javaProgram
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		srcs, err := filepath.Glob(filepath.Join(src, e.Name(), "*.java"))
		if err != nil {
			return nil, fmt.Errorf("cannot list %s: %w", e.Name(), err)
		}
		if len(srcs) != 1 {
			return nil, fmt.Errorf("cannot build %s: want exactly one .java file, found %d", e.Name(), len(srcs))
		}
		progs = append(progs, javaProgram{
			Name:   e.Name(),
			Class:  strings.TrimSuffix(filepath.Base(srcs[0]), ".java"),
			Source: srcs[0],
		})
	}
	seen := make(map[string]string)
	for _, p := range progs {
		if other, dup := seen[p.Class]; dup {
			return nil, fmt.Errorf("cannot build %s: class %s is also %s's", p.Name, p.Class, other)
		}
		seen[p.Class] = p.Name
	}
	if len(progs) == 0 {
		return nil, fmt.Errorf("cannot build the zoo: no programs under %s", src)
	}
	return progs, nil
}

// javaZooHash covers every file under src and the compiler, so an edited source or
// an upgraded JDK gets a fresh cache directory.
func javaZooHash(src string) (string, error) {
	h := sha256.New()
	// The resolved compiler and its mtime stand for the JDK version without starting a JVM.
	javac, err := exec.LookPath("javac")
	if err != nil {
		return "", fmt.Errorf("cannot find javac (install openjdk-17-jdk-headless): %w", err)
	}
	if javac, err = filepath.EvalSymlinks(javac); err != nil {
		return "", fmt.Errorf("cannot resolve javac: %w", err)
	}
	fi, err := os.Stat(javac)
	if err != nil {
		return "", fmt.Errorf("cannot stat %s: %w", javac, err)
	}
	fmt.Fprintf(h, "%s\x00%d\x00", javac, fi.ModTime().UnixNano())
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(src, path)
		fmt.Fprintf(h, "\x00%s\x00", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("cannot hash %s: %w", src, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// javaBuildZoo builds every program under src into cacheRoot/holdfast-javazoo-<hash>/<name>.jar,
// or reuses that directory when it is already there. It builds in a private temp dir and
// renames it into place, so concurrent builders never see a half-built zoo: the first rename
// wins and later builders drop their copy.
func javaBuildZoo(src, cacheRoot string) (dir string, cached bool, jars map[string]string, err error) {
	src, err = filepath.Abs(src)
	if err != nil {
		return "", false, nil, fmt.Errorf("cannot resolve %s: %w", src, err)
	}
	progs, err := javaPrograms(src)
	if err != nil {
		return "", false, nil, err
	}
	hash, err := javaZooHash(src)
	if err != nil {
		return "", false, nil, err
	}
	dir = filepath.Join(cacheRoot, "holdfast-javazoo-"+hash)
	jars = make(map[string]string, len(progs))
	for _, p := range progs {
		jars[p.Name] = filepath.Join(dir, p.Name+".jar")
	}
	if javaZooComplete(jars) {
		return dir, true, jars, nil
	}

	tmp, err := os.MkdirTemp(cacheRoot, "holdfast-javazoo-build-")
	if err != nil {
		return "", false, nil, fmt.Errorf("cannot create a build dir: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := javaBuildAll(progs, tmp); err != nil {
		return "", false, nil, err
	}
	if err := os.RemoveAll(filepath.Join(tmp, "classes")); err != nil {
		return "", false, nil, fmt.Errorf("cannot clean %s: %w", tmp, err)
	}
	// MkdirTemp makes 0700; apps started with --user must still read the jars.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", false, nil, fmt.Errorf("cannot chmod %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another test binary renamed its build into place first: use that one.
		if javaZooComplete(jars) {
			return dir, true, jars, nil
		}
		return "", false, nil, fmt.Errorf("cannot move the zoo into %s: %w", dir, err)
	}
	return dir, false, jars, nil
}

func javaZooComplete(jars map[string]string) bool {
	for _, j := range jars {
		if fi, err := os.Stat(j); err != nil || fi.Size() == 0 {
			return false
		}
	}
	return true
}

// javaBuildAll compiles every program with one javac (each javac is a JVM start: one run
// costs a fifth of nine on this box) and packs out/<name>.jar from the program's own classes.
func javaBuildAll(progs []javaProgram, out string) error {
	classes := filepath.Join(out, "classes")
	argv := []string{"javac", "--release", "17", "-d", classes}
	for _, p := range progs {
		argv = append(argv, p.Source)
	}
	if err := javaRun(argv); err != nil {
		return err
	}
	// Claim each class file for the program whose class it is or nests in, so a stray
	// top-level helper class cannot silently go missing from a jar.
	owned := make(map[string][]string)
	files, err := os.ReadDir(classes)
	if err != nil {
		return fmt.Errorf("cannot list %s: %w", classes, err)
	}
	for _, f := range files {
		class := strings.TrimSuffix(f.Name(), ".class")
		outer, _, _ := strings.Cut(class, "$")
		owned[outer] = append(owned[outer], "-C", classes, f.Name())
	}
	var errs []error
	for _, p := range progs {
		entries := owned[p.Class]
		if len(entries) == 0 {
			errs = append(errs, fmt.Errorf("cannot pack %s: javac wrote no %s.class", p.Name, p.Class))
			continue
		}
		delete(owned, p.Class)
		errs = append(errs, javaRun(append([]string{"jar", "--create", "--file",
			filepath.Join(out, p.Name+".jar"), "--main-class", p.Class}, entries...)))
	}
	for outer := range owned {
		errs = append(errs, fmt.Errorf("cannot pack class %s: it belongs to no program (one top-level class per file)", outer))
	}
	return errors.Join(errs...)
}

func javaRun(argv []string) error {
	if b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot run %s: %w\n%s", strings.Join(argv, " "), err, b)
	}
	return nil
}

// javaWait bounds every wait on a JVM: generous, because the box is shared and slow.
const javaWait = 30 * time.Second

// javaProc is a JVM started directly (no holdfast) in its own process group.
type javaProc struct {
	Cmd            *exec.Cmd
	Stdout, Stderr *hfrun.Buffer
	Started        time.Time
	done           chan struct{} // closed once Wait returned
	waitErr        error
}

// javaEnv is the test's environment without JVM option variables (which would change what
// every JVM prints), plus extra "K=V" entries; later entries win.
func javaEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// javaStart runs `java args...` in dir (a fresh temp dir when empty) with env. Cleanup
// SIGKILLs its process group if it is still running.
func javaStart(t testing.TB, dir string, env []string, args ...string) *javaProc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p := &javaProc{Stdout: &hfrun.Buffer{}, Stderr: &hfrun.Buffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(javaBin(t), args...)
	p.Cmd.Dir, p.Cmd.Env = dir, env
	p.Cmd.Stdout, p.Cmd.Stderr = p.Stdout, p.Stderr
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.Cmd.WaitDelay = 5 * time.Second // grandchildren holding our pipes must not hang Wait
	p.Started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("cannot start java %v: %v", args, err)
	}
	go func() {
		p.waitErr = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.Alive() {
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		}
		<-p.done
	})
	return p
}

// Alive reports whether the JVM has not exited yet.
func (p *javaProc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Signal sends sig to the JVM only (not its group).
func (p *javaProc) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("cannot send %v to java pid %d: %v", sig, p.Cmd.Process.Pid, err)
	}
}

// ExitCode waits (bounded) for the exit and returns the code a shell would show: the
// exit status, or 128+N for death by signal N.
func (p *javaProc) ExitCode(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(javaWait):
		t.Fatalf("java pid %d still running after %v\nstdout:\n%s\nstderr:\n%s",
			p.Cmd.Process.Pid, javaWait, p.Stdout, p.Stderr)
	}
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		t.Fatalf("cannot wait for java pid %d: %v", p.Cmd.Process.Pid, p.waitErr)
	}
	ws := p.Cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// WaitFor waits (bounded) until buf contains s; it fails at once if the JVM exits first.
func (p *javaProc) WaitFor(t testing.TB, buf *hfrun.Buffer, s string) {
	t.Helper()
	explain := func() string { return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", p.Stdout, p.Stderr) }
	has := func() bool { return strings.Contains(buf.String(), s) }
	javaEventually(t, fmt.Sprintf("output %q", s), func() bool { return has() || !p.Alive() }, explain)
	if !has() { // the JVM exited; its last writes are in buf once Wait returned
		t.Fatalf("java exited with %d before printing %q\n%s", p.ExitCode(t), s, explain())
	}
}

// javaEventually polls cond every 20 ms for up to javaWait; on timeout it fails with what
// and the details from explain.
func javaEventually(t testing.TB, what string, cond func() bool, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(javaWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", javaWait, what, explain())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// javaAnswer is one HTTP answer.
type javaAnswer struct {
	Code   int
	Body   string
	Header http.Header
}

// javaGet does one GET the way a kubelet probe does (no keep-alive) with the given timeout.
func javaGet(url string, timeout time.Duration) (javaAnswer, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return javaAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<10))
	return javaAnswer{resp.StatusCode, string(b), resp.Header}, err
}

// javaArgv is the argv of a JVM with jvmArgs.
func javaArgv(t testing.TB, jvmArgs ...string) []string {
	t.Helper()
	return append([]string{javaBin(t)}, jvmArgs...)
}
