#!/usr/bin/env bash
# Builds (or reuses) the S3 server the object-storage tests run on 127.0.0.1: versitygw
# (Apache-2.0, github.com/versity/versitygw) with its POSIX backend, from its Go module through the
# Go module proxy, pinned, into ~/.cache/podtrain/versitygw/<version>/versitygw. The tests find it
# there (or at $PODTRAIN_S3_SERVER); a build takes a few minutes cold, nothing when cached.
set -euo pipefail
module="github.com/versity/versitygw"
version="v1.8.0"
cache="${PODTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podtrain}"
target="$cache/versitygw/$version"
if [ -x "$target/versitygw" ]; then echo "$target/versitygw"; exit 0; fi
go="$(command -v go || true)"
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; }
if [ -z "$go" ]; then
  apt-get update -qq && apt-get install -y -qq golang-go >&2
  go="$(command -v go)"
fi
echo "s3-server: building $module@$version (a few minutes)" >&2
rm -rf "$target.tmp" && mkdir -p "$target.tmp"
GOBIN="$target.tmp" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--trimpath}" "$go" install "$module/cmd/versitygw@$version" >&2
mkdir -p "$target" && mv "$target.tmp/versitygw" "$target/versitygw.built" && mv "$target/versitygw.built" "$target/versitygw"
rmdir "$target.tmp"
echo "$target/versitygw"
