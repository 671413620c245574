// Package jvmsize works out the maximum heap a HotSpot JVM will choose,
// from its command line and the environment variables the JVM and the java
// launcher read, against the container's memory limit.
//
// It owns the model of HotSpot's heap ergonomics (JDK 10 and later; checked
// against JDK 17): which options count (-Xmx, -XX:MaxHeapSize, -Xms,
// -XX:MaxRAM, -XX:MaxRAMPercentage and the older fractions,
// -XX:MinRAMPercentage, -XX:±UseContainerSupport, the collector), in which
// order (JAVA_TOOL_OPTIONS, then JDK_JAVA_OPTIONS for the java launcher
// only, then the command line, then _JAVA_OPTIONS; the last one wins), and
// the defaults (a quarter of the memory, half of it below about 250 MB, at
// least about 125 MB, at most about 30 GiB with compressed oops) and the
// collector's alignment.
//
// It must not run the JVM, read files, or decide what to do about the
// answer: the caller logs it and warns.
package jvmsize
