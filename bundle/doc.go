// Package bundle writes the evidence of a holdfast state dir as one
// gzip-compressed tar, for `holdfast bundle`: what a developer with only
// `kubectl exec` or ssh takes home and attaches to a ticket.
//
// Write streams the archive to an io.Writer with constant memory whatever
// the sizes: every file is copied with io.Copy as it is read, hashed on the
// way, and the MANIFEST (size and SHA-256 of every other file) is written
// last. The archive holds one top directory, holdfast-bundle-<time>/, with:
//
//	status.json           the status snapshot, as `holdfast status --json` gives it
//	runs.json             the runs list, as `holdfast runs --json` gives it
//	facts.json            holdfast, the app's argv and environment names, cgroup limits, kernel, host (Facts)
//	runs/<N>/run.json     per run selected
//	runs/<N>/output.log
//	runs/<N>/hs_err_pid*.log, thread dumps, other small files (at most SmallFileMax bytes each)
//	runs/<N>/*.hprof      only with WithHeap
//	SUMMARY.txt           one page to read first: the runs table with causes, what was left out and why
//	MANIFEST              "<sha256>  <size>  <path>" per file, last
//
// A run dir is read without following a symbolic link anywhere: the app
// writes into it (the JVM's heap dumps and error files, or anything an app
// plants in a subdir such as jvm/), so a link there is listed in SUMMARY.txt
// with its target and never opened. Files that are not regular (fifos,
// sockets, devices) are listed and not opened either.
//
// Secrets: facts.json carries the names of the app's environment
// variables, and values only for an allow-list (AllowedEnv), never one whose
// name looks secret to package redact; argv and JVM options go through
// redact.Argv. The status and run records are taken as holdfast already
// wrote them (their argv is redacted when recorded).
//
// A file of a run dir this process may not open (run.json and output.log
// are holdfast's, mode 0600, and `holdfast bundle` may run as the app's
// user) is taken from Options.Fetch when the caller gives one (the CLI:
// the running holdfast), else listed in SUMMARY.txt.
//
// The package must not talk to the control socket, start processes, or
// write anywhere but the io.Writer it is given; the caller gathers the
// status, the runs list and the app's environment and passes them in as
// typed values.
package bundle
