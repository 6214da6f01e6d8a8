#!/usr/bin/env bash
# Starts a single-node Kubernetes cluster for the end-to-end tests, idempotently: components
# already running (by their pid files) are left alone. Needs root on Debian bookworm.
#
#   scripts/kubernetes/up.sh            # cold: installs packages, builds Kubernetes (8+ min)
#   eval "$(scripts/kubernetes/env.sh)" # KUBECONFIG and PATH for kubectl
#   scripts/kubernetes/down.sh          # stops every process by its pid file
#
# Real upstream components only: Debian's etcd, containerd, runc, CNI plugins and OCI registry;
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl built from the
# Go module (build.sh). Everything listens on 127.0.0.1; no kube-proxy, no cluster DNS (the
# tests run pods with hostNetwork).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$SCRIPT_DIR/common.sh"
started_ms=$(($(date +%s%N) / 1000000))

[[ $(id -u) == 0 ]] || fail "the test cluster needs root (containerd, kubelet, mounts)" 77

# ---- packages ------------------------------------------------------------------------------
PACKAGES=(etcd-server containerd runc containernetworking-plugins docker-registry buildah
  busybox-static openssl gcc libc6-dev iptables conntrack)
missing_packages=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing_packages+=("$package")
done
if ((${#missing_packages[@]})); then
  log "installing ${missing_packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_packages[@]}" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_packages[@]}" >/dev/null; } \
    || fail "apt-get install ${missing_packages[*]} failed" 69
fi

"$SCRIPT_DIR/build.sh"

mkdir -p "$PKI_DIR" "$RUN_DIR" "$LOG_DIR" "$STATE_DIR/bin"

# ---- certificates --------------------------------------------------------------------------
# One CA signs the apiserver's serving certificate, the clients' certificates (admin,
# apiserver->kubelet, kubelet->apiserver as system:node:<node>) and the kubelet's serving
# certificate; a separate key pair signs service-account tokens.
sign() { # name subject [ip SANs...]
  local name=$1 subject=$2; shift 2
  [[ -f "$PKI_DIR/$name.crt" ]] && return 0
  local extensions="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    if (($#)); then
      local names="DNS:localhost" address
      for address in "$@"; do names+=",$address"; done
      echo "subjectAltName=$names"
    fi
  } >"$extensions"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -subj "$subject" \
    -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 365 -extfile "$extensions" -out "$PKI_DIR/$name.crt" 2>/dev/null
}
if [[ ! -f "$PKI_DIR/ca.crt" ]]; then
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/ca.key" -days 365 \
    -subj "/CN=podtrain-test-ca" -out "$PKI_DIR/ca.crt" 2>/dev/null
fi
sign apiserver "/CN=kube-apiserver" IP:127.0.0.1 IP:10.96.0.1 DNS:kubernetes DNS:kubernetes.default \
  DNS:kubernetes.default.svc DNS:kubernetes.default.svc.cluster.local
sign admin "/O=system:masters/CN=podtrain-admin"
sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
sign kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME"
sign kubelet-serving "/CN=$NODE_NAME" IP:127.0.0.1 "DNS:$NODE_NAME"
if [[ ! -f "$PKI_DIR/service-account.key" ]]; then
  openssl genrsa -out "$PKI_DIR/service-account.key" 2048 2>/dev/null
  openssl rsa -in "$PKI_DIR/service-account.key" -pubout -out "$PKI_DIR/service-account.pub" 2>/dev/null
fi

write_kubeconfig() { # file user
  local file=$1 user=$2
  [[ -f "$file" ]] && return 0
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: podtrain
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $user
  user:
    client-certificate: $PKI_DIR/$user.crt
    client-key: $PKI_DIR/$user.key
contexts:
- name: podtrain
  context: {cluster: podtrain, user: $user}
current-context: podtrain
EOF
}
write_kubeconfig "$KUBECONFIG_FILE" admin
write_kubeconfig "$STATE_DIR/kubelet.kubeconfig" kubelet-client

# ---- process helpers -----------------------------------------------------------------------
start() { # name command...
  local name=$1; shift
  if pid_alive "$name"; then return 0; fi
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}
wait_for() { # what seconds command...
  local what=$1 seconds=$2; shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || fail "$what not ready after ${seconds}s; see $LOG_DIR" 69
    sleep 0.2
  done
}

# ---- registry ------------------------------------------------------------------------------
mkdir -p "$STATE_DIR/registry/data"
cat >"$STATE_DIR/registry/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $STATE_DIR/registry/data}
  delete: {enabled: true}
http:
  addr: $REGISTRY_ADDRESS
EOF
if ! pid_alive registry && curl -fsS "http://$REGISTRY_ADDRESS/v2/" >/dev/null 2>&1; then
  log "reusing the registry already answering on $REGISTRY_ADDRESS"
else
  start registry docker-registry serve "$STATE_DIR/registry/config.yml"
fi

# ---- etcd ----------------------------------------------------------------------------------
start etcd etcd --name podtrain --data-dir "$STATE_DIR/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster podtrain=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381

# ---- containerd ----------------------------------------------------------------------------
install -m 0755 "$SCRIPT_DIR/runc-wrapper.sh" "$STATE_DIR/bin/runc"
mkdir -p "$STATE_DIR/containerd/certs.d" "$STATE_DIR/cni/net.d"
# The local registry is the only host for these names: no pull ever falls back to the internet,
# so an image that is not there fails at once with "not found" (not after a DNS timeout).
for registry in "${MIRRORED_REGISTRIES[@]}"; do
  mkdir -p "$STATE_DIR/containerd/certs.d/$registry"
  cat >"$STATE_DIR/containerd/certs.d/$registry/hosts.toml" <<EOF
server = "http://$REGISTRY_ADDRESS"
[host."http://$REGISTRY_ADDRESS"]
  capabilities = ["pull", "resolve"]
EOF
done
# The pods of the tests use hostNetwork; a bridge without gateway serves any other pod.
cat >"$STATE_DIR/cni/net.d/10-podtrain.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "podtrain",
  "plugins": [
    {"type": "bridge", "bridge": "podtrain0", "isGateway": false, "ipMasq": false,
     "ipam": {"type": "host-local", "dataDir": "$STATE_DIR/cni/ipam",
              "ranges": [[{"subnet": "10.244.0.0/24"}]]}},
    {"type": "loopback"}
  ]
}
EOF
cat >"$STATE_DIR/containerd/config.toml" <<EOF
version = 2
root = "$STATE_DIR/containerd/root"
state = "$STATE_DIR/containerd/state"
oom_score = 0
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$STATE_DIR/bin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE_DIR/containerd/certs.d"
EOF
start containerd containerd --config "$STATE_DIR/containerd/config.toml"

# ---- control plane -------------------------------------------------------------------------
wait_for etcd 30 curl -fsS http://127.0.0.1:2379/health
start kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
  --secure-port=6443 --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --client-ca-file="$PKI_DIR/ca.crt" \
  --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
  --kubelet-client-certificate="$PKI_DIR/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI_DIR/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI_DIR/ca.crt" --kubelet-preferred-address-types=Hostname \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$PKI_DIR/service-account.pub" \
  --service-account-signing-key-file="$PKI_DIR/service-account.key"
wait_for kube-apiserver 60 kubectl_admin get --raw /readyz
start kube-controller-manager "$BIN_DIR/kube-controller-manager" \
  --kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --leader-elect=false \
  --service-account-private-key-file="$PKI_DIR/service-account.key" --root-ca-file="$PKI_DIR/ca.crt" \
  --use-service-account-credentials=false --controllers='*,-nodeipam,-service-lb-controller,-route'
start kube-scheduler "$BIN_DIR/kube-scheduler" \
  --kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --leader-elect=false

# ---- kubelet -------------------------------------------------------------------------------
# The kubelet refuses a loopback node IP, so the apiserver reaches it by the node's Hostname
# address instead, which resolves to 127.0.0.1 through /etc/hosts (down.sh removes the line).
if ! grep -qE "^127\.0\.0\.1[[:space:]].*\b$NODE_NAME\b" /etc/hosts; then
  echo "127.0.0.1 $NODE_NAME $HOSTS_MARKER" >>/etc/hosts
fi
mkdir -p "$KUBELET_ROOT"
cat >"$STATE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This kernel has a hybrid cgroup v1/v2 layout; kubelet 1.34 still runs on it when allowed.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI_DIR/kubelet-serving.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet-serving.key
# A shared test machine: evict only when it is really full, never garbage-collect images
# the tests pushed a minute ago.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 50
EOF
start kubelet "$BIN_DIR/kubelet" --config="$STATE_DIR/kubelet/config.yaml" \
  --kubeconfig="$STATE_DIR/kubelet.kubeconfig" --root-dir="$KUBELET_ROOT" \
  --hostname-override="$NODE_NAME" \
  --node-labels="nvidia.com/gpu.present=true,ml-platform/node-pool=gpu"

# ---- sandbox (pause) image -----------------------------------------------------------------
# containerd pulls the sandbox image by name through the mirror; build it once from pause.c.
wait_for registry 30 curl -fsS "http://$REGISTRY_ADDRESS/v2/"
if ! curl -fsS "http://$REGISTRY_ADDRESS/v2/pause/manifests/3.10" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' -o /dev/null 2>/dev/null; then
  "$SCRIPT_DIR/busybox-image.sh" pause
fi

# ---- node ----------------------------------------------------------------------------------
wait_for "node $NODE_NAME" 90 sh -c "'$BIN_DIR/kubectl' --kubeconfig '$KUBECONFIG_FILE' get node '$NODE_NAME' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
# The DAGs' fit pods request nvidia.com/gpu; the node advertises one as an extended resource
# (the tests run fit with a CPU backend). The kubelet zeroes unknown extended resources when
# it re-registers, so this runs on every start. No taint: CPU pods schedule here too.
kubectl_admin patch node "$NODE_NAME" --subresource=status --type=json \
  -p '[{"op":"add","path":"/status/capacity/nvidia.com~1gpu","value":"1"},{"op":"add","path":"/status/allocatable/nvidia.com~1gpu","value":"1"}]' >/dev/null
wait_for "nvidia.com/gpu on $NODE_NAME" 30 sh -c "'$BIN_DIR/kubectl' --kubeconfig '$KUBECONFIG_FILE' get node '$NODE_NAME' -o jsonpath='{.status.allocatable.nvidia\\.com/gpu}' | grep -qx 1"

# ---- what the generated DAGs expect to exist ----------------------------------------------
kubectl_admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: ml-training}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: podtrain-runner, namespace: ml-training}
---
apiVersion: v1
kind: Secret
metadata: {name: mlflow-credentials, namespace: ml-training}
type: Opaque
stringData: {username: podtrain-e2e, password: podtrain-e2e-password}
---
apiVersion: v1
kind: Secret
metadata: {name: registry-credentials, namespace: ml-training}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths":{"registry.example.com":{"auth":"$(printf 'podtrain-e2e:podtrain-e2e' | base64)"}}}'
EOF

elapsed_ms=$(($(date +%s%N) / 1000000 - started_ms))
elapsed=$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))
log "cluster up in ${elapsed}s: node $NODE_NAME Ready, registry $REGISTRY_ADDRESS, KUBECONFIG=$KUBECONFIG_FILE"
