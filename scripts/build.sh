#!/usr/bin/env bash
# Builds a static holdfast binary: scripts/build.sh [OUTPUT]. GOARCH may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
out=${1:-bin/holdfast}
version=$(git describe --always --dirty 2>/dev/null || echo dev)
CGO_ENABLED=0 GOOS=linux go build -trimpath \
  -ldflags "-s -w -X github.com/holdfast-dev/holdfast/internal/version.Version=$version" \
  -o "$out" ./cmd/holdfast
file "$out" 2>/dev/null || ls -l "$out"
