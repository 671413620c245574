#!/usr/bin/env bash
# The lint gate: staticcheck (its default checks, which include U1000, unused
# unexported code) and gopls's unusedparams analyzer (a parameter no call needs),
# over the three modules (root, e2e, bench). Exits 1 on any finding, 0 when clean.
#
# The tools are pinned here and installed once, with `go install`, into
# $HOLDFAST_LINT_CACHE (default ~/.cache/holdfast-lint/<tool>-<version>/); a new
# version is a new directory, so changing a pin below is all an upgrade takes.
#   scripts/lint.sh               everything
#   scripts/lint.sh staticcheck   one of the two (staticcheck | unusedparams)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq.sh
prereq_go

# Pins. staticcheck 2026.1 (v0.8.x) is the release that knows Go 1.26; gopls
# v0.23 is the last that builds with Go 1.26 (v0.24 needs Go 1.27).
staticcheck_version=v0.8.2
gopls_version=v0.23.0

cache=${HOLDFAST_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/holdfast-lint}
modules=(. e2e bench)

# tool NAME PACKAGE VERSION prints the path of the pinned binary, installing it
# first if this version is not in the cache yet.
tool() {
  local dir="$cache/$1-$3"
  if [ ! -x "$dir/$1" ]; then
    echo "lint: installing $2@$3 into $dir (once)" >&2
    mkdir -p "$dir"
    (cd / && GOTOOLCHAIN=local GOFLAGS= GOBIN="$dir" go install "$2@$3") >&2
  fi
  echo "$dir/$1"
}

findings=$(mktemp)
trap 'rm -f "$findings"' EXIT

run_staticcheck() {
  local sc m out
  sc=$(tool staticcheck honnef.co/go/tools/cmd/staticcheck "$staticcheck_version")
  for m in "${modules[@]}"; do
    # staticcheck exits non-zero on findings and on code it cannot load: both
    # are kept, with paths relative to the repository root.
    out=$(cd "$m" && "$sc" -f text ./... 2>&1) && continue
    printf '%s\n' "$out" | sed "s|^|$m/|; s|^\./||" >>"$findings"
  done
}

# gopls check reports every analyzer gopls runs by default; at severity "hint"
# that includes unusedparams, whose message is "unused parameter: NAME". The
# others (modernize hints, and what staticcheck or go vet already report) are
# left out here.
run_unusedparams() {
  local gopls m out
  gopls=$(tool gopls golang.org/x/tools/gopls "$gopls_version")
  for m in "${modules[@]}"; do
    if ! out=$(cd "$m" && "$gopls" check -severity=hint $(git ls-files '*.go' | grep -v -e '^e2e/' -e '^bench/') 2>&1); then
      printf 'gopls check failed in %s:\n%s\n' "$m" "$out" >>"$findings"
      continue
    fi
    # [arm] marks the same diagnostic again for another GOARCH.
    printf '%s\n' "$out" | grep -F 'unused parameter: ' | grep -v -F '[arm]' |
      sed "s|^$PWD/||" >>"$findings" || true
  done
}

case "${1:-all}" in
all) run_staticcheck; run_unusedparams ;;
staticcheck) run_staticcheck ;;
unusedparams) run_unusedparams ;;
*) prereq_fail "unknown check $1 (usage: scripts/lint.sh [staticcheck | unusedparams])" ;;
esac

if [ -s "$findings" ]; then
  sort -u "$findings"
  echo "lint: $(sort -u "$findings" | wc -l) finding(s)" >&2
  exit 1
fi
echo "lint: clean"
