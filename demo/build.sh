#!/usr/bin/env bash
# Builds the demo shop service (demo/app) into a runnable jar with plain javac + jar.
# Usage: demo/build.sh [OUTPUT_JAR]   (default ./build/shop.jar, relative to the caller's directory)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-./build/shop.jar}

for tool in javac jar; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found (install openjdk-17-jdk-headless)" >&2; exit 1; }
done

classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
mkdir -p "$(dirname "$out")"
javac --release 17 -d "$classes" "$here"/app/*.java
# Build next to the target, then rename: a reader never sees a half-written jar.
tmp="$out.tmp.$$"
jar --create --file "$tmp" --main-class Shop -C "$classes" .
mv -f "$tmp" "$out"
echo "built $out"
