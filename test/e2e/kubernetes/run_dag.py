"""Runs one GENERATED Kubernetes-target DAG file (dags/*.py) with Airflow's dag.test() against
the single-node test cluster (scripts/kubernetes/up.sh), then writes what happened as JSON.

Only test-time overrides are applied, from outside the file, to the operators the file built:

- kubeconfig instead of in-cluster config (the test machine is not a pod);
- hostNetwork, so the pods reach the loopback `mlflow server` of the test, and the tracking URI
  pointed at it instead of the cluster DNS name;
- resources scaled to a 2-CPU node (the GPU limit is kept: the node advertises nvidia.com/gpu,
  so the fit pod's GPU request, node selector and tolerations are scheduled for real);
- the GPU image and `--backend tensorflow-gpu` of the CNN fit replaced by the CPU image and
  `--backend tensorflow` (no GPU and no CUDA image here);
- extra arguments per task (small data limits, a spec with a reachable gate) and a hostPath
  volume for the data the DAG reads under /data;
- the XCom sidecar image (the operator's default comes from Docker Hub) through the
  kubernetes_default connection, and on the operators when the DAG names one;
- a readiness sensor on another DAG reports ready (that DAG does not run here);
- retries and retry delay for the test;
- the run stops after `has_candidate`: `approve` waits for a person (Airflow's HITL operator),
  which dag.test() cannot answer; the approval tail is tested on the local target with a real
  api-server (test/dags/approval-e2e.test.ts).

The DAG's deadline alert stays: the generated file makes dag.test() finish with it
(dags/common/deadlines.py).

Usage: run_dag.py <overrides.json> <result.json>
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import traceback
from datetime import timedelta
from pathlib import Path


def load_dag(dag_file: Path):
    sys.path.insert(0, str(dag_file.parent))  # the DAGs import their `common` package
    spec = importlib.util.spec_from_file_location(dag_file.stem, dag_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    dags = [value for value in vars(module).values() if isinstance(value, DAG)]
    if len(dags) != 1:
        raise SystemExit(f"{dag_file}: expected one DAG, found {len(dags)}")
    return dags[0]


def scaled_resources(original, resources: dict):
    from kubernetes.client import models as k8s

    limits = dict(resources.get("limits", {}))
    # Keep the extended resources (nvidia.com/gpu) the DAG asks for: scheduling them is tested.
    for name, value in ((original.limits or {}) if original is not None else {}).items():
        if "/" in name:
            limits[name] = value
    return k8s.V1ResourceRequirements(requests=dict(resources.get("requests", {})), limits=limits)


class OperatorFields:
    """The constructor arguments of a KubernetesPodOperator, or of a mapped one's partial()."""

    def __init__(self, task):
        self.task = task
        self.mapped = hasattr(task, "partial_kwargs")

    def get(self, name):
        return self.task.partial_kwargs.get(name) if self.mapped else getattr(self.task, name)

    def set(self, name, value):
        if self.mapped:
            self.task.partial_kwargs[name] = value
        else:
            setattr(self.task, name, value)


def is_pod_task(task) -> bool:
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    if isinstance(task, KubernetesPodOperator):
        return True
    operator_class = getattr(task, "operator_class", None)
    return isinstance(operator_class, type) and issubclass(operator_class, KubernetesPodOperator)


def apply_overrides(dag, overrides: dict) -> list[str]:
    from kubernetes.client import models as k8s

    applied = []
    for task_id in overrides.get("ready_sensors", []):
        # The upstream data DAG does not run here: its readiness sensor reports ready.
        sensor = dag.get_task(task_id)
        sensor.poke = lambda context: True
        applied.append(f"{task_id}: poke() returns True (readiness of an upstream DAG that does not run here)")
    for task in dag.tasks:
        if not is_pod_task(task):
            continue
        per_task = overrides.get("tasks", {}).get(task.task_id, {})
        fields = OperatorFields(task)
        fields.set("in_cluster", False)
        fields.set("config_file", overrides["kubeconfig"])
        fields.set("hostnetwork", True)
        # Retries are task attributes (BaseOperator), also on the mapped operator itself.
        for name, value in (("retries", per_task.get("retries", overrides.get("retries", 0))),
                            ("retry_delay", timedelta(seconds=overrides.get("retry_delay_seconds", 1))),
                            ("retry_exponential_backoff", False)):
            setattr(task, name, value)
            if fields.mapped:
                fields.set(name, value)
        # A DAG that names its XCom sidecar image itself gets the test's image instead.
        if overrides.get("xcom_sidecar_image"):
            for name in ("xcom_sidecar_image", "xcom_sidecar_container_image"):
                if (name in task.partial_kwargs) if fields.mapped else hasattr(task, name):
                    fields.set(name, overrides["xcom_sidecar_image"])
        for name in ("startup_timeout_seconds", "image"):
            if name in per_task:
                fields.set(name, per_task[name])
        if not fields.mapped:  # a mapped task's arguments come from its upstream
            arguments = list(fields.get("arguments") or [])
            for old, new in per_task.get("replace_arguments", {}).items():
                arguments = [new if argument == old else argument for argument in arguments]
            fields.set("arguments", arguments + per_task.get("extra_arguments", []) + overrides.get("extra_arguments", []))
        env = fields.get("env_vars")
        if env is None:
            fields.set("env_vars", {})
            env = fields.get("env_vars")
        if isinstance(env, dict):
            env.update(overrides.get("env", {}))
        else:
            remaining = dict(overrides.get("env", {}))
            for variable in env:
                if variable.name in remaining:
                    variable.value = remaining.pop(variable.name)
            env.extend(k8s.V1EnvVar(name=name, value=value) for name, value in remaining.items())
        fields.set("container_resources", scaled_resources(fields.get("container_resources"), per_task.get("resources", overrides["resources"])))
        volumes = list(fields.get("volumes") or [])
        mounts = list(fields.get("volume_mounts") or [])
        for mount in overrides.get("host_paths", []):
            volumes.append(k8s.V1Volume(name=mount["name"], host_path=k8s.V1HostPathVolumeSource(path=mount["host_path"], type="Directory")))
            mounts.append(k8s.V1VolumeMount(name=mount["name"], mount_path=mount["mount_path"], read_only=mount.get("read_only", False)))
        fields.set("volumes", volumes)
        fields.set("volume_mounts", mounts)
        applied.append(f"{task.task_id}: {json.dumps(per_task, sort_keys=True)}")
    return applied


def subset_until(dag, task_id: str):
    """The DAG up to and including `task_id`, with the generated file's dag.test() fix re-applied."""
    from common.deadlines import deadline_safe_test

    subset = dag.partial_subset(task_ids=[task_id], include_upstream=True, include_downstream=False)
    # The copy carries the original's test() wrapper, bound to the whole DAG: wrap the copy's own.
    subset.__dict__.pop("test", None)
    return deadline_safe_test(subset)


def record_pods(pods: list) -> None:
    """Observes (does not change) each pod the operators create, for the test's assertions."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    build = KubernetesPodOperator.build_pod_request_obj

    def recording(self, *args, **kwargs):
        pod = build(self, *args, **kwargs)
        spec = pod.spec
        pods.append({
            "task_id": self.task_id,
            "containers": [{"name": c.name, "image": c.image, "args": c.args,
                            "requests": (c.resources.requests if c.resources else None),
                            "limits": (c.resources.limits if c.resources else None)} for c in spec.containers],
            "node_selector": spec.node_selector,
            "tolerations": [t.to_dict() for t in (spec.tolerations or [])],
            "host_network": spec.host_network,
            "service_account": spec.service_account_name,
        })
        return pod

    KubernetesPodOperator.build_pod_request_obj = recording


def main() -> int:
    overrides = json.loads(Path(sys.argv[1]).read_text())
    result_file = Path(sys.argv[2])
    result: dict = {"dag_file": overrides["dag_file"]}
    started = time.monotonic()
    try:
        from airflow.models.pool import Pool
        from airflow.utils.session import create_session

        with create_session() as session:
            for name, pool in json.loads(Path(overrides["pools_file"]).read_text()).items():
                Pool.create_or_update_pool(name, slots=pool["slots"], description=pool.get("description", ""), include_deferred=False, session=session)

        dag = load_dag(Path(overrides["dag_file"]))
        result["dag_id"] = dag.dag_id
        result["overrides"] = apply_overrides(dag, overrides)
        if overrides.get("until"):
            dag = subset_until(dag, overrides["until"])
            result["overrides"].append(f"run until {overrides['until']} (the approval waits for a person)")
        result["pods"] = []
        record_pods(result["pods"])
        run = dag.test(logical_date=None, run_conf=overrides.get("run_conf"))
        result["state"] = str(run.state)
        result["tasks"] = {}
        for instance in run.get_task_instances():
            key = instance.task_id if instance.map_index < 0 else f"{instance.task_id}[{instance.map_index}]"
            duration = instance.duration
            result["tasks"][key] = {"state": str(instance.state), "try_number": instance.try_number, "duration_s": round(duration, 1) if duration else None}
        result["xcom"] = {}
        from airflow.models.xcom import XComModel

        with create_session() as session:
            for row in session.query(XComModel).filter(XComModel.dag_id == dag.dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value"):
                result["xcom"][row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"] = row.value
    except BaseException as error:  # the result file must say why, whatever happened
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc()
    result["wall_s"] = round(time.monotonic() - started, 1)
    result_file.write_text(json.dumps(result, indent=2, default=str))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
