#!/usr/bin/env bash
# Installs with apt what holdfast's demo, tests and benchmarks need on a fresh Debian 12
# machine. Idempotent: packages already present are skipped.
#   scripts/deps.sh            everything the tests and benchmarks use (scripts/test.sh)
#   scripts/deps.sh --demo     only what scripts/demo.sh uses
#   scripts/deps.sh PKG...     only these (scripts/kubelet-env.sh uses it)
# It checks the prerequisites first (Debian, Go 1.26, root when something is missing),
# and waits up to HOLDFAST_APT_LOCK_WAIT seconds (default 600) for another apt or dpkg
# that holds the package lock. apt's progress goes to stderr, so callers may keep stdout
# for themselves.
set -euo pipefail
. "$(dirname "$0")/prereq.sh"

# What scripts/demo.sh runs: go build (modules over https), javac, jar and java, unshare
# and curl.
demo_pkgs=(ca-certificates util-linux curl openjdk-17-jdk-headless)

all_pkgs=(
  ca-certificates procps util-linux psmisc curl file  # unshare, script, ps, kill, curl
  openjdk-17-jdk-headless                     # javac, jar, java for the crash zoo
  openjdk-17-jre-headless                     # the JRE-only runtime of the jcmd e2e test (its file list)
  openssh-client openssh-server               # real ssh/scp/sftp client; sshd for the benchmark
  tini dumb-init catatonit                    # peers for the benchmark and parity tests
  runc busybox-static                         # real OCI runtime e2e
  prometheus                                  # promtool and a real scraper
  wrk hyperfine                               # load and timing tools for benchmarks
  containerd containernetworking-plugins      # the real-kubelet e2e (kubelet itself is built from Go modules)
)

case "${1:-}" in
"") pkgs=("${all_pkgs[@]}") ;;
--demo) pkgs=("${demo_pkgs[@]}") ;;
-*) prereq_fail "unknown option $1 (usage: scripts/deps.sh [--demo | PKG...])" ;;
*) pkgs=("$@") ;;
esac

prereq_debian
prereq_go

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
  exit 0
fi
prereq_root "to install ${missing[*]} with apt"

# --- waiting for another apt or dpkg ------------------------------------------------
# apt-get honours -o DPkg::Lock::Timeout for the dpkg locks only; `apt-get update`
# fails at once when the lists lock is taken. So wait here, on every lock apt and dpkg
# take, saying who holds it, and give apt-get the time that is left as its own timeout
# (another apt may slip in between the check and apt-get's own lock).
lock_wait=${HOLDFAST_APT_LOCK_WAIT:-600}
lock_files=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
wait_start=$SECONDS

# lock_holder prints "<file> <pid>" for the first of lock_files that a process holds a
# lock on (apt and dpkg use fcntl locks, listed in /proc/locks by device and inode),
# or nothing.
lock_holder() {
  local f id
  for f in "${lock_files[@]}"; do
    [ -e "$f" ] || continue
    id=$(stat -c '%Hd %Ld %i' "$f" 2>/dev/null) || continue
    # /proc/locks: "1: POSIX  ADVISORY  WRITE 1234 fe:00:398608 0 EOF"; the device is
    # major:minor in hex.
    set -- $id
    id=$(printf '%02x:%02x:%s' "$1" "$2" "$3")
    awk -v id="$id" -v f="$f" '$6 == id { print f, $5; found = 1; exit } END { exit !found }' /proc/locks && return 0
  done
  return 0
}

# describe names a holder: "apt-get (pid 1234)".
describe() {
  local pid=$1 comm
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  if [ -n "$comm" ]; then echo "$comm (pid $pid)"; else echo "another process"; fi
}

# wait_for_locks returns once no apt or dpkg lock is held, saying so every 30 s, or
# exits 1 when lock_wait seconds have passed since the first wait began.
wait_for_locks() {
  local holder said=-1 waited
  while holder=$(lock_holder); [ -n "$holder" ]; do
    set -- $holder
    waited=$((SECONDS - wait_start))
    if [ "$waited" -ge "$lock_wait" ]; then
      prereq_fail "gave up after ${lock_wait}s: $(describe "$2") still holds $1. Let that apt or dpkg finish (or stop it), then run this again."
    fi
    if [ $((waited / 30)) != "$said" ]; then
      said=$((waited / 30))
      echo "deps: another apt or dpkg is running: $(describe "$2") holds $1; waiting for it (${waited}s of at most ${lock_wait}s)" >&2
    fi
    sleep 1
  done
}

# apt_get runs apt-get with the time left as its lock timeout; when it fails while another
# apt holds a lock and time is left, it waits and tries again.
apt_get() {
  local left
  while :; do
    wait_for_locks
    left=$((lock_wait - (SECONDS - wait_start)))
    [ "$left" -gt 0 ] || left=1
    if apt-get -o DPkg::Lock::Timeout="$left" "$@" </dev/null; then
      return 0
    fi
    if [ -z "$(lock_holder)" ] || [ $((SECONDS - wait_start)) -ge "$lock_wait" ]; then
      prereq_fail "apt-get $1 failed (its message is above)"
    fi
  done
}

echo "deps: installing ${missing[*]} (a few minutes on a fresh machine)" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's documented switch that stops maintainer scripts from starting daemons
# (prometheus and sshd would otherwise grab :9090 and :22 on a machine without systemd,
# and the kubelet e2e runs its own containerd).
policy=/usr/sbin/policy-rc.d
had_policy=0; [ -e "$policy" ] && had_policy=1
if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; fi
trap '[ $had_policy = 0 ] && rm -f "$policy"' EXIT
apt_get update -qq >&2
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}" >&2
