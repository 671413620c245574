// Package termmsg writes Kubernetes' termination message: one short
// summary of the last run (how it exited, why, after how many runs, where
// its evidence is) to terminationMessagePath, so that `kubectl describe
// pod` says why the container ended.
//
// It writes only into a file that exists (the kubelet bind-mounts it) and
// never creates one. It must not decide anything about the run; it renders
// the record it is given.
package termmsg
