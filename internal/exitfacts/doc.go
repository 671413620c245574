// Package exitfacts gathers what is known about a run's end besides its
// output and its exit status, for package cause: the memory cgroup's
// OOM-kill counter before and after the run, the cgroup's limit and peak
// (OOMWatch), and the JVM's evidence files in the run's evidence dir, its
// heap dumps and its hs_err file (JVMEvidence).
//
// The evidence dir belongs to the app: nothing in it is followed through
// a link or opened unless it is a regular file, at most maxNames names
// are looked at, and an hs_err file is read only as far as
// cause.ParseHsErr reads. The package reads; it must not write, signal,
// or decide what the facts mean (package cause does).
package exitfacts
