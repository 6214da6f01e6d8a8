#!/usr/bin/env bash
# Builds (or reuses) the MinIO server the object-storage tests run on 127.0.0.1, from its Go module
# through the Go module proxy, into ~/.cache/podtrain/minio/<version>/minio. The tests find it
# there (or at $PODTRAIN_MINIO); a build takes several minutes cold, seconds when cached.
# MinIO publishes no semver tags, so the version is the proxy's pseudo-version of one commit.
set -euo pipefail
version="v0.0.0-20260212201848-7aac2a2c5b7c"
cache="${PODTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podtrain}"
target="$cache/minio/$version"
if [ -x "$target/minio" ]; then echo "$target/minio"; exit 0; fi
go="$(command -v go || true)"
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; }
if [ -z "$go" ]; then
  apt-get update -qq && apt-get install -y -qq golang-go >&2
  go="$(command -v go)"
fi
echo "minio: building github.com/minio/minio@$version (several minutes)" >&2
mkdir -p "$target.tmp"
GOBIN="$target.tmp" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--trimpath}" "$go" install "github.com/minio/minio@$version" >&2
mv "$target.tmp/minio" "$target.tmp/minio.built" && mkdir -p "$target" && mv "$target.tmp/minio.built" "$target/minio"
rmdir "$target.tmp"
echo "$target/minio"
