#!/usr/bin/env bash
# Runs every Go fuzz target of the root module for a bounded number of inputs each.
#   scripts/fuzz.sh                each target for $FUZZTIME (default 100000x: 100000
#                                  inputs, 3-7 s per target here; what CI runs)
#   FUZZTIME=10m scripts/fuzz.sh   a longer hunt (a duration: see below)
#   scripts/fuzz.sh FuzzArgv       only the named targets
# CI counts inputs rather than seconds: with a duration, Go 1.26's fuzz coordinator
# can report its own deadline as a failure ("context deadline exceeded", no failing
# input written) when a worker is slow to stop on a loaded machine
# (go.dev/issue/75804, fixed in Go 1.27). A count has no deadline to race.
# The seeds of every target also run in plain `go test`. A failing input is saved
# under the package's testdata/fuzz/<Target>/ and from then on runs in every `go test`:
# commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
fuzztime=${FUZZTIME:-100000x}

# package<TAB>target, found from the source so a new target is never forgotten.
mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./e2e/\|^./bench/' |
  while read -r f; do
    for t in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
      printf '%s\t%s\n' "./$(dirname "${f#./}")" "$t"
    done
  done | sort)

if [ ${#targets[@]} = 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
ran=0
for row in "${targets[@]}"; do
  pkg=${row%%$'\t'*}; target=${row#*$'\t'}
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$target"; then continue; fi
  echo "fuzz: $target in $pkg for $fuzztime"
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -timeout 10m
  ran=$((ran + 1))
done
echo "fuzz: $ran targets ran, none failed"
