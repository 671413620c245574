#!/usr/bin/env bash
# Times `holdfast jcmd Thread.print` against the JDK's `jcmd PID Thread.print` on one idle
# JVM, side by side in one hyperfine run (docs/benchmarks.md "jcmd"). holdfast attaches from
# its own process; the JDK's jcmd starts a JVM of its own for every call. The JVM's attach
# listener is started before timing, so both rows are warm attaches; the first attach to a
# fresh JVM (trigger file, SIGQUIT, the listener's start) is `go test -bench ThreadPrint
# ./internal/attach`'s attach-cold row.
#   scripts/bench-jcmd.sh [runs per row, default 30]
# Prints hyperfine's summary (wall time, and user and system CPU time) and its markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
runs=${1:-30}

for tool in hyperfine java javac jcmd; do
  command -v "$tool" >/dev/null || { echo "bench-jcmd.sh: $tool missing; run scripts/deps.sh" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
bash scripts/build.sh "$tmp/holdfast" >&2
javac -d "$tmp/classes" internal/attach/testdata/AttachTarget.java
java -Xmx64m -cp "$tmp/classes" AttachTarget idle >"$tmp/jvm.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  grep -q ready "$tmp/jvm.log" && break
  sleep 0.1
done
"$tmp/holdfast" jcmd --pid "$pid" VM.uptime >/dev/null # the listener is up for both rows

echo "Run of $(date -u '+%Y-%m-%d %H:%M') UTC; load average $(cut -d' ' -f1-3 /proc/loadavg) at the start;" \
  "$(java -version 2>&1 | head -1); threads in the JVM: $(ls /proc/$pid/task | wc -l)."
echo
hyperfine -N --warmup 3 --runs "$runs" --style basic --export-markdown "$tmp/table.md" \
  -n "holdfast jcmd" "$tmp/holdfast jcmd --pid $pid Thread.print" \
  -n "JDK jcmd" "jcmd $pid Thread.print"
cat "$tmp/table.md"
