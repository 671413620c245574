#!/usr/bin/env bash
# Installs everything holdfast's demo, tests and benchmarks need on a fresh Debian 12
# machine. Idempotent: packages already present are skipped by apt.
#   scripts/deps.sh            the whole list below
#   scripts/deps.sh PKG...     only these (scripts/kubelet-env.sh uses it)
# apt's progress goes to stderr, so callers may keep stdout for themselves.
set -euo pipefail

pkgs=(
  ca-certificates procps util-linux psmisc curl file  # unshare, script, ps, kill, curl
  openjdk-17-jdk-headless                     # javac, jar, java for the crash zoo
  openssh-client openssh-server               # real ssh/scp/sftp client; sshd for the benchmark
  tini dumb-init catatonit                    # peers for the benchmark and parity tests
  runc busybox-static                         # real OCI runtime e2e
  prometheus                                  # promtool and a real scraper
  wrk hyperfine                               # load and timing tools for benchmarks
  containerd containernetworking-plugins      # the real-kubelet e2e (kubelet itself is built from Go modules)
)

if [ $# -gt 0 ]; then
  pkgs=("$@")
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Debian's documented switch that stops maintainer scripts from starting daemons
  # (prometheus and sshd would otherwise grab :9090 and :22 on a machine without systemd,
  # and the kubelet e2e runs its own containerd).
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; fi
  trap '[ $had_policy = 0 ] && rm -f "$policy"' EXIT
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  echo "deps: Go 1.26 is required (/usr/local/go/bin/go); install it first" >&2
  exit 1
fi
