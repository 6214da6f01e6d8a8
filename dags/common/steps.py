"""The pod tasks of the generated Kubernetes DAGs, built from what is particular to each step.

A generated DAG file names, per step, only its task id, `train` arguments, resources and what
sets the step apart (a GPU, a pool, XCom, the fit run); everything else every pod shares (image,
environment, volumes, how long a pod may stay Pending, the deployment's pod settings) comes from
common/deployment.py, generated once from deploy/deployment.yaml. Hand-written, not generated:
this is logic, the same for every deployment; the values it reads are generated.

approval_tail() builds the steps after `register` (has_candidate -> approve -> promote | reject,
common/approval.py says how they behave) from the model, its aliases and the approval timeout.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param
from kubernetes.client import models as k8s

from common import deployment
from common.approval import ApproveOrReject, candidate_registered
from common.pods import TrainingPodOperator

# Templates of the values the tail's steps read from XCom at run time (Airflow renders them).
FIT_RUN_ID = "{{ ti.xcom_pull(task_ids='fit')['run_id'] }}"
REGISTERED_VERSION = "{{ ti.xcom_pull(task_ids='register')['registered_version'] }}"
REVIEWER = "{{ ti.xcom_pull(task_ids='approve')['responded_by_user']['name'] }}"


def reviewer_reason(default: str) -> str:
    """The reviewer's comment, or `default` when they left none."""
    return "{{ ti.xcom_pull(task_ids='approve')['params_input'].get('reason') or '" + default + "' }}"


def approval_markdown(*, model: str, candidate_alias: str, champion_alias: str, gate_metric: str) -> str:
    """What the reviewer sees in the approve task (Airflow renders the templates)."""
    run = "{{ r['run_id'] }}"
    run_link = deployment.MLFLOW_UI_URL + "/#/experiments/{{ r['experiment_id'] }}/runs/" + run
    return "".join([
        "{% set r = ti.xcom_pull(task_ids='register') %}\n",
        f"**Model** `{model}` version **" + "{{ r['registered_version'] }}" + f"** (alias `{candidate_alias}`)\n",
        "\n",
        f"**Gate** `{gate_metric}` = " + "{{ r['metrics']['" + gate_metric + "'] }}: {{ r['gate_reason'] }}\n",
        "\n",
        f"**MLflow run** [{run}]({run_link})\n",
        "\n",
        "**Data and code versions**: the version's tags `data.version`, `mlflow.source.git.commit` and `podtrain.image`.\n",
        "\n",
        f"Approve: `{champion_alias}` moves to this version (`train promote`, your comment is the recorded reason). "
        "Reject: the champion stays, the version is tagged as rejected with your comment.\n",
    ])


class TrainingSteps:
    """Builds the TrainingPodOperator tasks of one DAG; `pod_defaults` is its pod_defaults() result."""

    def __init__(self, pod_defaults: dict[str, Any], *, pool: str) -> None:
        self.pod_defaults = pod_defaults
        # The pool of every step that holds no GPU (a GPU pool counts GPUs, not pods).
        self.pool = pool

    def pod_arguments(
        self,
        task_id: str,
        *,
        cpu: str,
        memory: str,
        gpus: int = 0,
        gpu_class: str | None = None,
        pool: str | None = None,
        pool_slots: int = 1,
        xcom: bool = False,
        reads_fit_run: bool = False,
        checkpoint: bool = False,
        deferrable: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """The KubernetesPodOperator arguments of one step (without `arguments`)."""
        # Memory limit = request (no overcommit for training); no CPU limit (throttling only slows fits).
        limits: dict[str, str] = {"memory": memory}
        gpu_settings: dict[str, Any] = {}
        schedule_timeout = deployment.SCHEDULE_TIMEOUT_SECONDS
        if gpus:
            if gpu_class not in deployment.GPU_CLASSES:
                raise ValueError(f"{task_id}: gpu_class {gpu_class!r} is not one of {sorted(deployment.GPU_CLASSES)}")
            gpu = deployment.GPU_CLASSES[gpu_class]
            limits[gpu["resource"]] = str(gpus)
            schedule_timeout = gpu["schedule_timeout_seconds"]
            if gpu["node_selector"]:
                gpu_settings["node_selector"] = dict(gpu["node_selector"])
            if gpu["tolerations"]:
                gpu_settings["tolerations"] = list(gpu["tolerations"])
        env = dict(deployment.POD_ENV)
        if reads_fit_run:
            env["MLFLOW_RUN_ID"] = FIT_RUN_ID
        volumes = list(deployment.POD_VOLUMES)
        mounts = list(deployment.POD_VOLUME_MOUNTS)
        if checkpoint:  # only a deployment with `checkpoints` defines these
            volumes.append(deployment.CHECKPOINT_VOLUME)
            mounts.append(deployment.CHECKPOINT_MOUNT)
        if pool_slots > 1:
            extra["pool_slots"] = pool_slots
        return {
            "task_id": task_id,
            "image": deployment.GPU_IMAGE if gpus else deployment.IMAGE,
            "env_vars": env,
            "container_resources": k8s.V1ResourceRequirements(requests={"cpu": cpu, "memory": memory}, limits=limits),
            "volumes": volumes,
            "volume_mounts": mounts,
            "schedule_timeout_seconds": schedule_timeout,
            # Explicit: the cluster-wide [operators] default_deferrable must not turn it on unasked.
            "deferrable": deferrable,
            "pool": pool or self.pool,
            "do_xcom_push": xcom,
            **gpu_settings,
            **extra,
            **self.pod_defaults,
        }

    def step(self, task_id: str, arguments: list[str], **settings: Any) -> TrainingPodOperator:
        """One pod running `train *arguments`; `settings` as pod_arguments() takes them."""
        return TrainingPodOperator(arguments=arguments, **self.pod_arguments(task_id, **settings))

    def partial(self, task_id: str, **settings: Any) -> Any:
        """A mapped step: the caller expands `arguments` (one pod per element)."""
        return TrainingPodOperator.partial(**self.pod_arguments(task_id, **settings))

    def approval_tail(
        self,
        register: Any,
        *,
        model: str,
        champion_alias: str,
        candidate_alias: str,
        on_reject: str,
        gate_metric: str,
        response_timeout: timedelta,
        cpu: str,
        memory: str,
    ) -> tuple[Any, ApproveOrReject, TrainingPodOperator, TrainingPodOperator]:
        """has_candidate, approve, promote and reject; the DAG file orders them after `register`."""
        # Only a registered candidate is put to a person; the answer runs promote or reject.
        has_candidate = candidate_registered.override(task_id="has_candidate", pool=self.pool)(register.output)
        approve = ApproveOrReject(
            task_id="approve",
            subject=f"Promote {model} version {REGISTERED_VERSION} to {champion_alias}?",
            body=approval_markdown(model=model, candidate_alias=candidate_alias, champion_alias=champion_alias, gate_metric=gate_metric),
            options_mapping={"Approve": "promote", "Reject": "reject"},
            params={"reason": Param("", type="string", description="Your reason (recorded on the model version)")},
            response_timeout=response_timeout,
            pool=self.pool,
            # Asking again after a timeout is a new decision, not a retry.
            retries=0,
        )
        promote = self.step(
            "promote",
            ["promote", model, REGISTERED_VERSION, "--alias", champion_alias,
             "--approver", REVIEWER, "--reason", reviewer_reason("approved in Airflow")],
            cpu=cpu,
            memory=memory,
        )
        reject = self.step(
            "reject",
            ["reject", model, REGISTERED_VERSION, "--candidate-alias", candidate_alias, "--on-reject", on_reject,
             "--rejected-by", REVIEWER, "--reason", reviewer_reason("rejected in Airflow")],
            cpu=cpu,
            memory=memory,
        )
        return has_candidate, approve, promote, reject
