"""Checks that a Kubernetes cluster holds what the generated DAGs' pods need, before a DAG runs.

A pod whose Secret or ServiceAccount is missing does not fail: it sits in
CreateContainerConfigError until the task's startup timeout (10 minutes by default), and the task
log says little. This reads the pod settings from the DAG files themselves (so it checks exactly
what the pods will ask for) and looks each prerequisite up through the Kubernetes API:

- the namespace, and the ServiceAccount the pods run as;
- every Secret the pods read into their environment, with the key they read;
- the image pull Secrets (of type kubernetes.io/dockerconfigjson);
- for steps that request a GPU: a node that matches their node selector, tolerates nothing they
  do not tolerate, and advertises the extended resource.

Run it where Airflow runs (it needs Airflow, the cncf-kubernetes provider and its `kubernetes`
client), against the cluster the DAGs use:

    python dags/common/doctor.py [--dags-folder dags] [--kubeconfig FILE] [--context NAME]

One line per check; exit 0 when all pass, 1 when one fails (the line says what to create), 2 when
the DAG files or the cluster cannot be read at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_MISSING = 1
EXIT_UNUSABLE = 2
DOCKER_CONFIG_SECRET_TYPE = "kubernetes.io/dockerconfigjson"


@dataclass
class Requirements:
    """What the pods of the DAG files ask the cluster for, gathered across all their tasks."""

    service_accounts: set[tuple[str, str]] = field(default_factory=set)
    secret_keys: set[tuple[str, str, str]] = field(default_factory=set)
    pull_secrets: set[tuple[str, str]] = field(default_factory=set)
    # (namespace, resource, frozen node selector, frozen tolerations)
    gpu_steps: set[tuple[str, str, tuple, tuple]] = field(default_factory=set)
    tasks: int = 0


def _operator_argument(task: Any, name: str) -> Any:
    """A constructor argument of a pod task, also for a mapped task (its partial() arguments)."""
    if hasattr(task, "partial_kwargs"):
        return task.partial_kwargs.get(name)
    return getattr(task, name, None)


def _is_pod_task(task: Any) -> bool:
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    if isinstance(task, KubernetesPodOperator):
        return True
    operator_class = getattr(task, "operator_class", None)
    return isinstance(operator_class, type) and issubclass(operator_class, KubernetesPodOperator)


def load_dags(folder: Path) -> list[Any]:
    from airflow.sdk import DAG

    sys.path.insert(0, str(folder))  # the DAG files import their `common` package
    dags = []
    for dag_file in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"podtrain_doctor_{dag_file.stem}", dag_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dags.extend(value for value in vars(module).values() if isinstance(value, DAG))
    return dags


def requirements_of(dags: list[Any]) -> Requirements:
    needed = Requirements()
    for dag in dags:
        for task in dag.tasks:
            if not _is_pod_task(task):
                continue
            needed.tasks += 1
            namespace = _operator_argument(task, "namespace") or "default"
            account = _operator_argument(task, "service_account_name")
            if account:
                needed.service_accounts.add((namespace, account))
            for secret in _operator_argument(task, "secrets") or []:
                if secret.deploy_type == "env" and secret.key:
                    needed.secret_keys.add((namespace, secret.secret, secret.key))
            for reference in _operator_argument(task, "image_pull_secrets") or []:
                needed.pull_secrets.add((namespace, reference.name))
            resources = _operator_argument(task, "container_resources")
            for resource in ((resources.limits or {}) if resources is not None else {}):
                if "/" in resource:  # an extended resource such as nvidia.com/gpu
                    selector = tuple(sorted((_operator_argument(task, "node_selector") or {}).items()))
                    tolerations = tuple(sorted((t.key, t.operator, t.effect) for t in _operator_argument(task, "tolerations") or []))
                    needed.gpu_steps.add((namespace, resource, selector, tolerations))
    return needed


def _tolerated(taint: Any, tolerations: tuple) -> bool:
    return any((key == taint.key or (key is None and operator == "Exists")) and (effect in (None, taint.effect)) for key, operator, effect in tolerations)


def check(needed: Requirements, core: Any) -> list[tuple[bool, str]]:
    """(passed, line) per prerequisite, in a stable order."""
    from kubernetes.client.exceptions import ApiException

    def exists(read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    results: list[tuple[bool, str]] = []
    for namespace in sorted({namespace for namespace, _ in needed.service_accounts} | {namespace for namespace, *_ in needed.secret_keys}):
        found = exists(core.read_namespace, namespace) is not None
        results.append((found, f"namespace {namespace}: " + ("ok" if found else f"missing: kubectl create namespace {namespace}")))
    for namespace, account in sorted(needed.service_accounts):
        found = exists(core.read_namespaced_service_account, account, namespace) is not None
        results.append((found, f"serviceaccount {namespace}/{account}: " + ("ok" if found else f"missing: kubectl -n {namespace} create serviceaccount {account}")))
    secrets: dict[tuple[str, str], Any] = {}
    for namespace, name, key in sorted(needed.secret_keys):
        secret = secrets.setdefault((namespace, name), exists(core.read_namespaced_secret, name, namespace))
        if secret is None:
            results.append((False, f"secret {namespace}/{name} (key {key}): missing: kubectl -n {namespace} create secret generic {name} --from-literal={key}=…"))
        elif key not in (secret.data or {}):
            results.append((False, f"secret {namespace}/{name}: has no key {key} (keys: {', '.join(sorted(secret.data or {})) or 'none'}): add it"))
        else:
            results.append((True, f"secret {namespace}/{name} key {key}: ok"))
    for namespace, name in sorted(needed.pull_secrets):
        secret = exists(core.read_namespaced_secret, name, namespace)
        if secret is None:
            results.append((False, f"image pull secret {namespace}/{name}: missing: kubectl -n {namespace} create secret docker-registry {name} --docker-server=… --docker-username=… --docker-password=…"))
        elif secret.type != DOCKER_CONFIG_SECRET_TYPE:
            results.append((False, f"image pull secret {namespace}/{name}: type {secret.type}, not {DOCKER_CONFIG_SECRET_TYPE}"))
        else:
            results.append((True, f"image pull secret {namespace}/{name}: ok"))
    nodes = core.list_node().items if needed.gpu_steps else []
    for _namespace, resource, selector, tolerations in sorted(needed.gpu_steps):
        fitting = [
            node.metadata.name
            for node in nodes
            if all((node.metadata.labels or {}).get(label) == value for label, value in selector)
            and all(_tolerated(taint, tolerations) for taint in (node.spec.taints or []) if taint.effect in ("NoSchedule", "NoExecute"))
            and int((node.status.allocatable or {}).get(resource, "0") or 0) > 0
        ]
        wanted = ", ".join(f"{label}={value}" for label, value in selector) or "any node"
        results.append((bool(fitting), f"GPU nodes ({resource}, {wanted}): " + (f"ok: {', '.join(fitting)}" if fitting else f"none: no node with these labels advertises {resource} (label a GPU node pool, install the device plugin); GPU steps would wait for their schedule timeout")))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the cluster prerequisites of the generated podtrain DAGs.")
    parser.add_argument("--dags-folder", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster config, else ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context")
    options = parser.parse_args(argv)
    try:
        from kubernetes import client, config

        needed = requirements_of(load_dags(options.dags_folder))
        # The client's retry warnings would otherwise go to stdout through Airflow's logging.
        logging.getLogger("urllib3").setLevel(logging.ERROR)
        if needed.tasks == 0:
            print(f"doctor: no KubernetesPodOperator task in the DAG files of {options.dags_folder}", file=sys.stderr)
            return EXIT_UNUSABLE
        if options.kubeconfig or options.context:
            config.load_kube_config(config_file=options.kubeconfig, context=options.context)
        else:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
        results = check(needed, client.CoreV1Api())
    except Exception as error:  # one actionable line, never a traceback
        print(f"doctor: cannot check the cluster: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    for passed, line in results:
        print(line)
    failed = sum(1 for passed, _ in results if not passed)
    print(f"doctor: {len(results) - failed} of {len(results)} prerequisites present for {needed.tasks} pod tasks")
    return EXIT_OK if failed == 0 else EXIT_MISSING


if __name__ == "__main__":
    sys.exit(main())
