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
#
# A build says which step it is on and, every HOLDFAST_PROGRESS_EVERY seconds (30), that
# it is still going, how long it has taken and, while compiling, how many packages are
# done.
set -euo pipefail
. "$(dirname "$0")/prereq.sh"

k8s_version=${HOLDFAST_E2E_K8S_VERSION:-v1.36.3}
crictl_version=${HOLDFAST_E2E_CRICTL_VERSION:-v1.34.0}
cache=${HOLDFAST_E2E_CACHE:-/var/cache/holdfast-e2e}
progress_every=${HOLDFAST_PROGRESS_EVERY:-30}

log() { echo "kubelet-env: $*" >&2; }

prereq_root "the kubelet and containerd need it"
prereq_debian
prereq_go

# minsec formats seconds as 4m05s.
minsec() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# with_progress WHAT [COUNT_FILE TOTAL] -- CMD...: runs CMD and, every progress_every
# seconds while it runs, logs that WHAT is still going and for how long; with
# COUNT_FILE, also how many lines it has (go build -v writes one per package
# compiled) of about TOTAL. Returns CMD's status.
with_progress() {
  local what=$1 count_file="" total="" start=$SECONDS next rc=0 pid
  shift
  if [ "$1" != -- ]; then count_file=$1 total=$2; shift 2; fi
  shift
  "$@" &
  pid=$!
  next=$((SECONDS + progress_every))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$next" ]; then
      local more=""
      if [ -n "$count_file" ]; then
        more=", $(wc -l <"$count_file" 2>/dev/null || echo 0) of at most $total packages compiled"
      fi
      log "  still $what: $(minsec $((SECONDS - start)))$more"
      next=$((next + progress_every))
    fi
    sleep 1
  done
  wait "$pid" || rc=$?
  return $rc
}

# --- Debian packages -------------------------------------------------------------------
log "checking the Debian packages (containerd, CNI plugins, runc)"
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
  log "building kubelet $k8s_version from the Go module proxy into $kdir"
  log "  (once per version: 5-7 minutes on a quiet 2-core machine, much longer on a busy one; ~2 GB of Go build cache)"
  rm -rf "$src"; mkdir -p "$src"
  # The staging modules (k8s.io/api, client-go, ...) are ./staging replaces in
  # kubernetes' own go.mod; outside that tree each must point at its published twin
  # v0.X.Y. Read the list from the real go.mod rather than keeping a copy here.
  local modfile
  log "step 1/4: downloading k8s.io/kubernetes@$k8s_version (go mod download)"
  with_progress "downloading k8s.io/kubernetes" -- \
    sh -c 'cd "$1" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$2" >download.json' _ "$src" "$k8s_version"
  modfile=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' "$src/download.json")
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
  log "step 2/4: resolving and downloading kubelet's dependencies (go mod tidy)"
  with_progress "resolving kubelet's dependencies" -- \
    sh -c 'cd "$1" && go mod tidy -e >/dev/null 2>tidy.log' _ "$src" || { cat "$src/tidy.log" >&2; exit 1; }
  log "step 3/4: listing the packages kubelet is built from (go list -deps)"
  local total
  total=$(with_progress "listing kubelet's packages" -- \
    bash -c 'set -o pipefail; cd "$1" && go list -deps k8s.io/kubernetes/cmd/kubelet | wc -l' _ "$src") || total="?"
  local major=${k8s_version#v}; major=${major%%.*}
  local minor=${k8s_version#v*.}; minor=${minor%%.*}
  # Without the version stamps kubelet reports v0.0.0-master and the probes' User-Agent
  # is "kube-probe/." instead of "kube-probe/1.36".
  local pkg=k8s.io/component-base/version
  log "step 4/4: compiling kubelet, $total packages (go build; packages in the Go build cache are not compiled again)"
  with_progress "compiling kubelet" "$src/build.log" "$total" -- \
    sh -c 'cd "$1" && shift && exec go build -v "$@" 2>build.log' _ "$src" -trimpath -o "$kdir/kubelet.tmp" \
    -ldflags "-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kubelet || { grep -v '^[a-zA-Z0-9._/-]*$' "$src/build.log" >&2 || tail -n 20 "$src/build.log" >&2; exit 1; }
  mv "$kdir/kubelet.tmp" "$kdir/kubelet"
  log "kubelet $k8s_version built in $((SECONDS - start)) s"
}

build_crictl() {
  local start=$SECONDS
  log "building crictl $crictl_version"
  mkdir -p "$cdir"
  # Stamped like cri-tools' Makefile does, or `crictl --version` says "unknown".
  with_progress "building crictl" -- env GOBIN="$cdir" GOFLAGS=-mod=mod go install -trimpath \
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
