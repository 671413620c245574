package cause

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// extract runs text through a fresh Extractor on stdout and returns its
// best candidate (nil when no rule matched).
func extract(text string) *Cause {
	e := New()
	e.Write(Stdout, []byte(text))
	e.Close()
	return e.Best()
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

type ruleCase struct {
	name string
	text string
	kind Kind // "" means: no candidate
	// want are substrings the summary must contain.
	want []string
}

func runRules(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := extract(c.text)
			if c.kind == "" {
				if got != nil {
					t.Fatalf("got %+v, want no candidate", got)
				}
				return
			}
			if got == nil || got.Kind != c.kind {
				t.Fatalf("got %+v, want kind %s", got, c.kind)
			}
			for _, w := range c.want {
				if !strings.Contains(got.Summary, w) {
					t.Errorf("summary %q lacks %q", got.Summary, w)
				}
			}
			checkSummary(t, got)
		})
	}
}

var springBlock = lines(
	"2026-12-06T09:15:03.641Z ERROR 1 --- [main] o.s.b.d.LoggingFailureAnalysisReporter   : ",
	"",
	"***************************",
	"APPLICATION FAILED TO START",
	"***************************",
	"",
	"Description:",
	"",
	"Web server failed to start. Port 8080 was already in use.",
	"",
	"Action:",
	"",
	"Identify and stop the process that's listening on port 8080 or configure this application to listen on another port.",
	"")

func TestSpringRule(t *testing.T) {
	runRules(t, []ruleCase{
		{"block", springBlock, SpringFailureAnalysis, []string{"Port 8080 was already in use."}},
		{"block at the end of output without a blank line", strings.TrimSuffix(springBlock, "\n\n") + "\n", SpringFailureAnalysis, []string{"Port 8080"}},
		// near misses
		{"banner inside a log line", "INFO rule 'APPLICATION FAILED TO START' loaded\n", "", nil},
		{"banner without Description", lines("APPLICATION FAILED TO START", "", "2026-12-06 INFO shutting down", "Description:", "text"), "", nil},
		{"banner with an empty Description", lines("APPLICATION FAILED TO START", "Description:", "", "Action:", "", "do it", ""), "", nil},
	})
	c := extract(springBlock)
	if c.Action != "Identify and stop the process that's listening on port 8080 or configure this application to listen on another port." {
		t.Errorf("action %q", c.Action)
	}
	if c.Line != 4 {
		t.Errorf("line %d, want 4 (the banner)", c.Line)
	}
}

var uncaught = lines(
	`Exception in thread "main" java.lang.RuntimeException: startup failed`,
	"\tat com.example.App.main(App.java:13)",
	"Caused by: java.lang.IllegalStateException: cannot read configuration",
	"\tat org.springframework.util.Assert.state(Assert.java:76)",
	"\tat com.example.Config.load(Config.java:8)",
	"\t... 1 more",
	"Caused by: java.io.FileNotFoundException: /etc/app.yaml (No such file or directory)",
	"\tat java.base/java.io.FileInputStream.open0(Native Method)",
	"\tat java.base/java.io.FileInputStream.<init>(FileInputStream.java:157)",
	"\t... 2 more")

// threadDump is the head of a HotSpot thread dump, as SIGQUIT prints it.
var threadDump = lines(
	"2026-12-06 12:28:55",
	"Full thread dump OpenJDK 64-Bit Server VM (17.0.17+10-Debian-1deb12u1 mixed mode, sharing):",
	"",
	`"main" #1 prio=5 os_prio=0 cpu=412.33ms elapsed=6.01s tid=0x00007f3c2c024ac0 nid=0x9 waiting on condition  [0x00007f3c32ffe000]`,
	"   java.lang.Thread.State: WAITING (parking)",
	"\tat jdk.internal.misc.Unsafe.park(java.base@17.0.17/Native Method)",
	"\t- parking to wait for  <0x00000000fe4a1a78> (a java.util.concurrent.CountDownLatch$Sync)",
	"\tat java.util.concurrent.locks.LockSupport.park(java.base@17.0.17/LockSupport.java:211)",
	"\tat com.example.Stuck.main(Stuck.java:12)",
	"",
	`"Reference Handler" #2 daemon prio=10 os_prio=0 cpu=0.21ms elapsed=5.99s tid=0x00007f3c2c0e6ea0 nid=0x10 waiting on condition  [0x00007f3c10e9f000]`,
	"   java.lang.Thread.State: RUNNABLE",
	"\tat java.lang.ref.Reference.waitForReferencePendingList(java.base@17.0.17/Native Method)",
	"")

func TestExceptionRule(t *testing.T) {
	runRules(t, []ruleCase{
		{"uncaught, deepest cause, frame from the deepest level that has one", uncaught, Exception,
			[]string{"java.io.FileNotFoundException: /etc/app.yaml (No such file or directory)", "at com.example.Config.load(Config.java:8)"}},
		{"logged at ERROR", lines("2026-12-06 10:00:00.000 ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed", "",
			"java.lang.IllegalArgumentException: bad port", "\tat com.example.Net.port(Net.java:3)"), Exception, []string{"bad port", "com.example.Net.port"}},
		{"printed raw (printStackTrace)", lines("java.lang.IllegalArgumentException: bad port", "\tat com.example.Net.port(Net.java:3)"), Exception, []string{"bad port"}},
		{"suppressed chains are not the cause", lines(
			"java.io.IOException: close failed", "\tat com.example.A.run(A.java:1)",
			"\tSuppressed: java.lang.IllegalStateException: other", "\t\tat com.example.B.run(B.java:2)",
			"\t\tCaused by: java.lang.Error: inner", "\t\t\tat com.example.C.run(C.java:3)"), Exception, []string{"java.io.IOException: close failed at com.example.A.run(A.java:1)"}},
		// near misses
		{"logged at WARN", lines("2026-12-06 WARN  [main] c.e.Loader : retrying", "java.net.ConnectException: Connection refused", "\tat com.example.Loader.load(Loader.java:3)"), "", nil},
		{"logged at INFO by JUL", lines("INFO: recovered from", "java.net.ConnectException: Connection refused", "\tat com.example.Loader.load(Loader.java:3)"), "", nil},
		{"a class name without frames", lines("java.lang.IllegalStateException: mentioned in passing", "2026-12-06 INFO next"), "", nil},
		{"frames without a header", lines("\tat com.example.A.run(A.java:1)", "\tat com.example.B.run(B.java:2)"), "", nil},
		{"Caused by alone", lines("Caused by: java.lang.ClassNotFoundException: com.example.Main"), "", nil},
		{"lower-case simple name is no class", lines("com.example.config: value", "\tat com.example.A.run(A.java:1)"), "", nil},
		{"a thread dump (SIGQUIT, jstack) is no exception", threadDump, "", nil},
		{"an uncaught exception after a thread dump", threadDump + uncaught, Exception, []string{"java.io.FileNotFoundException"}},
		{"handled ERROR trace, then the app started", lines("2026-12-06 ERROR x : warm-up failed", "java.io.IOException: x", "\tat com.example.A.a(A.java:1)", "",
			"2026-12-06 INFO 1 --- [main] c.e.App : Started App in 3.1 seconds (process running for 3.5)"), "", nil},
	})
	c := extract(uncaught)
	if c.Exception != "java.io.FileNotFoundException" || c.Line != 7 || c.Frame != "com.example.Config.load(Config.java:8)" {
		t.Errorf("got %+v", c)
	}
}

func TestLaterFailureWins(t *testing.T) {
	// An exception logged and handled (ERROR) before a later, different
	// failure: the later one is the cause.
	text := lines("2026-12-06 ERROR 1 --- [main] c.e.Cache : warm-up failed", "java.io.IOException: redis down", "\tat com.example.Cache.warm(Cache.java:9)", "") +
		uncaught
	if c := extract(text); c == nil || c.Exception != "java.io.FileNotFoundException" {
		t.Fatalf("got %+v, want the later chain", c)
	}
	// A more specific rule wins over a later exception chain.
	if c := extract(springBlock + uncaught); c == nil || c.Kind != SpringFailureAnalysis {
		t.Fatalf("got %+v, want the failure analysis", c)
	}
}

func TestLaunchRule(t *testing.T) {
	runRules(t, []ruleCase{
		{"jarfile", "Error: Unable to access jarfile /app/app.jar\n", JVMLaunch, []string{"Unable to access jarfile /app/app.jar"}},
		{"main class", lines("Error: Could not find or load main class com.example.Main", "Caused by: java.lang.ClassNotFoundException: com.example.Main"), JVMLaunch, []string{"main class com.example.Main"}},
		{"VM option", lines("Unrecognized VM option 'UseConcMarkSweepGC'", "Error: Could not create the Java Virtual Machine.", "Error: A fatal exception has occurred. Program will exit."), JVMLaunch, []string{"Unrecognized VM option 'UseConcMarkSweepGC'"}},
		{"heap size", lines("Invalid maximum heap size: -Xmx1z", "Error: Could not create the Java Virtual Machine."), JVMLaunch, []string{"Invalid maximum heap size: -Xmx1z"}},
		{"init VM", lines("Error occurred during initialization of VM", "Could not reserve enough space for object heap"), JVMLaunch, []string{"Could not reserve enough space for object heap"}},
		{"class version", lines(`Exception in thread "main" java.lang.UnsupportedClassVersionError: App has been compiled by a more recent version of the Java Runtime (class file version 65.0)`, "\tat java.base/java.lang.ClassLoader.defineClass1(Native Method)"), JVMLaunch, []string{"class file version 65.0"}},
		{"manifest", "no main manifest attribute, in /app/app.jar\n", JVMLaunch, []string{"no main manifest attribute"}},
		// near misses
		{"Error: from another program", "Error: connection reset by peer\n", "", nil},
		{"launcher text inside a log line", "2026-12-06 INFO hint: Error: Unable to access jarfile means a wrong path\n", "", nil},
		{"Invalid without a size", "Invalid argument\n", "", nil},
		{"carriage returns only", "\r\r\n\r\n", "", nil},
	})
}

func TestOOMRule(t *testing.T) {
	runRules(t, []ruleCase{
		{"heap", lines(`Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`, "\tat App.main(App.java:5)"), OOMHeap, []string{"Java heap space"}},
		{"gc overhead", "Terminating due to java.lang.OutOfMemoryError: GC overhead limit exceeded\n", OOMHeap, []string{"GC overhead"}},
		{"metaspace", "Aborting due to java.lang.OutOfMemoryError: Metaspace\n", OOMMetaspace, []string{"Metaspace"}},
		{"compressed class space", lines(`Exception in thread "main" java.lang.OutOfMemoryError: Compressed class space`), OOMMetaspace, nil},
		{"native thread", lines(`Exception in thread "main" java.lang.OutOfMemoryError: unable to create new native thread`, "\tat java.lang.Thread.start0(Native Method)"), OOMNativeThread, nil},
		{"direct", lines("Caused by: java.lang.OutOfMemoryError: Direct buffer memory"), OOMDirect, nil},
		{"deepest cause", lines("2026-12-06 ERROR x : failed", "java.lang.RuntimeException: batch failed", "\tat com.example.Batch.run(Batch.java:3)",
			"Caused by: java.lang.OutOfMemoryError: Java heap space", "\tat com.example.Batch.load(Batch.java:9)"), OOMHeap, nil},
		// near misses
		{"logged at WARN", lines("2026-12-06 WARN x : cache eviction after", "java.lang.OutOfMemoryError: Java heap space", "\tat com.example.Cache.put(Cache.java:3)"), "", nil},
		{"an OOM message of no named kind", lines(`Exception in thread "main" java.lang.OutOfMemoryError: Map failed`, "\tat sun.nio.ch.FileChannelImpl.map0(Native Method)", "\tat com.example.Idx.map(Idx.java:3)"), Exception, []string{"Map failed"}},
		{"a word in a log line", "2026-12-06 INFO tuning: -XX:+ExitOnOutOfMemoryError prevents java.lang.OutOfMemoryError: Java heap space loops\n", "", nil},
	})
	e := New()
	e.Write(Stdout, []byte(lines("java.lang.OutOfMemoryError: Java heap space", "Dumping heap to /tmp/java_pid7.hprof ...", "Heap dump file created [1 bytes in 0.1 secs]")))
	e.Close()
	if c := e.Best(); c == nil || c.HeapDump != "/tmp/java_pid7.hprof" {
		t.Errorf("got %+v, want the heap dump path", c)
	}
}

func TestCrashRule(t *testing.T) {
	runRules(t, []ruleCase{
		{"SIGBUS", lines("#", "# A fatal error has been detected by the Java Runtime Environment:", "#", "#  SIGBUS (0x7) at pc=0x00007f0c, pid=1, tid=12", "#",
			"# Problematic frame:", "# C  [libzstd.so.1+0x1f2e3]  ZSTD_decompress+0x53", "#"), JVMCrash, []string{"SIGBUS in libzstd.so.1+0x1f2e3 ZSTD_decompress+0x53"}},
		{"internal error", lines("# A fatal error has been detected by the Java Runtime Environment:", "#  Internal Error (g1ConcurrentMark.cpp:1234), pid=1, tid=7"), JVMCrash, []string{"Internal Error (g1ConcurrentMark.cpp:1234)"}},
		{"insufficient memory", lines("#", "# There is insufficient memory for the Java Runtime Environment to continue.",
			"# Native memory allocation (mmap) failed to map 268435456 bytes for G1 virtual space"), JVMCrash, []string{"failed to map 268435456 bytes"}},
		// near misses
		{"a comment", lines("# configuration", "#  SIGSEGV handler installed"), "", nil},
		{"OnOutOfMemoryError note", lines("#", "# java.lang.OutOfMemoryError: Java heap space", `# -XX:OnOutOfMemoryError="kill -9 %p"`), "", nil},
	})
	f, err := os.Open("testdata/hs_err_pid14691.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseHsErr(f, "hs_err_pid14691.log")
	if err != nil || c == nil || c.Kind != JVMCrash || c.HsErr != "hs_err_pid14691.log" || c.Frame != "libjvm.so+0xed2f94 Unsafe_PutLong+0x124" {
		t.Fatalf("ParseHsErr: %+v, %v", c, err)
	}
	if c, err := ParseHsErr(strings.NewReader("not an hs_err file\n"), "x.log"); c != nil || err != nil {
		t.Errorf("ParseHsErr of other text: %+v, %v", c, err)
	}
}

func TestJSONRule(t *testing.T) {
	stack := `"org.example.Boom: outer\n\tat com.example.A.a(A.java:1)\nCaused by: java.lang.IllegalStateException: key not set\n\tat com.example.Cfg.key(Cfg.java:7)\n"`
	runRules(t, []ruleCase{
		{"logstash stack_trace", `{"level":"ERROR","message":"Application run failed","stack_trace":` + stack + "}\n", Exception, []string{"key not set at com.example.Cfg.key(Cfg.java:7)"}},
		{"ECS flat", `{"log.level":"ERROR","message":"x","error.type":"org.example.Boom","error.stack_trace":` + stack + "}\n", Exception, []string{"key not set"}},
		{"ECS nested", `{"log":{"level":"ERROR"},"message":"x","error":{"type":"org.example.Boom","stack_trace":` + stack + "}}\n", Exception, []string{"key not set"}},
		{"GELF", `{"version":"1.1","short_message":"x","level":3,"_error_stack_trace":` + stack + "}\n", Exception, []string{"key not set"}},
		{"ECS type and message only", `{"log.level":"ERROR","message":"x","error.type":"java.lang.IllegalStateException","error.message":"key not set"}` + "\n", Exception, []string{"java.lang.IllegalStateException: key not set"}},
		// near misses
		{"Caused by in the message field", `{"level":"ERROR","stack_trace":"","message":"Caused by: java.lang.Error: x\n\tat com.example.A.a(A.java:1)"}` + "\n", "", nil},
		{"stack in an unrelated field", `{"level":"ERROR","message":"x","error_code":"E42","request_body":` + stack + "}\n", "", nil},
		{"stack_trace at WARN", `{"level":"WARN","message":"retry","stack_trace":` + stack + "}\n", "", nil},
		{"GELF level 4", `{"version":"1.1","level":4,"full_message":` + stack + "}\n", "", nil},
		{"not JSON", `{"level":"ERROR","stack_trace":` + "\n", "", nil},
		{"banner in an INFO message", `{"level":"INFO","message":"\nAPPLICATION FAILED TO START\n\nDescription:\n\nx.\n\nAction:\n\ny\n"}` + "\n", "", nil},
	})
}

func TestDecide(t *testing.T) {
	exc := &Cause{Kind: Exception, Summary: "java.lang.Error: x"}
	heap := &Cause{Kind: OOMHeap, Summary: "the JVM ran out of heap: java.lang.OutOfMemoryError: Java heap space"}
	crash := &Cause{Kind: JVMCrash, Summary: "the JVM crashed with SIGSEGV"}
	hs := &Cause{Kind: JVMCrash, Summary: "the JVM crashed with SIGSEGV in libfoo.so", HsErr: "hs_err_pid9.log"}
	kill := func(s Sender, oom OOMEvidence) Exit {
		return Exit{Code: -1, Signal: syscall.SIGKILL, SentBy: s, OOM: oom}
	}
	cases := []struct {
		name  string
		found *Cause
		x     Exit
		kind  Kind
		want  string
	}{
		{"exit 0 has no cause", exc, Exit{Code: 0}, "", ""},
		{"exit code with a chain", exc, Exit{Code: 1}, Exception, "java.lang.Error: x"},
		{"exit code, nothing found", nil, Exit{Code: 3, LastStderr: "fatal: no config"}, ExitCode, "exit code 3; no cause recognised; last stderr line: fatal: no config"},
		{"exec failure", nil, Exit{ExecErr: `exec: "jva": executable file not found in $PATH`}, ExecFailed, `could not start the app: exec: "jva"`},
		{"command not found via a shell", nil, Exit{Code: 127, LastStderr: "sh: 1: jva: not found"}, ExecFailed, "exit code 127 (command not found)"},
		{"kernel OOM kill", exc, Exit{Code: -1, Signal: syscall.SIGKILL, OOM: OOMRose, MemoryLimit: 256 << 20, MemoryPeak: 256 << 20}, OOMKilled, "OOM killer (SIGKILL) at the memory limit 256 MiB (peak 256 MiB)"},
		{"SIGKILL from outside, counter unchanged", exc, kill(SentByOutside, OOMNone), Signal, "killed by SIGKILL from outside holdfast (not the kernel OOM killer)"},
		{"SIGKILL from outside, counter unknown", nil, kill(SentByOutside, OOMUnknown), Signal, "killed by SIGKILL from outside holdfast; no cause recognised"},
		{"holdfast's grace kill, even with OOM evidence", nil, kill(SentByGrace, OOMRose), Signal, "stop grace period ran out"},
		{"holdfast's hang kill", heap, kill(SentByHang, OOMNone), Signal, "the app hung"},
		{"heap dump and SIGKILL: oom-heap", nil, Exit{Code: -1, Signal: syscall.SIGKILL, HeapDumps: []string{"/run/5/java_pid43.hprof"}}, OOMHeap, "heap dump java_pid43.hprof written"},
		{"OOM then kill -9", heap, kill(SentByOutside, OOMNone), OOMHeap, "Java heap space"},
		{"kill -9 after a heap dump, counter unchanged", nil, Exit{Code: -1, Signal: syscall.SIGKILL, OOM: OOMNone, HeapDumps: []string{"/run/5/jvm/java_pid43.hprof"}}, OOMHeap, "heap dump java_pid43.hprof written: the JVM ran out of heap"},
		{"exit 143 after holdfast's stop", exc, Exit{Code: 143, SentBy: SentByStop}, Signal, "stopped by holdfast; the app exited with code 143"},
		{"exit 143 after a hang stop", nil, Exit{Code: 143, SentBy: SentByHang}, Signal, "stopped by holdfast: the app hung; the app exited with code 143"},
		{"exit 0 after holdfast's stop", nil, Exit{Code: 0, SentBy: SentByStop}, "", ""},
		{"crash then SIGABRT", crash, Exit{Code: -1, Signal: syscall.SIGABRT}, JVMCrash, "SIGSEGV"},
		{"hs_err file only", nil, Exit{Code: 134, HsErr: hs}, JVMCrash, "libfoo.so"},
		{"SIGTERM from outside with a chain", exc, Exit{Code: -1, Signal: syscall.SIGTERM}, Signal, "killed by SIGTERM from outside holdfast"},
		{"nothing known", nil, Exit{Code: -1}, Unknown, "no cause recognised"},
		{"SIGSEGV, nothing found", nil, Exit{Code: -1, Signal: syscall.SIGSEGV, LastStderr: "x"}, Signal, "killed by SIGSEGV; no cause recognised; last stderr line: x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Decide(c.found, c.x)
			if c.kind == "" {
				if got != nil {
					t.Fatalf("got %+v, want nil", got)
				}
				return
			}
			if got == nil || got.Kind != c.kind || !strings.Contains(got.Summary, c.want) {
				t.Fatalf("got %+v, want kind %s with %q", got, c.kind, c.want)
			}
			checkSummary(t, got)
		})
	}
	if got := Decide(heap, Exit{Code: 1, HeapDumps: []string{"a.txt", "java_pid1.hprof"}}); got.HeapDump != "java_pid1.hprof" {
		t.Errorf("heap dump %q", got.HeapDump)
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, s := range []string{"a\nb\tc\r\nd", long, "  lead  and  trail  ", "\x00bin\x7fary"} {
		got := oneLine(s, MaxSummary)
		if len(got) > MaxSummary || strings.ContainsAny(got, "\n\r\t\x00\x7f") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Errorf("oneLine(%q) = %q", s, got)
		}
	}
	if got := oneLine("a\n\nb", 10); got != "a b" {
		t.Errorf("got %q", got)
	}
}

func TestFramework(t *testing.T) {
	for name, want := range map[string]bool{
		"java.base/java.lang.Thread.run(Thread.java:833)": false, // module stripped, then framework: no app frame
		"app//com.example.A.a(A.java:1)":                  true,
		"org.springframework.boot.SpringApplication.run(SpringApplication.java:335) ~[spring-boot-3.3.4.jar!/:3.3.4]": false,
		"org.springframeworkx.Foo.a(Foo.java:1)":     true,
		"com.sun.proxy.$Proxy12.run(Unknown Source)": false,
		"com.example.orders.A.<init>(A.java:3)":      true,
		"sun.nio.ch.Net.bind0(Native Method)":        false,
	} {
		_, got := appFrame([]byte(name))
		if got != want {
			t.Errorf("appFrame(%q) app=%v, want %v", name, got, want)
		}
	}
	if f, _ := appFrame([]byte("app//com.example.A.a(A.java:1) ~[!/:1.0]")); string(f) != "com.example.A.a(A.java:1)" {
		t.Errorf("frame %q", f)
	}
}

func TestLineNumbersAcrossStreams(t *testing.T) {
	e := New()
	e.Write(Stdout, []byte("starting\npart"))
	e.Write(Stderr, []byte("Error: Unable to access jarfile /x.jar\n"))
	e.Write(Stdout, []byte("ial\n"))
	e.Close()
	// output.log: "starting\npartError: Unable…\nial\n": the error's first
	// bytes are on line 2.
	if c := e.Best(); c == nil || c.Line != 2 {
		t.Fatalf("got %+v, want line 2", c)
	}
	if e.Lines() != 3 || e.LastStderr() != "Error: Unable to access jarfile /x.jar" {
		t.Errorf("lines %d, last stderr %q", e.Lines(), e.LastStderr())
	}
}

// TestKindsDocumented checks that the kinds table of docs/causes.md and
// doc.go are the table Kinds.
func TestKindsDocumented(t *testing.T) {
	md, err := os.ReadFile("../docs/causes.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds {
		row := "| `" + string(k.Kind) + "` | " + k.Found + " | " + k.Description + " |"
		if !strings.Contains(string(md), row) {
			t.Errorf("docs/causes.md lacks the row %q", row)
		}
		if !strings.Contains(string(doc), "//\t"+string(k.Kind)+" ") {
			t.Errorf("doc.go does not list %s", k.Kind)
		}
	}
}

// A JVM prints an uncaught exception in two writes, 'Exception in thread
// "main" ' and the exception's line; its VM thread may print to stdout in
// between ("Heap dump file created"). output.log then has the exception's
// text on the line after the one where the stderr line began, and that is
// the line to show (a CI run pointed at line 1).
func TestLineOfAPieceAfterTheOtherStream(t *testing.T) {
	e := New()
	e.Write(Stdout, []byte("allocating\n"))
	e.Write(Stderr, []byte(`Exception in thread "main" `))
	e.Write(Stdout, []byte("Heap dump file created [9514951 bytes in 0.059 secs]\n"))
	e.Write(Stderr, []byte("java.lang.OutOfMemoryError: Java heap space\n\tat Oom.main(Oom.java:16)\n"))
	c := e.Result(Exit{Code: 1})
	// output.log: 1 allocating, 2 Exception in thread "main" Heap dump…,
	// 3 java.lang.OutOfMemoryError…
	if c == nil || c.Kind != OOMHeap || c.Line != 3 {
		t.Fatalf("got %+v, want oom-heap at line 3", c)
	}
	// The same line in one piece keeps its first line.
	e = New()
	e.Write(Stdout, []byte("allocating\n"))
	e.Write(Stderr, []byte("Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n"))
	if c := e.Result(Exit{Code: 1}); c == nil || c.Line != 2 {
		t.Fatalf("got %+v, want line 2", c)
	}
}
