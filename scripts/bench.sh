#!/usr/bin/env bash
# Benchmarks holdfast as PID 1 and as a supervisor against tini, dumb-init
# and catatonit in one run, and prints the markdown of the "PID 1"
# and "Supervisor" sections of docs/benchmarks.md on stdout
# (progress goes to stderr). Needs root: every PID 1 gets its own pid
# namespace. Takes about 5-10 minutes; arguments go to the benchmark, e.g.
#   sudo ./scripts/bench.sh -only startup,rss -iters 50   (or without sudo as root)
# It reports and never fails on a number: a missed target is printed as such.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if [ "$(id -u)" != 0 ]; then
  echo "bench.sh: run as root (each init runs as PID 1 of a new pid namespace)" >&2
  exit 1
fi
bash scripts/deps.sh >&2
bash scripts/build.sh bin/holdfast >&2
(cd bench && CGO_ENABLED=0 go build -trimpath -o ../bin/holdfast-bench .)
cd bench
exec ../bin/holdfast-bench -holdfast ../bin/holdfast -src . -invoked-as "./scripts/bench.sh${*:+ $*}" "$@"
