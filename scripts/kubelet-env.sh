#!/usr/bin/env bash
# Prepares what the real-kubelet e2e test (e2e/kubelet) needs, and prints where it is.
#
#   - containerd 1.6 and the CNI plugins from Debian (containerd, containernetworking-plugins)
#   - kubelet built from the Go module proxy, cached under $HOLDFAST_E2E_CACHE
#   - crictl (sigs.k8s.io/cri-tools) built the same way
#
# Idempotent: a second run finds everything in place and only prints the environment.
# It starts nothing and writes nothing outside the cache dir: the test runs containerd
# and the kubelet as its own children, with their own root, state, socket and a private
# CNI config dir, so nothing global (no /etc/cni/net.d, no /etc/containerd) changes.
#
# stdout: KEY=VALUE lines the test reads (HOLDFAST_E2E_KUBELET, HOLDFAST_E2E_CRICTL,
# HOLDFAST_E2E_CONTAINERD, HOLDFAST_E2E_CTR, HOLDFAST_E2E_CNI_BIN). Progress goes to stderr.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"

k8s_version=${HOLDFAST_E2E_K8S_VERSION:-v1.36.3}
crictl_version=${HOLDFAST_E2E_CRICTL_VERSION:-v1.34.0}
cache=${HOLDFAST_E2E_CACHE:-/var/cache/holdfast-e2e}

log() { echo "kubelet-env: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "run as root (the kubelet and containerd need it)"
  exit 1
fi
if ! command -v go >/dev/null; then
  log "Go is required (/usr/local/go/bin/go)"
  exit 1
fi

# --- Debian packages -------------------------------------------------------------------
bash "$(dirname "$0")/deps.sh" containerd containernetworking-plugins runc >&2

cni_bin=/usr/lib/cni
for plugin in bridge host-local loopback; do
  if [ ! -x "$cni_bin/$plugin" ]; then
    log "CNI plugin $cni_bin/$plugin is missing (package containernetworking-plugins)"
    exit 1
  fi
done

# --- kubelet and crictl ---------------------------------------------------------------
# The key holds the Go version too: a new toolchain builds a new kubelet instead of
# trusting a binary from another compiler.
go_version=$(go env GOVERSION)
kdir="$cache/kubelet-$k8s_version-$go_version"
cdir="$cache/crictl-$crictl_version-$go_version"
mkdir -p "$cache"

build_kubelet() {
  local src="$kdir/src" start=$SECONDS
  log "building kubelet $k8s_version (cold: about 5-7 minutes, ~2 GB of build cache)"
  rm -rf "$src"; mkdir -p "$src"
  # The staging modules (k8s.io/api, client-go, ...) are ./staging replaces in
  # kubernetes' own go.mod; outside that tree each must point at its published twin
  # v0.X.Y. Read the list from the real go.mod rather than keeping a copy here.
  local modfile
  modfile=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$k8s_version" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$modfile" ] || [ ! -f "$modfile" ]; then
    log "cannot download k8s.io/kubernetes@$k8s_version"
    exit 1
  fi
  local staging_version="v0.${k8s_version#v1.}"
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$modfile" | grep -v '^k8s.io/sample-' | sort -u)
  if [ -z "$staging" ]; then
    log "cannot find the staging replaces in $modfile"
    exit 1
  fi
  {
    echo "module holdfast.local/kubelet-build"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $k8s_version"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m $staging_version"; done
    echo ")"
  } >"$src/go.mod"
  cat >"$src/tools.go" <<'EOF'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kubelet"
EOF
  (cd "$src" && go mod tidy -e >/dev/null 2>"$src/tidy.log") || { cat "$src/tidy.log" >&2; exit 1; }
  local major=${k8s_version#v}; major=${major%%.*}
  local minor=${k8s_version#v*.}; minor=${minor%%.*}
  # Without the version stamps kubelet reports v0.0.0-master and the probes' User-Agent
  # is "kube-probe/." instead of "kube-probe/1.36".
  local pkg=k8s.io/component-base/version
  (cd "$src" && go build -trimpath -o "$kdir/kubelet.tmp" \
    -ldflags "-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kubelet)
  mv "$kdir/kubelet.tmp" "$kdir/kubelet"
  log "kubelet $k8s_version built in $((SECONDS - start)) s"
}

build_crictl() {
  local start=$SECONDS
  log "building crictl $crictl_version"
  mkdir -p "$cdir"
  # Stamped like cri-tools' Makefile does, or `crictl --version` says "unknown".
  GOBIN="$cdir" GOFLAGS=-mod=mod go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$crictl_version" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$crictl_version"
  log "crictl $crictl_version built in $((SECONDS - start)) s"
}

# A build is cached only once the binary runs and names the right version.
if ! "$kdir/kubelet" --version 2>/dev/null | grep -qx "Kubernetes $k8s_version"; then
  mkdir -p "$kdir"
  build_kubelet
  "$kdir/kubelet" --version | grep -qx "Kubernetes $k8s_version" || { log "kubelet --version is not $k8s_version"; exit 1; }
fi
if ! "$cdir/crictl" --version 2>/dev/null | grep -qx "crictl version $crictl_version"; then
  build_crictl
  "$cdir/crictl" --version | grep -qx "crictl version $crictl_version" || { log "crictl --version is not $crictl_version"; exit 1; }
fi

echo "HOLDFAST_E2E_KUBELET=$kdir/kubelet"
echo "HOLDFAST_E2E_CRICTL=$cdir/crictl"
echo "HOLDFAST_E2E_CONTAINERD=$(command -v containerd)"
echo "HOLDFAST_E2E_CTR=$(command -v ctr)"
echo "HOLDFAST_E2E_CNI_BIN=$cni_bin"
