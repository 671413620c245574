#!/usr/bin/env bash
# Benchmarks holdfast as PID 1 and as a supervisor against tini, dumb-init
# and catatonit, and against the supervisors users would pick instead
# (Pebble, supervisord's Go port, Python supervisord), in one run, and prints
# the markdown of the "PID 1", "Supervisor" and "Peers" sections of
# docs/benchmarks.md on stdout (progress goes to
# stderr). Needs root: every PID 1 gets its own pid namespace. Takes about
# 10-15 minutes; arguments go to the benchmark, e.g.
#   sudo ./scripts/bench.sh -only startup,rss -iters 50   (or without sudo as root)
#   sudo ./scripts/bench.sh -only peers,signals2
# It reports and never fails on a number: a missed target is printed as such.
#
# The peers are built or installed here, never vendored: Pebble and the Go
# port of supervisord from the Go module proxy at pinned versions into
# $PEERS (go build inside the module's own directory of the module cache:
# `go install mod@version` cannot be used, as the proxy here answers 403 to
# the version list it reads for deprecations, and supervisord's tags carry
# replace directives), Python supervisord from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

PEBBLE_VERSION=v1.32.1
# v0.7.x (v0.7.4 is the newest) cannot be built from the module proxy: each
# tag's go.mod replaces its sub-modules with directories the module zip
# leaves out. v0.6.9 is the newest that builds (with Go 1.26 too).
SUPERVISORD_GO_VERSION=v0.6.9
PEERS=${PEERS:-/var/cache/holdfast-bench/bin}

if [ "$(id -u)" != 0 ]; then
  echo "bench.sh: run as root (each init runs as PID 1 of a new pid namespace)" >&2
  exit 1
fi
bash scripts/deps.sh >&2
bash scripts/deps.sh supervisor gcc libc6-dev >&2

# build_peer MODULE VERSION PACKAGE OUT: go build PACKAGE of MODULE@VERSION
# from the module cache into $PEERS/OUT, once per version.
build_peer() {
  local mod=$1 ver=$2 pkg=$3 out=$4 dir
  if [ -x "$PEERS/$out" ] && [ "$(cat "$PEERS/$out.version" 2>/dev/null)" = "$mod@$ver" ]; then
    return
  fi
  mkdir -p "$PEERS"
  dir=$(cd /tmp && go mod download -json "$mod@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "bench.sh: cannot download $mod@$ver" >&2; exit 1; }
  (cd "$dir" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$PEERS/$out" "$pkg") >&2
  echo "$mod@$ver" >"$PEERS/$out.version"
}
build_peer github.com/canonical/pebble "$PEBBLE_VERSION" ./cmd/pebble pebble
build_peer github.com/ochinchina/supervisord "$SUPERVISORD_GO_VERSION" . supervisord-go

bash scripts/build.sh bin/holdfast >&2
(cd bench && CGO_ENABLED=0 go build -trimpath -o ../bin/holdfast-bench .)
cd bench
exec ../bin/holdfast-bench -holdfast ../bin/holdfast -src . -pebble "$PEERS/pebble" -supervisord-go "$PEERS/supervisord-go" \
  -invoked-as "./scripts/bench.sh${*:+ $*}" "$@"
