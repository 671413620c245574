package e2e

// The image under a real OCI runtime: the image e2e/image builds from deploy/docker's
// file list is unpacked into a rootfs and run by runc (as root), holdfast as PID 1 of the
// container, the host JDK bind-mounted read-only, the state dir on the host. runc runs in
// the foreground as a child of the test, so its exit status is the container init's.
// NOTES §2 lists the runc gotchas these helpers work around.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
	"github.com/holdfast-dev/holdfast/e2e/image"
)

// runcWait bounds a JVM-bearing container's way to a state: a few JVM starts under runc
// on a loaded 2-core box.
const runcWait = 90 * time.Second

// runcOpts describe one container, in `docker run` terms.
type runcOpts struct {
	app        string   // zoo program baked in as /app/app.jar
	nonRoot    bool     // the Dockerfile's nonroot target
	entrypoint []string // like --entrypoint; nil = the image's
	cmd        []string // like the args after the image; nil = the image's CMD
	env        []string // added to the image's Env
	// imageState keeps the state dir inside the (then writable) rootfs, as the image
	// made it, instead of a host directory bind-mounted over it.
	imageState bool
	// memory is the container's memory limit in bytes (linux.resources.memory.limit,
	// swap as much: none); 0 = none.
	memory int64
	// stateDir is the host dir bind-mounted as the state dir; "" = a fresh one. A second
	// container on the same dir sees what the first left, as after a container restart.
	stateDir string
	jre      bool // the host's JRE only (image.JREBinds): no jcmd, as a -jre image
}

// runcCtr is one container run by a foreground `runc run`.
type runcCtr struct {
	id, root, bundle, rootfs string
	stateDir                 string // host path of the container's /var/lib/holdfast
	probe                    string // holdfast's --probe-addr, on the shared host loopback
	cfg                      v1.Config
	cmd                      *exec.Cmd
	out                      *hfrun.Buffer // runc's stdout and stderr: the container's console
	started                  time.Time
	done                     chan struct{}
	waitErr                  error
}

func runcBin(t testing.TB) string {
	t.Helper()
	p := hfrun.NeedTool(t, "runc")
	if os.Geteuid() != 0 {
		t.Fatal("the runc tests need root (rootless runc is not set up here)")
	}
	return p
}

var runcSeq atomic.Int64

// runcImage builds the deploy/docker image with the zoo program app as the jar.
func runcImage(t testing.TB, app string, nonRoot bool) v1.Image {
	t.Helper()
	img, err := image.Build(image.Options{
		Sources: map[string]string{"holdfast": holdfastBin, "app.jar": javaJar(t, app)},
		NonRoot: nonRoot,
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// runcStart unpacks the image into a rootfs, writes a bundle and starts the container.
// Cleanup kills what is left, waits for it to stop, then deletes it.
func runcStart(t testing.TB, o runcOpts) *runcCtr {
	t.Helper()
	runc := runcBin(t)
	tmp := t.TempDir()
	c := &runcCtr{
		id:     fmt.Sprintf("hf-e2e-%d-%d", os.Getpid(), runcSeq.Add(1)),
		root:   filepath.Join(tmp, "runc"),
		bundle: filepath.Join(tmp, "bundle"),
		rootfs: filepath.Join(tmp, "rootfs"),
		probe:  hfrun.Addr(t),
		out:    &hfrun.Buffer{},
		done:   make(chan struct{}),
	}
	img := runcImage(t, o.app, o.nonRoot)
	if err := image.Unpack(img, c.rootfs); err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c.cfg = cf.Config
	c.stateDir = filepath.Join(c.rootfs, image.StateDir)
	if !o.imageState && o.stateDir != "" {
		c.stateDir = o.stateDir
	} else if !o.imageState {
		c.stateDir = filepath.Join(tmp, "state")
		if err := os.Mkdir(c.stateDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(c.bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(runc, "spec", "--bundle", c.bundle).CombinedOutput(); err != nil {
		t.Fatalf("cannot run runc spec: %v\n%s", err, out)
	}
	c.writeConfig(t, o)

	c.cmd = exec.Command(runc, "--root", c.root, "run", "--bundle", c.bundle, c.id)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a ^C for go test is not for it
	c.cmd.WaitDelay = 5 * time.Second
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("cannot start runc run: %v", err)
	}
	go func() { c.waitErr = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		if !c.exited() {
			_ = exec.Command(runc, "--root", c.root, "kill", c.id, "KILL").Run()
			select {
			case <-c.done:
			case <-time.After(hfrun.WaitLong):
				_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
				<-c.done
			}
		}
		// Only once stopped: deleting a container whose app is still exiting fails with
		// "Failed to remove cgroup" (NOTES §2). A foreground run has usually deleted it.
		if out, err := exec.Command(runc, "--root", c.root, "delete", "-f", c.id).CombinedOutput(); err != nil &&
			!strings.Contains(string(out), "does not exist") {
			t.Errorf("cannot delete container %s: %v\n%s", c.id, err, out)
		}
		if t.Failed() {
			t.Logf("container %s console:\n%s", c.id, c.out)
		}
	})
	return c
}

// writeConfig edits the bundle's `runc spec` config.json for this container.
func (c *runcCtr) writeConfig(t testing.TB, o runcOpts) {
	t.Helper()
	path := filepath.Join(c.bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatalf("cannot parse %s: %v", path, err)
	}
	args := append(orDefault(o.entrypoint, c.cfg.Entrypoint), orDefault(o.cmd, c.cfg.Cmd)...)
	uid, gid := parseUser(t, c.cfg.User)
	env := append(append([]string{}, c.cfg.Env...), "HOLDFAST_PROBE_ADDR="+c.probe)
	proc := jsonObj(t, spec, "process")
	// No console socket without a terminal; stdio is runc's own pipes (NOTES §2).
	proc["terminal"] = false
	proc["args"] = args
	proc["env"] = append(env, o.env...)
	proc["cwd"] = orDefault([]string{c.cfg.WorkingDir}, []string{"/"})[0]
	proc["user"] = map[string]any{"uid": uid, "gid": gid}
	spec["hostname"] = c.id
	// An absolute path: the bundle is not the rootfs' parent. Read-only like a pod with
	// readOnlyRootFilesystem, unless the state dir lives in it.
	spec["root"] = map[string]any{"path": c.rootfs, "readonly": !o.imageState}
	mounts, _ := spec["mounts"].([]any)
	for _, m := range runcJavaBinds(t, o.jre) {
		mounts = append(mounts, map[string]any{"destination": m.Destination, "type": "bind", "source": m.Source,
			"options": []string{"rbind", "ro", "nosuid", "nodev"}})
	}
	// hsperfdata (jcmd, jps) and java.io.tmpdir.
	mounts = append(mounts, map[string]any{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
		"options": []string{"nosuid", "nodev", "mode=1777", "size=256m"}})
	if !o.imageState {
		mounts = append(mounts, map[string]any{"destination": image.StateDir, "type": "bind", "source": c.stateDir,
			"options": []string{"rbind", "rw"}})
	}
	spec["mounts"] = mounts
	// The host's network namespace: the probe answers on the host loopback.
	linux := jsonObj(t, spec, "linux")
	nss, _ := linux["namespaces"].([]any)
	var keep []any
	for _, ns := range nss {
		if m, ok := ns.(map[string]any); !ok || m["type"] != "network" {
			keep = append(keep, ns)
		}
	}
	linux["namespaces"] = keep
	if o.memory > 0 {
		jsonObj(t, linux, "resources")["memory"] = map[string]any{"limit": o.memory, "swap": o.memory}
	}
	if b, err = json.MarshalIndent(spec, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonObj(t testing.TB, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("runc spec has no %q object", key)
	}
	return v
}

func orDefault(v, def []string) []string {
	if v != nil && !(len(v) == 1 && v[0] == "") {
		return v
	}
	return def
}

// parseUser reads an image USER of the form "", "uid" or "uid:gid" (numeric only).
func parseUser(t testing.TB, u string) (int, int) {
	t.Helper()
	if u == "" {
		return 0, 0
	}
	us, gs, _ := strings.Cut(u, ":")
	uid, err1 := strconv.Atoi(us)
	gid, err2 := strconv.Atoi(orDefault([]string{gs}, []string{"0"})[0])
	if err1 != nil || err2 != nil {
		t.Fatalf("image USER %q is not numeric uid[:gid]", u)
	}
	return uid, gid
}

func (c *runcCtr) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to d for runc run to return and gives init's exit code.
func (c *runcCtr) waitExit(t testing.TB, d time.Duration) (int, time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		t.Fatalf("container %s still running after %v\nconsole:\n%s", c.id, d, c.out)
	}
	if c.cmd.ProcessState == nil {
		t.Fatalf("cannot wait for runc run: %v", c.waitErr)
	}
	return c.cmd.ProcessState.ExitCode(), time.Since(c.started)
}

// runc runs a runc subcommand on this container (bounded) and returns its output.
func (c *runcCtr) runc(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hfrun.WaitLong)
	defer cancel()
	cmd := exec.CommandContext(ctx, runcBin(t), append([]string{"--root", c.root}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// exec runs argv in the container, without a tty (-t needs one: NOTES §2).
func (c *runcCtr) exec(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := c.runc(t, append([]string{"exec", c.id}, argv...)...)
	if err != nil {
		t.Fatalf("runc exec %s %q: %v\n%s", c.id, argv, err, out)
	}
	return out
}

// status asks holdfast's /status on the host loopback.
func (c *runcCtr) status() (map[string]any, error) {
	code, body, err := hfrun.Get("http://"+c.probe+"/status", 5*time.Second)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("GET /status: %d %s", code, body)
	}
	var st map[string]any
	return st, json.Unmarshal([]byte(body), &st)
}

// waitPhase polls /status until phase is want; it fails at once if the container exits.
func (c *runcCtr) waitPhase(t testing.TB, want string) map[string]any {
	t.Helper()
	var st map[string]any
	hfrun.WaitFor(t, runcWait, "phase "+want, func() bool {
		s, err := c.status()
		st = s
		return c.exited() || err == nil && s["phase"] == want
	}, func() string { return fmt.Sprintf("last status %v\nconsole:\n%s", st, c.out) })
	if c.exited() {
		code, _ := c.waitExit(t, 0)
		t.Fatalf("container exited with %d before phase %s\nconsole:\n%s", code, want, c.out)
	}
	return st
}

// runcRuns lists the run directories in the host state dir.
func runcRuns(t testing.TB, stateDir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var runs []string
	for _, e := range ents {
		if e.IsDir() {
			runs = append(runs, e.Name())
		}
	}
	return runs
}

// runcRunRecord reads runs/<n>/run.json from the host.
func runcRunRecord(t testing.TB, stateDir string, n int) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stateDir, "runs", strconv.Itoa(n), "run.json"))
	if err != nil {
		t.Fatalf("run %d: %v", n, err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("run %d: cannot parse run.json: %v\n%s", n, err, b)
	}
	return rec
}

// TestRuncHeldSpringFail: a Spring-style startup crash under holdfast as the container's
// PID 1 is held, the held container answers exec and shells, the evidence is on the host,
// and `runc kill TERM` ends it at once with the app's code.
func TestRuncHeldSpringFail(t *testing.T) {
	t.Parallel()
	c := runcStart(t, runcOpts{app: "springfail", env: []string{"HOLDFAST_BACKOFF=100ms"}})
	st := c.waitPhase(t, "held")
	last, _ := st["last_exit"].(map[string]any)
	if st["run"] != 3.0 || st["restarts"] != 2.0 || st["hold_reason"] != "startup-crash" || last["code"] != 1.0 {
		t.Errorf("held status = %v, want run 3, 2 restarts, startup-crash, last exit 1", st)
	}

	// The Deployment's probes, asked of the held container: live (the kubelet must not
	// kill it), not ready (out of the Service), and the alert's metric says held.
	live, ready := manifestProbePaths(t)
	for _, p := range []struct {
		path string
		code int
	}{{live, 200}, {ready, 503}} {
		if code, body, err := hfrun.Fetch("http://" + c.probe + p.path); err != nil || code != p.code {
			t.Errorf("GET %s = %d %q %v, want %d", p.path, code, body, err, p.code)
		}
	}
	if _, body, err := hfrun.Fetch("http://" + c.probe + "/metrics"); err != nil ||
		!strings.Contains(body, "\nholdfast_held 1\n") {
		t.Errorf("/metrics lacks holdfast_held 1 (%v)", err)
	}

	// Inside the held container: holdfast is PID 1, its CLI answers, a shell runs.
	if comm := strings.TrimSpace(c.exec(t, "cat", "/proc/1/comm")); comm != "holdfast" {
		t.Errorf("PID 1 is %q, want holdfast", comm)
	}
	var js map[string]any
	if out := c.exec(t, "holdfast", "status", "--json"); json.Unmarshal([]byte(out), &js) != nil || js["phase"] != "held" {
		t.Errorf("holdfast status --json in the container = %q, want phase held", out)
	}
	if out := c.exec(t, "holdfast", "status"); !strings.Contains(out, "held") {
		t.Errorf("holdfast status in the container = %q, want it to say held", out)
	}
	out := c.exec(t, "sh", "-c", "echo $PATH; ls /var/lib/holdfast/runs")
	lines := strings.Fields(out)
	var path string
	for _, kv := range c.cfg.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	if len(lines) < 4 || lines[0] != path || strings.Join(lines[1:], " ") != "1 2 3" {
		t.Errorf("sh in the container printed %q, want the image's PATH %q and runs 1 2 3", out, path)
	}

	// The evidence is on the host, in the bind-mounted state dir.
	if runs := runcRuns(t, c.stateDir); strings.Join(runs, " ") != "1 2 3" {
		t.Errorf("host state dir runs = %v, want 1 2 3", runs)
	}
	for n := 1; n <= 3; n++ {
		if rec := runcRunRecord(t, c.stateDir, n); rec["exit_code"] != 1.0 {
			t.Errorf("run %d: exit_code %v, want 1", n, rec["exit_code"])
		}
		b, err := os.ReadFile(filepath.Join(c.stateDir, "runs", strconv.Itoa(n), "output.log"))
		if err != nil || !strings.Contains(string(b), "APPLICATION FAILED TO START") {
			t.Errorf("run %d output.log (%v) lacks the failure analysis:\n%s", n, err, b)
		}
	}

	// TERM (what docker stop and the kubelet send) ends the hold with the app's code.
	kill := time.Now()
	if out, err := c.runc(t, "kill", c.id, "TERM"); err != nil {
		t.Fatalf("runc kill TERM: %v\n%s", err, out)
	}
	code, _ := c.waitExit(t, hfrun.WaitLong)
	if took := time.Since(kill); code != 1 || took > 10*time.Second {
		t.Errorf("after TERM: exit %d after %v, want 1 within the 10s grace", code, took.Round(time.Millisecond))
	}
	if _, err := c.runc(t, "state", c.id); err == nil {
		t.Errorf("container %s still exists after its foreground run returned", c.id)
	}
}

// TestRuncOOMHeapDump: a heap OOM under runc leaves its heap dump in the run dir, on
// the host, because holdfast points HeapDumpPath there.
func TestRuncOOMHeapDump(t *testing.T) {
	t.Parallel()
	c := runcStart(t, runcOpts{app: "oom", cmd: []string{"java", "-Xmx16m", "-jar", image.AppJarPath},
		env: []string{"HOLDFAST_MAX_RESTARTS=0"}})
	c.waitPhase(t, "held")
	dumps, _ := filepath.Glob(filepath.Join(c.stateDir, "runs", "1", "jvm", "*.hprof"))
	if len(dumps) != 1 {
		t.Fatalf("host runs/1/jvm has heap dumps %v, want one", dumps)
	}
	if fi, err := os.Stat(dumps[0]); err != nil || fi.Size() < 1<<20 {
		t.Errorf("heap dump %s: %v, want at least 1 MiB (about -Xmx)", dumps[0], err)
	}
	b, _ := os.ReadFile(filepath.Join(c.stateDir, "runs", "1", "output.log"))
	if !strings.Contains(string(b), "java.lang.OutOfMemoryError") {
		t.Errorf("runs/1/output.log lacks the OutOfMemoryError:\n%s", b)
	}
	if out, err := c.runc(t, "kill", c.id, "TERM"); err != nil {
		t.Fatalf("runc kill TERM: %v\n%s", err, out)
	}
	if code, _ := c.waitExit(t, hfrun.WaitLong); code != 1 {
		t.Errorf("exit %d, want the OOM's 1", code)
	}
}

// TestRuncPlainJavaLosesTheCrimeScene is the negative control: the same image with
// ENTRYPOINT replaced by plain `java -jar` stops at the first crash, with nothing left to
// exec into and no evidence kept.
func TestRuncPlainJavaLosesTheCrimeScene(t *testing.T) {
	t.Parallel()
	c := runcStart(t, runcOpts{app: "springfail", entrypoint: []string{"java"}, cmd: []string{"-jar", image.AppJarPath}})
	code, took := c.waitExit(t, runcWait)
	if code != 1 {
		t.Errorf("plain java exit = %d, want 1", code)
	}
	t.Logf("plain java under runc exited %d after %v", code, took.Round(time.Millisecond))
	if !strings.Contains(c.out.String(), "APPLICATION FAILED TO START") {
		t.Errorf("the app did not run: console:\n%s", c.out)
	}
	if out, err := c.runc(t, "exec", c.id, "true"); err == nil {
		t.Errorf("runc exec into the stopped container worked: %s", out)
	}
	if runs := runcRuns(t, c.stateDir); len(runs) != 0 {
		t.Errorf("state dir has runs %v without holdfast", runs)
	}
	if _, err := c.status(); err == nil {
		t.Errorf("something answers on %s without holdfast", c.probe)
	}
}

// TestRuncNonRoot: the Dockerfile's nonroot target runs holdfast and the app as
// 10001:0, writing into the state dir the image made (group 0, group-writable).
func TestRuncNonRoot(t *testing.T) {
	t.Parallel()
	c := runcStart(t, runcOpts{app: "springfail", nonRoot: true, imageState: true,
		env: []string{"HOLDFAST_MAX_RESTARTS=0"}})
	c.waitPhase(t, "held")
	if id := strings.TrimSpace(c.exec(t, "id", "-u")); id != "10001" {
		t.Errorf("exec runs as uid %s, want 10001", id)
	}
	fi, err := os.Stat(filepath.Join(c.stateDir, "runs", "1", "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 10001 {
		t.Errorf("runs/1/output.log is owned by %d, want 10001", st.Uid)
	}
	if out, err := c.runc(t, "kill", c.id, "TERM"); err != nil {
		t.Fatalf("runc kill TERM: %v\n%s", err, out)
	}
	if code, _ := c.waitExit(t, hfrun.WaitLong); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}
