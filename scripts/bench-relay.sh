#!/usr/bin/env bash
# CPU per GiB of relaying the app's stdout, side by side: `cat`, `cat` on 1 MiB pipes (as
# holdfast sizes its stdout and the app's pipe), a plain relay that keeps
# 64 MiB (benchapp keeprelay), and one or more holdfast builds, each as PID 1 of its own
# pid namespace, runs interleaved (docs/benchmarks.md "Relay CPU per GiB against cat").
# The app writes BYTES in 64 KiB writes; PID 1's stdout is a pipe that dd drains with
# 1 MiB reads. CPU = user+system time of unshare's tree (PID 1 and the app), per GiB.
# A quicker probe than `scripts/bench.sh -only stdout`, for trying a change: build the
# variant elsewhere and name it here.
#   sudo scripts/bench-relay.sh [-b BYTES] [-n RUNS] [HOLDFAST_BINARY ...]
# Without binaries it builds this checkout's holdfast. Prints one line per run and, at the
# end, the median of each row and its ratio to cat's.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
bytes=$((4 << 30)) runs=3
while getopts "b:n:" o; do
  case $o in
    b) bytes=$OPTARG ;;
    n) runs=$OPTARG ;;
    *) echo "usage: scripts/bench-relay.sh [-b BYTES] [-n RUNS] [HOLDFAST_BINARY ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ "$(id -u)" != 0 ]; then
  echo "bench-relay.sh: run as root (each relay runs as PID 1 of a new pid namespace)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd bench && CGO_ENABLED=0 go build -trimpath -o "$work/benchapp" ./cmd/benchapp)
if [ $# -eq 0 ]; then
  bash scripts/build.sh "$work/holdfast" >&2
  set -- "$work/holdfast"
fi
rows=(cat cat-1MiB keep "$@")

# one ROW: runs it once and prints its CPU seconds per GiB.
one() {
  local row=$1 sd cmd
  sd=$(mktemp -d "$work/run.XXXX")
  case $row in
    cat) cmd=(/bin/sh -c '"$@" | cat' sh "$work/benchapp" write "$bytes" 65536 "$sd/stamp") ;;
    cat-1MiB) cmd=(/bin/sh -c '"$@" | "$0" bigpipes cat' "$work/benchapp" "$work/benchapp" write "$bytes" 65536 "$sd/stamp") ;;
    keep) cmd=("$work/benchapp" keeprelay 67108864 "$sd/keep.log" "$work/benchapp" write "$bytes" 65536 "$sd/stamp") ;;
    *) cmd=("$row" --probe-addr= --ssh-addr= --state-dir="$sd/state" --hold=false --max-restarts=0 --
      "$work/benchapp" write "$bytes" 65536 "$sd/stamp") ;;
  esac
  /usr/bin/time -o "$sd/time" -f "%U %S" unshare --pid --fork --mount-proc --kill-child "${cmd[@]}" 2>/dev/null |
    dd bs=1M of=/dev/null status=none
  awk -v b="$bytes" '{ printf "%.3f\n", ($1 + $2) / (b / 1073741824) }' "$sd/time"
  rm -rf "$sd"
}

declare -A got
for r in $(seq "$runs"); do
  for row in "${rows[@]}"; do
    v=$(one "$row")
    got[$row]="${got[$row]:-} $v"
    printf 'run %d  %-40s %s CPU s/GiB\n' "$r" "$row" "$v"
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
cat_m=$(echo "${got[cat]}" | median)
echo
printf '%-40s %12s %8s\n' "relay ($((bytes >> 20)) MiB, $runs runs)" "median s/GiB" "vs cat"
for row in "${rows[@]}"; do
  m=$(echo "${got[$row]}" | median)
  printf '%-40s %12s %7.2fx\n' "$row" "$m" "$(awk -v a="$m" -v b="$cat_m" 'BEGIN { print a / b }')"
done
