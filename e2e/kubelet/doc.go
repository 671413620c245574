// Package kubelet is the real-kubelet end-to-end test of holdfast: a kubelet built from
// the Go module proxy (scripts/kubelet-env.sh), standalone, on Debian's containerd 1.6,
// runs the pod template of deploy/k8s/base as static pods with the Java crash zoo in the
// image, and the test reads what the kubelet itself reports (its read-only port's /pods
// and /metrics/probes, and crictl).
//
// It owns: starting containerd and the kubelet as children of the test, each with its own
// root, state, socket and cgroup root, inside a network namespace the test makes (so the
// kubelet's ports, the CNI bridge and the pod addresses never touch the host network);
// the images (holdfast + app, and a pause image) as an OCI layout imported with ctr; the
// static pod manifests made from the base Deployment's template; and the teardown of all
// of it (pods, daemons, shims, mounts, network namespaces, cgroups, log links).
//
// It must not: change anything global that outlives the test (no /etc/cni/net.d, no
// system containerd, no /var/lib/kubelet), edit the manifests it proves (it changes only
// the image, the pull policy, the JDK hostPath mounts and per-scenario app settings), or
// use the network beyond loopback and its own namespace.
//
// The scenarios share one kubelet and run as concurrent static pods, so the two-minute
// observation of the held pod overlaps the crash-loop negative control. NOTES §3 lists the
// gotchas the setup works around. Without -short or with CI=true the test always runs;
// the first run on a machine builds the kubelet (5-7 minutes), later runs reuse
// /var/cache/holdfast-e2e.
package kubelet
