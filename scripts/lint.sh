#!/usr/bin/env bash
# The lint gate: staticcheck (its default checks, which include U1000, unused
# unexported code), gopls's unusedparams analyzer (a parameter no call needs)
# and deadcode (functions nothing reaches, exported ones included), over the
# three modules (root, e2e, bench). Exits 1 on any finding, 0 when clean.
#
# The tools are pinned here and installed once, with `go install`, into
# $HOLDFAST_LINT_CACHE (default ~/.cache/holdfast-lint/<tool>-<version>/); a new
# version is a new directory, so changing a pin below is all an upgrade takes.
#   scripts/lint.sh               everything
#   scripts/lint.sh staticcheck   one of the three (staticcheck | unusedparams | deadcode)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq.sh
prereq_go

# Pins. staticcheck 2026.1 (v0.8.x) is the release that knows Go 1.26; gopls
# v0.23 is the last that builds with Go 1.26 (v0.24 needs Go 1.27); deadcode
# is golang.org/x/tools/cmd/deadcode at the x/tools version that builds with
# Go 1.26 (checked with GOTOOLCHAIN=local).
staticcheck_version=v0.8.2
gopls_version=v0.23.0
deadcode_version=v0.52.0

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
    if ! out=$(cd "$m" && "$gopls" check -severity=hint $(git ls-files '*.go' | grep -v -e '^e2e/' -e '^bench/' -e '^third_party/') 2>&1); then
      printf 'gopls check failed in %s:\n%s\n' "$m" "$out" >>"$findings"
      continue
    fi
    # [arm] marks the same diagnostic again for another GOARCH.
    printf '%s\n' "$out" | grep -F 'unused parameter: ' | grep -v -F '[arm]' |
      sed "s|^$PWD/||" >>"$findings" || true
  done
}

# deadcode builds the call graph from every main package (and, with -test,
# every test) and reports the functions outside it. staticcheck's U1000 counts
# every exported symbol as used, so this is the check that sees a dead
# exported function. Two passes per module:
#   -test                       reached by no binary and no test: dead.
#   without tests, in the packages a binary of the module links: reached only
#                               by tests. Production code only its tests call
#                               belongs in a _test.go file, or is an exception
#                               listed below with its reason.
# Each exception is a path prefix of the findings it covers, then its reason.
# An exception that covers no finding is a finding itself, so the list only
# shrinks.
deadcode_allow=()

# linked_filter prints a deadcode -filter regexp matching the module's own
# packages that its main packages link, or nothing when it has no main.
linked_filter() {
  local mod mains
  mod=$(go list -m)
  mains=$(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...)
  [ -n "$mains" ] || return 0
  # shellcheck disable=SC2086
  go list -deps $mains | grep -E "^${mod//./\\.}(/|\$)" | sed 's/\./\\./g' | paste -sd'|' | sed 's/.*/^(&)$/'
}

run_deadcode() {
  local dc m out filter rel allow
  dc=$(tool deadcode golang.org/x/tools/cmd/deadcode "$deadcode_version")
  local dead testonly
  dead=$(mktemp)
  testonly=$(mktemp)
  for m in "${modules[@]}"; do
    if ! out=$(cd "$m" && "$dc" -test ./... 2>&1); then
      printf 'deadcode failed in %s:\n%s\n' "$m" "$out" >>"$findings"
      continue
    fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed "s|^|$m/|; s|^\./||" >>"$dead"
    filter=$(cd "$m" && linked_filter)
    [ -n "$filter" ] || continue
    if ! out=$(cd "$m" && "$dc" -filter "$filter" ./... 2>&1); then
      printf 'deadcode failed in %s:\n%s\n' "$m" "$out" >>"$findings"
      continue
    fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed "s|^|$m/|; s|^\./||" >>"$testonly"
  done
  sed 's|$| (reached by no binary and no test)|' "$dead" >>"$findings"
  while IFS= read -r rel; do
    grep -qxF "$rel" "$dead" && continue # reported above
    for allow in "${deadcode_allow[@]}"; do
      [[ $rel == "$allow"* ]] && continue 2
    done
    echo "$rel (reached only by tests)" >>"$findings"
  done <"$testonly"
  for allow in "${deadcode_allow[@]}"; do
    if ! grep -q "^$allow" "$testonly"; then
      echo "scripts/lint.sh: deadcode exception \"$allow\" covers no finding; remove it" >>"$findings"
    fi
  done
  rm -f "$dead" "$testonly"
}

case "${1:-all}" in
all) run_staticcheck; run_unusedparams; run_deadcode ;;
staticcheck) run_staticcheck ;;
unusedparams) run_unusedparams ;;
deadcode) run_deadcode ;;
*) prereq_fail "unknown check $1 (usage: scripts/lint.sh [staticcheck | unusedparams | deadcode])" ;;
esac

if [ -s "$findings" ]; then
  sort -u "$findings"
  echo "lint: $(sort -u "$findings" | wc -l) finding(s)" >&2
  exit 1
fi
echo "lint: clean"
