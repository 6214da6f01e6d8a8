#!/usr/bin/env bash
# Stops the test cluster started by up.sh, idempotently: pods first (so the kubelet tears
# their sandboxes down), then every component by its pid file in reverse start order, then
# any container shim left behind (by the shim's own pid file), then every mount under the
# state directory. `down.sh --purge` also deletes the state directory (certificates, etcd,
# registry contents); caches under ~/.cache/podtrain are kept.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$SCRIPT_DIR/common.sh"
purge=0
[[ ${1:-} == --purge ]] && purge=1

stop_pid() { # label pid
  local label=$1 pid=$2
  process_running "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do process_running "$pid" || return 0; sleep 0.1; done
  log "$label (pid $pid) ignored SIGTERM for 10 s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

if [[ -d "$RUN_DIR" ]]; then
  if pid_alive kube-apiserver && pid_alive kubelet; then
    kubectl_admin delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    for _ in $(seq 50); do
      [[ -z $(kubectl_admin get pods -A -o name 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
  # Containers the kubelet did not get to: kill their tasks through containerd.
  if pid_alive containerd; then
    for task in $(ctr --address "$CONTAINERD_SOCKET" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_SOCKET" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
  fi
  for ((index = ${#COMPONENTS[@]} - 1; index >= 0; index--)); do
    name=${COMPONENTS[index]}
    pid_file="$RUN_DIR/$name.pid"
    [[ -f "$pid_file" ]] || continue
    stop_pid "$name" "$(cat "$pid_file")"
    rm -f "$pid_file"
  done
fi

# Each containerd shim records its pid in its task's state folder.
if [[ -d "$STATE_DIR/containerd/state" ]]; then
  while IFS= read -r shim_pid_file; do
    pid=$(cat "$shim_pid_file" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && stop_pid "containerd shim" "$pid"
  done < <(find "$STATE_DIR/containerd/state" -name shim.pid 2>/dev/null)
  while IFS= read -r init_pid_file; do
    pid=$(cat "$init_pid_file" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null || true
  done < <(find "$STATE_DIR/containerd/state" -name init.pid 2>/dev/null)
fi

# Unmount deepest first: pod volumes, container root filesystems, sandbox /dev/shm.
if [[ -d "$STATE_DIR" ]]; then
  state_real=$(realpath "$STATE_DIR")
  for _ in 1 2 3; do
    mounts=$(awk -v prefix="$state_real/" 'index($2, prefix) == 1 {print $2}' /proc/self/mounts | sort -r)
    [[ -z $mounts ]] && break
    while IFS= read -r mount_point; do
      umount "$mount_point" 2>/dev/null || umount -l "$mount_point" 2>/dev/null || true
    done <<<"$mounts"
  done
  if grep -qF "$HOSTS_MARKER" /etc/hosts; then
    # /etc/hosts may be a bind mount: rewrite it in place rather than replacing the file.
    hosts=$(grep -vF "$HOSTS_MARKER" /etc/hosts)
    printf '%s\n' "$hosts" >/etc/hosts
  fi
  if ip link show podtrain0 >/dev/null 2>&1; then ip link delete podtrain0 || true; fi
  if ((purge)); then rm -rf "$STATE_DIR"; fi
fi
# Nothing of the cluster may survive: a process or a mount left behind is an error.
leftovers=()
for pid_file in "$RUN_DIR"/*.pid; do
  [[ -f $pid_file ]] && process_running "$(cat "$pid_file")" && leftovers+=("process $(basename "$pid_file" .pid)")
done
if [[ -d "$STATE_DIR" ]]; then
  while IFS= read -r mount_point; do leftovers+=("mount $mount_point"); done \
    < <(awk -v prefix="$(realpath "$STATE_DIR")/" 'index($2, prefix) == 1 {print $2}' /proc/self/mounts)
fi
((${#leftovers[@]} == 0)) || fail "still there after down: ${leftovers[*]}" 70
if ((purge)); then log "cluster down, state $STATE_DIR removed"; else log "cluster down"; fi
