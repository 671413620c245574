package cause

// Kind is what kind of failure a Cause names. The set is closed: Kinds
// lists every value, and nothing else may appear in run.json or in a
// metric label.
type Kind string

const (
	SpringFailureAnalysis Kind = "spring-failure-analysis"
	Exception             Kind = "exception"
	JVMLaunch             Kind = "jvm-launch"
	OOMHeap               Kind = "oom-heap"
	OOMMetaspace          Kind = "oom-metaspace"
	OOMNativeThread       Kind = "oom-native-thread"
	OOMDirect             Kind = "oom-direct"
	OOMKilled             Kind = "oom-killed"
	JVMCrash              Kind = "jvm-crash"
	ExecFailed            Kind = "exec-failed"
	Signal                Kind = "signal"
	ExitCode              Kind = "exit-code"
	Unknown               Kind = "unknown"
)

// KindInfo describes one Kind for docs and tests.
type KindInfo struct {
	Kind Kind
	// Found says where the evidence comes from.
	Found string
	// Description says what the kind means, in one sentence.
	Description string
}

// Kinds is the one table of kinds, most specific first. doc.go and
// docs/causes.md show it; a test checks that they agree with it.
var Kinds = []KindInfo{
	{SpringFailureAnalysis, "output", "Spring Boot's failure analysis (APPLICATION FAILED TO START): the first sentence of its Description, and its Action."},
	{JVMCrash, "output, hs_err_pid*.log", "the JVM's fatal error handler ran: a crash in native code (SIGSEGV, SIGBUS, …), an internal error, or no native memory left for the JVM."},
	{OOMHeap, "output, heap dump", "java.lang.OutOfMemoryError for the Java heap (Java heap space, GC overhead limit exceeded, array size), or a heap dump written in the run."},
	{OOMMetaspace, "output", "java.lang.OutOfMemoryError: Metaspace or Compressed class space."},
	{OOMNativeThread, "output", "java.lang.OutOfMemoryError: unable to create native thread."},
	{OOMDirect, "output", "java.lang.OutOfMemoryError for direct buffer memory (-XX:MaxDirectMemorySize)."},
	{JVMLaunch, "output", "the java launcher or the JVM did not start the app: no jar file, no main class, an unrecognised or invalid option, a class file too new for this JVM."},
	{Exception, "output", "an uncaught or ERROR-logged Java exception chain: the deepest Caused by, and the first frame outside the framework prefixes."},
	{OOMKilled, "exit, cgroup", "SIGKILL that holdfast did not send while the cgroup's oom_kill counter rose: the kernel's OOM killer."},
	{ExecFailed, "exit", "the command could not be started (not found, not executable)."},
	{Signal, "exit", "the app was killed by a signal, or stopped by holdfast, and nothing in its output explains it better; says who sent it when holdfast did."},
	{ExitCode, "exit", "the app exited with a non-zero code and no rule matched; says the code and the last line of stderr."},
	{Unknown, "", "nothing is known about the end of the run and no rule matched."},
}
