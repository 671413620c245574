#!/usr/bin/env bash
# Benchmarks holdfast's probe server (docs/benchmarks.md "Probes") with wrk, the way
# its target is stated: holdfast on one core (taskset + GOMAXPROCS=1), wrk on
# another, keep-alive connections against /livez and /readyz, then /metrics
# (Prometheus scrapes one at a time; holdfast serves at most 4 at once).
#   scripts/bench-probes.sh [seconds per row, default 10]
# Prints one markdown row per run. Needs 2 CPUs; quiet the machine first:
# the p99 column is the first thing other load moves.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
secs=${1:-10}

for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench-probes.sh: $tool missing; run scripts/deps.sh" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench-probes.sh: needs 2 CPUs (holdfast on one, wrk on the other)" >&2
  exit 1
fi

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
bash scripts/build.sh "$tmp/holdfast" >&2
port=$((20000 + RANDOM % 10000))
GOMAXPROCS=1 taskset -c 0 "$tmp/holdfast" --state-dir="$tmp/state" --probe-addr="127.0.0.1:$port" \
  --ssh-authorized-keys=/nonexistent -- sleep 100000 >"$tmp/holdfast.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/livez" && break
  sleep 0.1
done

echo "Run of $(date -u '+%Y-%m-%d %H:%M') UTC; load average $(cut -d' ' -f1-3 /proc/loadavg) at the start."
echo
echo "| endpoint | connections | requests/s | p50 | p99 | socket errors |"
echo "|---|---:|---:|---:|---:|---|"
row() { # path connections
  out=$(taskset -c 1 wrk -t1 -c"$2" -d"${secs}s" --latency "http://127.0.0.1:$port$1")
  rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errs=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr -s ' ' | paste -sd';' - || true)
  echo "| \`$1\` | $2 | $rps | $p50 | $p99 | ${errs:-none} |"
}
for c in 10 20 50; do row /livez "$c"; done
row /readyz 10
# At most 4 scrapes run at once (more get 503, by design): 4 connections.
row /metrics 4
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
