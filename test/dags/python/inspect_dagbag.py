"""Loads the generated DAGs into a real Airflow DagBag and dumps what the tests assert on.

Usage: .venv/airflow/bin/python inspect_dagbag.py DAGS_FOLDER OUTPUT_JSON
The caller sets AIRFLOW_HOME (a temp dir) and AIRFLOW__CORE__LOAD_EXAMPLES=False. No database
is needed: parsing and pod rendering are offline. Heavy imports are warmed first so the
per-file times measure each DAG file's own top-level work (the DAG processor keeps them warm).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def warm_imports() -> float:
    started = time.perf_counter()
    import airflow.providers.cncf.kubernetes.operators.pod  # noqa: F401
    import airflow.providers.standard.operators.bash  # noqa: F401
    import airflow.providers.standard.sensors.external_task  # noqa: F401
    import airflow.sdk  # noqa: F401

    return time.perf_counter() - started


def seconds(value: Any) -> float | None:
    return None if value is None else value.total_seconds()


def plain(value: Any) -> Any:
    """Kubernetes client models and other objects as JSON-friendly data."""
    from kubernetes.client import ApiClient

    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "to_dict") or hasattr(value, "openapi_types"):
        return ApiClient().sanitize_for_serialization(value)
    return repr(value)


def pod_of(task: Any) -> dict[str, Any]:
    pod = task.build_pod_request_obj(dry_run=True)  # no Kubernetes API needed
    container = pod.spec.containers[0]
    return {
        "image": container.image,
        "cmds": container.command,
        "args": container.args,
        "env": {item.name: item.value for item in container.env or [] if item.value is not None},
        "secret_env": {
            item.name: plain(item.value_from.secret_key_ref)
            for item in container.env or []
            if item.value_from is not None
        },
        "resources": plain(container.resources),
        "node_selector": pod.spec.node_selector,
        "tolerations": plain(pod.spec.tolerations),
        "security_context": plain(pod.spec.security_context),
        "container_security_context": plain(container.security_context),
        "service_account": pod.spec.service_account_name,
        "namespace": pod.metadata.namespace,
        "image_pull_secrets": plain(pod.spec.image_pull_secrets),
        "labels": pod.metadata.labels,
        "containers": [item.name for item in pod.spec.containers],
        "sidecar_security_context": [plain(item.security_context) for item in pod.spec.containers[1:]],
        "sidecars": [{"name": item.name, "image": item.image, "command": item.command} for item in pod.spec.containers[1:]],
        "volumes": plain(pod.spec.volumes),
        "volume_mounts": plain(container.volume_mounts),
        "termination_grace_period": pod.spec.termination_grace_period_seconds,
        "active_deadline_seconds": pod.spec.active_deadline_seconds,
    }


def task_of(task: Any) -> dict[str, Any]:
    mapped = type(task).__name__ == "MappedOperator"
    source = task.partial_kwargs if mapped else task.__dict__
    get = (lambda name: source.get(name)) if mapped else (lambda name: getattr(task, name, None))
    summary: dict[str, Any] = {
        "operator": task.operator_name if hasattr(task, "operator_name") else type(task).__name__,
        "mapped": mapped,
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "queue": task.queue,
        "priority_weight": task.priority_weight,
        "weight_rule": str(getattr(task, "weight_rule", None)),
        "retries": task.retries,
        "retry_delay": seconds(task.retry_delay),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": seconds(task.max_retry_delay),
        "execution_timeout": seconds(task.execution_timeout),
        "owner": task.owner,
        "has_on_failure_callback": bool(get("on_failure_callback")),
        "upstream": sorted(task.upstream_task_ids),
        "max_active_tis_per_dagrun": task.max_active_tis_per_dagrun,
        "do_xcom_push": get("do_xcom_push"),
    }
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    operator_class = task.operator_class if mapped else type(task)
    summary["is_pod_operator"] = isinstance(operator_class, type) and issubclass(operator_class, KubernetesPodOperator)
    if summary["is_pod_operator"]:
        for name in ("schedule_timeout_seconds", "startup_timeout_seconds", "deferrable", "durable"):
            summary[name] = get(name)
    if summary["is_pod_operator"] and not mapped:
        summary["pod"] = pod_of(task)
        summary["get_logs"] = task.get_logs
        summary["on_finish_action"] = str(
            task.on_finish_action.value if hasattr(task.on_finish_action, "value") else task.on_finish_action
        )
    if mapped:
        summary["partial"] = {
            key: plain(source.get(key)) for key in ("image", "cmds", "container_resources", "env_vars", "node_selector")
        }
    if summary["operator"] == "ExternalTaskSensor":
        summary["sensor"] = {
            "mode": task.mode,
            "timeout": task.timeout,
            "poke_interval": task.poke_interval,
            "external_dag_id": task.external_dag_id,
            "external_task_id": task.external_task_id,
        }
    if summary["operator"] in ("ApprovalOperator", "ApproveOrReject"):
        summary["approval"] = {
            "subject": task.subject,
            "body": task.body,
            "options": task.options,
            "options_mapping": getattr(task, "options_mapping", None),
            "response_timeout": seconds(task.response_timeout),
            "params": sorted(task.params.keys()),
        }
    if summary["operator"] == "BashOperator":
        summary["bash_command"] = None if mapped else task.bash_command
        summary["cwd"] = get("cwd")
        summary["env"] = get("env")
    return summary


def schedule_of(timetable: Any) -> Any:
    """The cron expression, the asset URIs, or None (manual)."""
    # Airflow 3.1's core timetable keeps the cron expression in `_expression`.
    expression = getattr(timetable, "expression", None) or getattr(timetable, "_expression", None)
    if expression is not None:
        timezone = getattr(timetable, "timezone", None) or getattr(timetable, "_timezone", None)
        return {"cron": expression, "timezone": str(getattr(timezone, "name", timezone))}
    condition = getattr(timetable, "asset_condition", None)
    if hasattr(condition, "uri") or hasattr(condition, "objects"):  # not 3.1's _NullAsset
        return {"assets": sorted(asset.uri for asset in getattr(condition, "objects", [condition]))}
    return None


def dag_of(dag: Any) -> dict[str, Any]:
    deadlines = dag.deadline or []
    return {
        "file": Path(dag.fileloc).name,
        "schedule": schedule_of(dag.timetable),
        "timetable": type(dag.timetable).__name__,
        "timezone": str(dag.timezone),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": seconds(dag.dagrun_timeout),
        "tags": sorted(dag.tags),
        "owner": dag.owner,
        "has_on_failure_callback": bool(dag.on_failure_callback),
        "has_doc_md": bool(dag.doc_md),
        "params": sorted(dag.params.keys()),
        # common.deadlines.deadline_safe_test wrapped this DAG's test().
        "test_deadline_safe": hasattr(dag.test, "__wrapped__"),
        "deadlines": [
            {
                "reference": type(item.reference).__name__,
                "interval": seconds(item.interval),
                "callback": item.callback.path,
            }
            for item in deadlines
        ],
        "tasks": {task.task_id: task_of(task) for task in dag.tasks},
    }


def rendered_partitions(dag: Any) -> dict[str, Any] | None:
    """Renders the partition range templates the way a run would, for two sample runs."""
    if "partitions" not in dag.task_ids:
        return None
    from types import SimpleNamespace

    import pendulum
    from airflow.sdk.execution_time import macros

    from common.partitions import partition_dates

    kwargs = dag.get_task("partitions").op_kwargs
    environment = dag.get_template_env()

    def render(params: dict[str, Any], start: Any, end: Any) -> dict[str, Any]:
        context = {
            "params": params,
            "data_interval_start": start,
            "data_interval_end": end,
            "dag_run": SimpleNamespace(run_after=end),
            "macros": macros,
        }
        first = environment.from_string(kwargs["first_date"]).render(**context)
        last = environment.from_string(kwargs["last_date"]).render(**context)
        dates = partition_dates(first, last, kwargs["weekdays"], kwargs["max_partitions"])
        return {"first": first, "last": last, "dates": dates}

    # The Monday run covers Friday 21:30 -> Monday 21:30; Friday belongs to the previous run.
    friday = pendulum.datetime(2026, 1, 9, 21, 30, tz="UTC")
    monday = pendulum.datetime(2026, 1, 12, 21, 30, tz="UTC")
    no_range = {"partition_from": None, "partition_to": None}
    january = {"partition_from": "2026-01-01", "partition_to": "2026-01-31"}
    return {"monday_run": render(no_range, friday, monday), "january_range": render(january, friday, monday)}


def main(dags_folder: str, output: str) -> None:
    try:
        from airflow.dag_processing.dagbag import BundleDagBag
    except ModuleNotFoundError:  # Airflow 3.1 keeps it with the models
        from airflow.models.dagbag import BundleDagBag

    warm = warm_imports()
    started = time.perf_counter()
    dagbag = BundleDagBag(dag_folder=dags_folder, bundle_path=Path(dags_folder))
    total = time.perf_counter() - started
    result = {
        "import_errors": {str(key): value for key, value in dagbag.import_errors.items()},
        "warm_imports_seconds": warm,
        "total_parse_seconds": total,
        "parse_seconds": {Path(stat.file).name: stat.duration.total_seconds() for stat in dagbag.dagbag_stats},
        "dags": {dag_id: dag_of(dag) for dag_id, dag in sorted(dagbag.dags.items())},
        "partitions": {dag_id: rendered_partitions(dag) for dag_id, dag in sorted(dagbag.dags.items())},
    }
    Path(output).write_text(json.dumps(result, indent=2, sort_keys=True, default=repr))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
