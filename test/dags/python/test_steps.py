"""Tests of common.steps: the pods TrainingSteps builds from what a generated DAG names per step.

Run with the Airflow venv, PYTHONPATH=dags (test/dags/common-python.test.ts does). Pods are built
offline (dry run) against the generated common/deployment.py of this repository.
"""

from __future__ import annotations

import unittest
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from common import deployment
from common.steps import REGISTERED_VERSION, TrainingSteps

POD_DEFAULTS = deployment.pod_defaults(workflow="mnist", dag_id="steps_test", termination_grace_period=45, active_deadline_seconds=7200)
GPU_CLASS = sorted(deployment.GPU_CLASSES)[0]


def test_dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 5, tz="UTC"))


class TrainingStepsTest(unittest.TestCase):
    def test_a_cpu_step_gets_the_deployment_image_env_volumes_and_pending_timeout(self) -> None:
        with test_dag("steps_cpu"):
            step = TrainingSteps(POD_DEFAULTS, pool="cpu_pool").step("validate", ["mnist", "validate"], cpu="1", memory="2Gi")
        pod = step.build_pod_request_obj(dry_run=True)
        container = pod.spec.containers[0]
        self.assertEqual(container.image, deployment.IMAGE)
        self.assertEqual(container.args, ["mnist", "validate"])
        self.assertEqual(container.resources.requests, {"cpu": "1", "memory": "2Gi"})
        self.assertEqual(container.resources.limits, {"memory": "2Gi"})
        self.assertEqual((pod.spec.node_selector or {}, pod.spec.tolerations or []), ({}, []))
        self.assertEqual(step.schedule_timeout_seconds, deployment.SCHEDULE_TIMEOUT_SECONDS)
        self.assertEqual((step.pool, step.do_xcom_push, step.deferrable), ("cpu_pool", False, False))
        self.assertNotIn("MLFLOW_RUN_ID", {variable.name for variable in step.env_vars})

    def test_a_gpu_step_gets_its_class_limit_placement_image_and_pending_timeout(self) -> None:
        gpu = deployment.GPU_CLASSES[GPU_CLASS]
        with test_dag("steps_gpu"):
            fit = TrainingSteps(POD_DEFAULTS, pool="cpu_pool").step(
                "fit", ["mnist", "--stage", "fit"], cpu="4", memory="16Gi", gpus=2, gpu_class=GPU_CLASS, pool="gpu_pool", xcom=True
            )
        pod = fit.build_pod_request_obj(dry_run=True)
        self.assertEqual(pod.spec.containers[0].image, deployment.GPU_IMAGE)
        self.assertEqual(pod.spec.containers[0].resources.limits, {"memory": "16Gi", gpu["resource"]: "2"})
        self.assertEqual(pod.spec.node_selector or {}, gpu["node_selector"])
        self.assertEqual(len(pod.spec.tolerations or []), len(gpu["tolerations"]))
        self.assertEqual((fit.schedule_timeout_seconds, fit.pool, fit.do_xcom_push), (gpu["schedule_timeout_seconds"], "gpu_pool", True))

    def test_an_unknown_gpu_class_is_refused_with_the_known_ones(self) -> None:
        with test_dag("steps_unknown_gpu"), self.assertRaisesRegex(ValueError, f"fit: gpu_class 'tpu' is not one of .*{GPU_CLASS}"):
            TrainingSteps(POD_DEFAULTS, pool="cpu_pool").step("fit", ["mnist"], cpu="4", memory="16Gi", gpus=1, gpu_class="tpu")

    def test_each_step_gets_its_own_env_and_volume_lists(self) -> None:
        # Test-time overrides (test/e2e/kubernetes/run_dag.py) change one task's lists in place.
        steps = TrainingSteps(POD_DEFAULTS, pool="cpu_pool")
        first = steps.pod_arguments("evaluate", cpu="1", memory="2Gi", reads_fit_run=True)
        second = steps.pod_arguments("register", cpu="1", memory="2Gi")
        first["env_vars"]["EXTRA"] = "1"
        first["volumes"].append("extra")
        self.assertEqual(second["env_vars"], deployment.POD_ENV)
        self.assertEqual(second["volumes"], deployment.POD_VOLUMES)
        self.assertNotIn("EXTRA", deployment.POD_ENV)
        self.assertEqual(first["env_vars"]["MLFLOW_RUN_ID"], "{{ ti.xcom_pull(task_ids='fit')['run_id'] }}")

    def test_the_approval_tail_follows_register_and_branches_to_promote_and_reject(self) -> None:
        with test_dag("steps_tail") as dag:
            steps = TrainingSteps(POD_DEFAULTS, pool="cpu_pool")
            register = steps.step("register", ["mnist", "--stage", "register", "--xcom"], cpu="1", memory="2Gi", xcom=True)
            has_candidate, approve, promote, reject = steps.approval_tail(
                register, model="m", champion_alias="champ", candidate_alias="cand", on_reject="keep_candidate",
                gate_metric="test_accuracy", response_timeout=timedelta(hours=1), cpu="1", memory="2Gi",
            )
            has_candidate >> approve >> [promote, reject]
        self.assertEqual(dag.get_task("has_candidate").upstream_task_ids, {"register"})
        self.assertIn("**Gate** `test_accuracy` = {{ r['metrics']['test_accuracy'] }}", approve.body)
        self.assertIn(f"({deployment.MLFLOW_UI_URL}/#/experiments/{{{{ r['experiment_id'] }}}}/runs/", approve.body)
        self.assertEqual(approve.options_mapping, {"Approve": "promote", "Reject": "reject"})
        self.assertEqual((approve.pool, approve.retries, approve.response_timeout), ("cpu_pool", 0, timedelta(hours=1)))
        self.assertEqual(promote.arguments[:5], ["promote", "m", REGISTERED_VERSION, "--alias", "champ"])
        self.assertEqual(reject.arguments[:7], ["reject", "m", REGISTERED_VERSION, "--candidate-alias", "cand", "--on-reject", "keep_candidate"])
        self.assertEqual({promote.pool, reject.pool, promote.do_xcom_push, reject.do_xcom_push}, {"cpu_pool", False})


if __name__ == "__main__":
    unittest.main()
