#!/usr/bin/env bash
# Builds the Kubernetes control plane, kubelet and kubectl from the upstream Go module.
#
# k8s.io/kubernetes redirects its 31 k8s.io/* staging modules to folders inside its own
# repository, so `go install k8s.io/kubernetes/cmd/...@v1.34.4` fails. A wrapper module that
# requires k8s.io/kubernetes and replaces each staging module with its published v0.x release
# builds the same binaries. Version 1.34 because kubelet >= 1.35 refuses cgroup v1 by default
# and this kernel has a hybrid cgroup layout.
#
# Binaries, module cache and build cache live under ~/.cache/podtrain/kubernetes so a warm run
# returns at once.
set -euo pipefail

KUBERNETES_VERSION="${PODTRAIN_KUBERNETES_VERSION:-v1.34.4}"
STAGING_VERSION="v0${KUBERNETES_VERSION#v1}"
CACHE_DIR="${PODTRAIN_CACHE_DIR:-$HOME/.cache/podtrain}/kubernetes"
BIN_DIR="$CACHE_DIR/bin-$KUBERNETES_VERSION"
COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
STAGING_MODULES=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
  cloud-provider cluster-bootstrap code-generator component-base component-helpers
  controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
  endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver
  sample-cli-plugin sample-controller)

missing=0
for command in "${COMMANDS[@]}"; do
  [[ -x "$BIN_DIR/$command" ]] || missing=1
done
if [[ $missing == 0 ]]; then
  echo "kubernetes: $KUBERNETES_VERSION binaries cached in $BIN_DIR"
  exit 0
fi

# Go >= 1.24 (what k8s.io/kubernetes v1.34 declares). Without it (Debian bookworm ships 1.19),
# the official toolchain comes from the Go module proxy as the module golang.org/toolchain,
# cached next to the binaries.
GO_FALLBACK_VERSION=1.24.13
go_usable() {
  local version
  version=$("$1" env GOVERSION 2>/dev/null) || return 1
  version=${version#go}
  [[ $(printf '%s\n' 1.24 "$version" | sort -V | head -1) == 1.24 ]]
}
GO=$(command -v go || true)
if [[ -z $GO ]] || ! go_usable "$GO"; then
  GO="$CACHE_DIR/go$GO_FALLBACK_VERSION/bin/go"
  if ! go_usable "$GO"; then
    command -v unzip >/dev/null || apt-get install -y --no-install-recommends unzip >/dev/null
    echo "kubernetes: fetching Go $GO_FALLBACK_VERSION from the Go module proxy (golang.org/toolchain)"
    module="v0.0.1-go$GO_FALLBACK_VERSION.linux-amd64"
    archive="$CACHE_DIR/toolchain-$module.zip"
    mkdir -p "$CACHE_DIR"
    curl -fsSL "${GOPROXY_BASE:-https://proxy.golang.org}/golang.org/toolchain/@v/$module.zip" -o "$archive" \
      || { echo "kubernetes: error: cannot fetch Go $GO_FALLBACK_VERSION; install Go >= 1.24" >&2; exit 69; }
    rm -rf "$CACHE_DIR/toolchain-unpacked" "$CACHE_DIR/go$GO_FALLBACK_VERSION"
    unzip -q "$archive" -d "$CACHE_DIR/toolchain-unpacked"
    mv "$CACHE_DIR/toolchain-unpacked/golang.org/toolchain@$module" "$CACHE_DIR/go$GO_FALLBACK_VERSION"
    chmod +x "$CACHE_DIR/go$GO_FALLBACK_VERSION/bin/"* "$CACHE_DIR/go$GO_FALLBACK_VERSION/pkg/tool/"*/*
    rm -rf "$CACHE_DIR/toolchain-unpacked" "$archive"
  fi
fi
export GOTOOLCHAIN=local

started=$(date +%s)
wrapper="$CACHE_DIR/wrapper-$KUBERNETES_VERSION"
mkdir -p "$wrapper" "$CACHE_DIR/gomodcache" "$CACHE_DIR/gocache"
{
  echo "module podtrain.local/kubernetes-build"
  echo
  echo "go 1.24.0"
  echo
  echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
  echo
  echo "replace ("
  for module in "${STAGING_MODULES[@]}"; do
    echo "	k8s.io/$module => k8s.io/$module $STAGING_VERSION"
  done
  echo ")"
} >"$wrapper/go.mod"

export GOMODCACHE="$CACHE_DIR/gomodcache" GOCACHE="$CACHE_DIR/gocache" CGO_ENABLED=0 GOFLAGS=-mod=mod
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $package.gitVersion=$KUBERNETES_VERSION -X $package.gitMajor=1 -X $package.gitMinor=$minor"
  ldflags+=" -X $package.gitTreeState=clean -X $package.buildDate=$build_date"
done
packages=()
for command in "${COMMANDS[@]}"; do packages+=("k8s.io/kubernetes/cmd/$command"); done

echo "kubernetes: building $KUBERNETES_VERSION (${COMMANDS[*]}) into $BIN_DIR; cold builds take 8+ minutes"
cd "$wrapper"
"$GO" mod download k8s.io/kubernetes
staging="$BIN_DIR.partial"
rm -rf "$staging"; mkdir -p "$staging"
nice -n 10 "$GO" build -trimpath -ldflags "$ldflags" -o "$staging/" "${packages[@]}"
rm -rf "$BIN_DIR"; mv "$staging" "$BIN_DIR"
echo "kubernetes: built in $(( $(date +%s) - started )) s"
