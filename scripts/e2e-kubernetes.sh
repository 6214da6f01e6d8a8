#!/usr/bin/env bash
# End-to-end suite on a real single-node Kubernetes: starts the cluster, builds and pushes the
# images, runs the generated Kubernetes-target DAGs with Airflow's dag.test() against it
# (test/e2e/kubernetes/dags.test.ts), and stops the cluster again, whatever the outcome.
# Needs root on Debian bookworm. Cold: ~10 min for the Kubernetes build plus the image build;
# warm (caches under ~/.cache/podtrain): the cluster starts in seconds.
#
#   scripts/e2e-kubernetes.sh                 # everything
#   PODTRAIN_E2E_KEEP_CLUSTER=1 scripts/e2e-kubernetes.sh   # leave the cluster running
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

timer() { echo "e2e-kubernetes: $1 in $(($(date +%s) - $2)) s"; }
begun=$(date +%s)
if [[ ${PODTRAIN_E2E_KEEP_CLUSTER:-0} != 1 ]]; then
  trap 'scripts/kubernetes/down.sh' EXIT
fi

step=$(date +%s)
scripts/kubernetes/up.sh
timer "cluster up" "$step"
eval "$(scripts/kubernetes/env.sh)"

step=$(date +%s)
# Images go to the cluster's registry under the names the DAGs use
# (registry.example.com/... resolves through the local mirror).
if [[ -x scripts/image.sh ]]; then
  # The training image, the XCom sidecar and the pause image, built with buildah from bases
  # built here, pushed as ml-platform/podtrain:0.1.0, ml-platform/podtrain-xcom-sidecar:0.1.0.
  scripts/image.sh --push "$PODTRAIN_K8S_REGISTRY"
else
  echo "e2e-kubernetes: scripts/image.sh not found; expecting ml-platform/podtrain:0.1.0 in $PODTRAIN_K8S_REGISTRY already" >&2
fi
# A busybox with every applet (pgrep, kill) as a second XCom sidecar candidate:
# PODTRAIN_E2E_XCOM_SIDECAR_IMAGE=docker.io/library/busybox:1.35.0 selects it.
scripts/kubernetes/busybox-image.sh busybox
# The node keeps images by name and pods pull a tagged image only when it is missing: drop the
# node's copies of the images just pushed, so the pods run this build and not an older one with
# the same tag.
for image in registry.example.com/ml-platform/podtrain:0.1.0 registry.example.com/ml-platform/podtrain-xcom-sidecar:0.1.0; do
  ctr --address "$PODTRAIN_K8S_DIR/containerd/containerd.sock" --namespace k8s.io images rm "$image" >/dev/null 2>&1 || true
done
timer "images" "$step"

npm run build >/dev/null   # bin/train.js generates the test data on the host
step=$(date +%s)
PODTRAIN_E2E_KUBERNETES=1 npx vitest run test/e2e/kubernetes/
timer "e2e DAGs" "$step"
timer "total" "$begun"
