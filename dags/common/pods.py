"""The pod operator of the generated DAGs: KubernetesPodOperator with a configurable XCom sidecar.

cncf-kubernetes 10.25 takes the XCom sidecar's image only from the Kubernetes *connection*
(extra field `xcom_sidecar_container_image`, read by KubernetesHook); the operator has no
argument for it, and the default, `alpine` from Docker Hub, cannot be pulled where Docker Hub is
not reachable. The sidecar's command (PodDefaults.XCOM_CMD) traps only SIGINT, which the
operator sends after reading the XCom; as PID 1 the shell ignores SIGTERM, so a pod that is
deleted (evicted, preempted) stayed Terminating for its whole grace period.

TrainingPodOperator takes the image from the deployment config (`xcom_sidecar_image`, falling
back to the connection's, then the provider's default) and gives the sidecar a command that
also stops on SIGTERM. Everything else is KubernetesPodOperator's.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.utils.xcom_sidecar import PodDefaults

# INT: the operator's "XCom read, stop now"; TERM: the pod is being deleted. `sleep 1` bounds the wait.
SIDECAR_COMMAND = ["sh", "-c", 'trap "exit 0" INT TERM; while true; do sleep 1; done;']


class TrainingPodOperator(KubernetesPodOperator):
    """KubernetesPodOperator whose XCom sidecar image is an argument and which stops on SIGTERM."""

    def __init__(self, *, xcom_sidecar_image: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.xcom_sidecar_image = xcom_sidecar_image

    def build_pod_request_obj(self, context: Any = None, *, dry_run: bool = False) -> Any:
        pod = super().build_pod_request_obj(context, dry_run=dry_run)
        for container in pod.spec.containers[1:]:
            if container.name == PodDefaults.SIDECAR_CONTAINER_NAME:
                container.command = list(SIDECAR_COMMAND)
                if self.xcom_sidecar_image:
                    container.image = self.xcom_sidecar_image
        return pod
