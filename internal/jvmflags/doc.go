// Package jvmflags adds the JVM flags that make a crash leave evidence:
// -XX:+HeapDumpOnOutOfMemoryError, -XX:HeapDumpPath and -XX:ErrorFile,
// pointed at a directory of one run, appended to JAVA_TOOL_OPTIONS.
//
// Env returns the app's environment with the flags for one run; Applies
// says beforehand whether it would add any (so the caller makes the run's
// evidence dir first); IsJava says whether a command runs a JVM. A flag
// the user set anywhere the JVM reads one (JAVA_TOOL_OPTIONS,
// JDK_JAVA_OPTIONS, _JAVA_OPTIONS, the java command line), enabled or
// disabled, is never added or overridden. Without a run dir the flags
// point at a fresh directory under os.TempDir()/holdfast-evidence.
//
// The package must not start processes, decide policy or know the run
// dirs' layout: the caller (package crashhold) names the directory.
package jvmflags
