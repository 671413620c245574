// Command ssh compares holdfast's embedded ssh server with OpenSSH's sshd on
// this machine, in one run, and prints a markdown section for
// docs/benchmarks.md ("## SSH").
//
//	go run ./ssh -holdfast ../bin/holdfast   (as root; scripts/bench-ssh.sh does this)
//
// Both servers listen on 127.0.0.1, accept the same ed25519 client key, log
// the client in as root with the same shell and the same empty HOME (so no
// ~/.bashrc runs in either), and are driven by the same OpenSSH client with
// the same options. sshd gets its own
// config file, host key and authorized_keys in a temp dir (UsePAM no, `-D -e
// -f cfg`); holdfast runs as PID 1 of a new pid namespace with an app that
// sleeps, as in a container.
//
// What it measures, rows interleaved so both servers share the box's noise:
//   - `ssh host true`: connect + key exchange + auth + exec + exit, wall time
//     of the client, median and p90, with the client's default key exchange
//     and with curve25519-sha256 forced on both (OpenSSH 9.2 prefers
//     sntrup761x25519, which Go's x/crypto does not offer);
//   - 1 GiB of zeros from `head -c` to the client, per cipher;
//   - memory with 0 and 10 idle sessions: the server processes only (sshd's
//     listener and its per-connection children; holdfast's one process), not
//     the shells and commands the sessions run, as RSS and as PSS;
//   - a burst of simultaneous logins from one address, and how many got in.
//
// It is a benchmark, not a test: it exits 0 whatever the numbers are, and
// non-zero only when it cannot run (not root, no sshd, a server that does
// not come up). It changes nothing outside its work dir, except creating
// /run/sshd (sshd's privilege-separation directory) when that is missing.
package main
