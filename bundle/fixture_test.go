package bundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
)

// Secret values the fixture's app has; none may appear in a bundle.
var secretValues = []string{"hunter2", "tok-9f8e7d6c", "ks-s3cret", "hk-0a1b2c", "argv-pw-77"}

// appEnv is the environment of the fixture's app.
var appEnv = []string{
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOSTNAME=shop-7d9f",
	"LANG=C.UTF-8",
	"SPRING_PROFILES_ACTIVE=prod-eu",
	"SPRING_DATASOURCE_PASSWORD=hunter2",
	"API_TOKEN=tok-9f8e7d6c",
	"JAVA_TOOL_OPTIONS=-Xmx512m -Djavax.net.ssl.keyStorePassword=ks-s3cret -XX:+HeapDumpOnOutOfMemoryError",
	"HOLDFAST_API_KEY=hk-0a1b2c",
	"SPRING_DATASOURCE_URL=jdbc:postgresql://db:5432/shop-unlisted",
}

// springLog is a failed Spring Boot start as such an app writes it: the
// banner, a hundred INFO lines, an exception with its stack, the failure
// analysis.
func springLog(t testing.TB, run int) string {
	var b strings.Builder
	b.WriteString("Picked up JAVA_TOOL_OPTIONS: -Xmx512m -Djavax.net.ssl.keyStorePassword=*** -XX:+HeapDumpOnOutOfMemoryError\n")
	b.WriteString("  .   ____          _            __ _ _\n /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\\n( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\\n :: Spring Boot ::                (v3.4.1)\n")
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&b, "2026-12-06T09:%02d:%02d.%03dZ  INFO 7 --- [shop] [           main] o.s.b.w.e.t.TomcatWebServer%d : Initializing component %d of the shop service with the usual amount of detail\n", run, i%60, i, i%7, i)
	}
	b.WriteString("2026-12-06T09:01:00.000Z ERROR 7 --- [shop] [           main] o.s.boot.SpringApplication               : Application run failed\n")
	b.WriteString("org.springframework.context.ApplicationContextException: Failed to start bean 'webServerStartStop'\n")
	for i := 0; i < 90; i++ {
		fmt.Fprintf(&b, "\tat org.springframework.context.support.DefaultLifecycleProcessor.doStart(DefaultLifecycleProcessor.java:%d) ~[spring-context-6.2.1.jar:6.2.1]\n", 200+i)
	}
	b.WriteString("Caused by: java.net.BindException: Address already in use\n")
	// Real stack traces of failed Spring Boot starts (package cause's
	// corpus), so that the size measured is not only of repeated lines.
	for _, name := range []string{"spring-nested-chain-noise.txt", "spring-hibernate-db-down.txt", "flyway-migration-failed.txt"} {
		real, err := os.ReadFile(filepath.Join("..", "cause", "testdata", "corpus", name))
		must(t, err)
		b.Write(real)
	}
	b.WriteString("\n***************************\nAPPLICATION FAILED TO START\n***************************\n\nDescription:\n\nWeb server failed to start. Port 8080 was already in use.\n\nAction:\n\nIdentify and stop the process that's listening on port 8080 or configure this application to listen on another port.\n")
	return b.String()
}

type fixture struct {
	stateDir string
	runsDir  string
	runs     []Run
	opts     Options
}

// newFixture makes a state dir with three held runs of a Spring Boot app;
// run 3 also has an hs_err file, a thread dump, a 64 MiB heap dump (sparse),
// a large other file, a jvm/ subdir with planted links and a fifo.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{stateDir: t.TempDir()}
	f.runsDir = filepath.Join(f.stateDir, "runs")
	base := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for n := 1; n <= 3; n++ {
		dir := filepath.Join(f.runsDir, fmt.Sprint(n))
		must(t, os.MkdirAll(dir, 0o755))
		code := 1
		ended := base.Add(time.Duration(n)*time.Minute + 9*time.Second)
		decision := "restart"
		if n == 3 {
			decision = "hold"
		}
		rec := map[string]any{"run": n, "attempt": n, "command": []string{"java", "-jar", "/app/shop.jar", "--spring.datasource.password=***"},
			"pid": 7, "started_at": base.Add(time.Duration(n) * time.Minute), "ended_at": ended, "ran_for_seconds": 9.1,
			"exit_code": code, "signal": "", "core_dumped": false, "reason": "startup-crash", "decision": decision, "dir": dir,
			"cause": cause.Cause{Kind: "spring-failure-analysis", Summary: "Web server failed to start. Port 8080 was already in use."}}
		raw, err := json.MarshalIndent(rec, "", "  ")
		must(t, err)
		writeFile(t, filepath.Join(dir, "run.json"), string(raw))
		writeFile(t, filepath.Join(dir, "output.log"), springLog(t, n))
		runs, err := DecodeRuns([]byte("[" + string(raw) + "]"))
		must(t, err)
		f.runs = append(f.runs, runs...)
	}
	r3 := filepath.Join(f.runsDir, "3")
	hsErr, err := os.ReadFile(filepath.Join("..", "cause", "testdata", "hs_err_pid14691.log"))
	must(t, err)
	writeFile(t, filepath.Join(r3, "hs_err_pid7.log"), string(hsErr))
	writeFile(t, filepath.Join(r3, "thread-dump-1.txt"), strings.Repeat("\"main\" #1 prio=5 os_prio=0 tid=0x1 nid=0x7 runnable\n", 200))
	sparse(t, filepath.Join(r3, "java_pid7.hprof"), 64<<20)
	sparse(t, filepath.Join(r3, "big.bin"), SmallFileMax+1)
	jvm := filepath.Join(r3, "jvm")
	must(t, os.Mkdir(jvm, 0o755))
	writeFile(t, filepath.Join(jvm, "gc.log"), "[0.010s][info][gc] Using G1\n")
	outside := filepath.Join(f.stateDir, "outside-secret.txt")
	writeFile(t, outside, "OUTSIDE-CONTENT-must-not-be-bundled\n")
	must(t, os.Symlink(outside, filepath.Join(jvm, "evil.log")))
	must(t, os.Symlink(f.stateDir, filepath.Join(jvm, "up")))
	must(t, syscall.Mkfifo(filepath.Join(jvm, "pipe"), 0o644))

	status, _ := json.Marshal(map[string]any{"phase": "held", "run": 3, "hold_reason": "startup-crash", "version": "v0.9.0-test"})
	f.opts = Options{
		Status:  status,
		Runs:    f.runs,
		RunsDir: f.runsDir,
		Now:     time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC),
		Facts: CollectFacts(FactsInput{
			Version:      "v0.9.0-test",
			HoldfastArgs: []string{"holdfast", "--state-dir", f.stateDir, "--ssh-password=argv-pw-77", "--", "java", "-jar", "/app/shop.jar"},
			HoldfastPID:  1,
			AppArgv:      []string{"java", "-jar", "/app/shop.jar", "--spring.datasource.password=hunter2"},
			AppEnv:       appEnv,
		}),
	}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(s), 0o644))
}

// sparse makes a file of size bytes that takes no disk space.
func sparse(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
}
