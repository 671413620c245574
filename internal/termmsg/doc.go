// Package termmsg writes Kubernetes' termination message: the last run's
// cause in one line (run.json's cause summary, package cause), then one
// short summary of the run (how it exited, why, after how many runs, where
// its evidence is) to terminationMessagePath, so that `kubectl describe
// pod` says why the container ended, the cause first.
//
// It writes only into a file that exists (the kubelet bind-mounts it) and
// never creates one. It must not decide anything about the run; it renders
// the record it is given.
package termmsg
