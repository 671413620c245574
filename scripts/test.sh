#!/usr/bin/env bash
# Runs every test of holdfast: static checks, unit and integration tests with
# the race detector, the cross-build, and the black-box e2e suite of the
# built binary (as PID 1, with real JVMs, ssh, runc). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq.sh
prereq_root "PID-1 tests use unshare and runc, the kubelet test runs containerd"
prereq_debian
prereq_go
bash scripts/deps.sh

echo "== static checks"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
(cd e2e && go vet ./...)
(cd bench && go vet ./...)
# third_party/xcrypto is upstream x/crypto plus third_party/xcrypto.patch, nothing else.
bash scripts/xcrypto.sh check

# scripts/lint.sh (staticcheck, unused parameters) exits 1 on any finding.
echo "== lint (scripts/lint.sh)"
bash scripts/lint.sh

echo "== build (static, and cross-compiled for linux/arm64)"
bash scripts/build.sh bin/holdfast
GOARCH=arm64 bash scripts/build.sh bin/holdfast-linux-arm64 >/dev/null

echo "== unit and integration tests (race detector)"
go test -race -count=1 ./...
(cd bench && go test -count=1 ./...)

echo "== fuzz targets, ${FUZZTIME:-100000x} each (scripts/fuzz.sh; FUZZTIME=10m for a longer hunt)"
bash scripts/fuzz.sh

echo "== end-to-end tests of the built binary"
(cd e2e && HOLDFAST_BIN="$PWD/../bin/holdfast" go test -count=1 -timeout 30m $(go list ./... | grep -v /kubelet))

echo "== end-to-end under a real kubelet"
# The test runs scripts/kubelet-env.sh itself, but go test shows a test's output only
# when it ends: run it here first, so that its progress is seen. The first run builds
# kubelet and crictl (many minutes); later runs find them in /var/cache/holdfast-e2e.
bash scripts/kubelet-env.sh >/dev/null
(cd e2e && HOLDFAST_BIN="$PWD/../bin/holdfast" go test -count=1 -timeout 60m ./kubelet/)
