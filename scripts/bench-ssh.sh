#!/usr/bin/env bash
# Benchmarks holdfast's embedded ssh server against OpenSSH's sshd on this
# machine and prints the "## SSH" section of docs/benchmarks.md:
#   scripts/bench-ssh.sh [bench/ssh flags, e.g. -runs 100 -bytes 268435456]
# Needs root (sshd's privilege separation; holdfast runs in a new pid
# namespace). Takes about 3 minutes on an idle 2-core box; progress goes to
# stderr, the markdown to stdout. Quiet the machine first: it compares
# latencies and throughput, and other load skews both servers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if [ "$(id -u)" != 0 ]; then
  echo "bench-ssh.sh: run as root" >&2
  exit 1
fi
for tool in ssh sftp ssh-keygen /usr/sbin/sshd unshare; do
  command -v "$tool" >/dev/null || { echo "bench-ssh.sh: $tool missing; run scripts/deps.sh" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/build.sh "$tmp/holdfast" >&2
(cd bench && go build -o "$tmp/bench-ssh" ./ssh)
"$tmp/bench-ssh" -holdfast "$tmp/holdfast" "$@"
