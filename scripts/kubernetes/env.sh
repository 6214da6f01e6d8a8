#!/usr/bin/env bash
# Prints the environment that points kubectl (and Airflow's KubernetesPodOperator) at the test
# cluster:   eval "$(scripts/kubernetes/env.sh)"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
echo "export KUBECONFIG='$KUBECONFIG_FILE'"
echo "export PATH='$BIN_DIR':\"\$PATH\""
echo "export PODTRAIN_K8S_DIR='$STATE_DIR'"
echo "export PODTRAIN_K8S_REGISTRY='$REGISTRY_ADDRESS'"
