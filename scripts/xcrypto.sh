#!/usr/bin/env bash
# third_party/xcrypto is golang.org/x/crypto at the version below, cut down to
# the packages holdfast builds and changed by one patch, third_party/xcrypto.patch
# (chacha20-poly1305@openssh.com takes its keystream from the chacha20poly1305
# AEAD, which has assembly, instead of the generic chacha20; see
# third_party/README.md). go.mod replaces the module with it.
#   scripts/xcrypto.sh check   the copy is exactly upstream plus the patch (CI)
#   scripts/xcrypto.sh sync    rebuild the copy (after changing the version or
#                              the patch; add a package below if the build
#                              says one is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq.sh
prereq_go

version=v0.59.0
packages=(
  blowfish chacha20 chacha20poly1305 cryptobyte cryptobyte/asn1 curve25519
  internal/alias internal/poly1305 ssh ssh/internal/bcrypt_pbkdf
)
dest=third_party/xcrypto
patchfile=third_party/xcrypto.patch

# build DIR makes the copy in DIR.
build() {
  local out=$1 src p f
  src=$(cd / && GOFLAGS=-mod=mod go mod download -json "golang.org/x/crypto@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || prereq_fail "cannot download golang.org/x/crypto@$version"
  mkdir -p "$out"
  cp "$src/LICENSE" "$src/PATENTS" "$src/go.mod" "$out/"
  for p in "${packages[@]}"; do
    mkdir -p "$out/$p"
    for f in "$src/$p"/*; do
      case $f in *_test.go) continue ;; esac
      [ -f "$f" ] && cp "$f" "$out/$p/"
    done
  done
  chmod -R u+w "$out"
  (cd "$out" && git apply -p1) <"$patchfile"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case ${1:-check} in
sync)
  build "$tmp/x"
  rm -rf "$dest"
  mv "$tmp/x" "$dest"
  echo "xcrypto: $dest is golang.org/x/crypto@$version plus $patchfile"
  ;;
check)
  build "$tmp/x"
  if ! diff -r "$tmp/x" "$dest" >"$tmp/diff"; then
    cat "$tmp/diff" >&2
    prereq_fail "$dest is not golang.org/x/crypto@$version plus $patchfile: change the patch and run scripts/xcrypto.sh sync"
  fi
  ;;
*)
  prereq_fail "usage: scripts/xcrypto.sh [check|sync]"
  ;;
esac
