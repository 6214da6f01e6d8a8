#!/usr/bin/env bash
# Builds the two small images the test cluster needs and pushes them to the local registry:
#   pause    -> registry.k8s.io/pause:3.10   (the pod sandbox; from pause.c, gcc -static)
#   busybox  -> docker.io/library/busybox:<version>  (the XCom sidecar and test pods: a
#               static busybox with every applet linked, as the operator stops the sidecar with
#               pgrep/kill)
# No Docker Hub: both come from Debian packages on this machine (gcc, busybox-static), put in
# an image with `buildah from scratch`. Usage: busybox-image.sh pause|busybox...
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$SCRIPT_DIR/common.sh"

BUSYBOX_VERSION=$(dpkg-query -W -f='${Version}' busybox-static | sed -E 's/^[0-9]+://; s/[-+~].*//')
buildah_() {
  buildah --root "$CACHE_DIR/buildah/storage" --runroot "$STATE_DIR/buildah-run" --storage-driver vfs "$@"
}

build() { # name rootfs destination entrypoint-json cmd-json user
  local name=$1 rootfs=$2 destination=$3 entrypoint=$4 cmd=$5 user=$6
  local container
  container=$(buildah_ from --quiet scratch)
  buildah_ copy --quiet "$container" "$rootfs/" / >/dev/null
  buildah_ config --entrypoint "$entrypoint" --cmd "$cmd" --user "$user" "$container"
  buildah_ commit --quiet --rm "$container" "podtrain-test/$name" >/dev/null
  buildah_ push --quiet --tls-verify=false "podtrain-test/$name" "docker://$REGISTRY_ADDRESS/$destination"
  log "pushed $destination to $REGISTRY_ADDRESS"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for image in "$@"; do
  case "$image" in
    pause)
      mkdir -p "$work/pause"
      gcc -static -Os -s -o "$work/pause/pause" "$SCRIPT_DIR/pause.c"
      build pause "$work/pause" pause:3.10 '["/pause"]' '[]' 65535:65535
      ;;
    busybox)
      mkdir -p "$work/busybox/bin" "$work/busybox/tmp"
      chmod 1777 "$work/busybox/tmp"
      cp /bin/busybox "$work/busybox/bin/busybox"
      for applet in $(/bin/busybox --list); do
        [[ $applet == busybox ]] || ln -s busybox "$work/busybox/bin/$applet"
      done
      build busybox "$work/busybox" "library/busybox:$BUSYBOX_VERSION" '[]' '["/bin/sh"]' 0:0
      ;;
    *) fail "unknown image '$image' (pause or busybox)" 64 ;;
  esac
done
