# Shared settings of the single-node test cluster; sourced by up.sh, down.sh and env.sh.
# Every file the cluster writes lives under one state directory; caches that survive a
# `down.sh --purge` (binaries, Go caches, image layers) live under ~/.cache/podtrain.

KUBERNETES_VERSION="${PODTRAIN_KUBERNETES_VERSION:-v1.34.4}"
STATE_DIR="${PODTRAIN_K8S_DIR:-/tmp/podtrain-k8s}"
CACHE_DIR="${PODTRAIN_CACHE_DIR:-$HOME/.cache/podtrain}"
BIN_DIR="$CACHE_DIR/kubernetes/bin-$KUBERNETES_VERSION"
NODE_NAME="${PODTRAIN_K8S_NODE:-podtrain-node}"
REGISTRY_ADDRESS="127.0.0.1:5000"
PAUSE_IMAGE="registry.k8s.io/pause:3.10"
# The registries whose image names the local registry answers for, so the DAGs' image names
# (registry.example.com/ml-platform/podtrain:0.1.0) resolve unchanged.
MIRRORED_REGISTRIES=(registry.example.com docker.io registry.k8s.io)

PKI_DIR="$STATE_DIR/pki"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
KUBECONFIG_FILE="$STATE_DIR/admin.kubeconfig"
CONTAINERD_SOCKET="$STATE_DIR/containerd/containerd.sock"
KUBELET_ROOT="$STATE_DIR/kubelet/root"
# Processes in start order; down.sh stops them in reverse.
HOSTS_MARKER="# podtrain test cluster (scripts/kubernetes)"
COMPONENTS=(registry etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)

log() { echo "kubernetes: $*"; }
fail() { echo "kubernetes: error: $*" >&2; exit "${2:-70}"; }

# A process that has exited but is not reaped yet (a zombie: the components are reparented
# to the machine's init) counts as stopped.
process_running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

pid_alive() {
  local pid_file="$RUN_DIR/$1.pid"
  [[ -f "$pid_file" ]] && process_running "$(cat "$pid_file")"
}

kubectl_admin() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
