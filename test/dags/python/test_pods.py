"""Tests of common.pods: the XCom sidecar image and a sidecar that stops on SIGTERM.

Run with the Airflow venv, PYTHONPATH=dags (test/dags/common-python.test.ts does). No cluster:
pods are built offline (dry run) and the sidecar's shell command runs as PID 1 of a fresh PID
namespace, the way it runs in a pod.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import unittest

from airflow.providers.cncf.kubernetes.utils.xcom_sidecar import PodDefaults

from common.pods import SIDECAR_COMMAND, TrainingPodOperator


def sidecar_of(operator: TrainingPodOperator):
    pod = operator.build_pod_request_obj(dry_run=True)
    return [container for container in pod.spec.containers if container.name == PodDefaults.SIDECAR_CONTAINER_NAME]


def seconds_to_stop_on_sigterm(command: list[str]) -> float | None:
    """Runs `command` as PID 1 of a new PID namespace, sends SIGTERM; seconds until it exited, or None."""
    child = subprocess.Popen(["unshare", "--user", "--map-root-user", "--pid", "--fork", *command])
    try:
        time.sleep(1.0)
        pid_one = int(subprocess.check_output(["pgrep", "-P", str(child.pid)]).split()[0])
        started = time.monotonic()
        os.kill(pid_one, signal.SIGTERM)
        try:
            child.wait(timeout=4)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - started
    finally:
        if child.poll() is None:
            for pid in subprocess.run(["pgrep", "-P", str(child.pid)], capture_output=True, text=True).stdout.split():
                os.kill(int(pid), signal.SIGKILL)
            child.kill()
            child.wait()


def pid_namespaces_available() -> bool:
    if not shutil.which("unshare") or not shutil.which("pgrep"):
        return False
    return subprocess.run(["unshare", "--user", "--map-root-user", "--pid", "--fork", "true"], capture_output=True).returncode == 0


class TrainingPodOperatorTest(unittest.TestCase):
    def test_sidecar_image_from_the_argument(self) -> None:
        operator = TrainingPodOperator(task_id="fit", image="trainer:1", do_xcom_push=True, xcom_sidecar_image="mirror/alpine:3.24.2")
        [sidecar] = sidecar_of(operator)
        self.assertEqual(sidecar.image, "mirror/alpine:3.24.2")
        self.assertEqual(sidecar.command, SIDECAR_COMMAND)

    def test_without_the_argument_the_provider_default_stays(self) -> None:
        operator = TrainingPodOperator(task_id="fit", image="trainer:1", do_xcom_push=True)
        [sidecar] = sidecar_of(operator)
        self.assertEqual(sidecar.image, PodDefaults.SIDECAR_CONTAINER.image)
        self.assertEqual(sidecar.command, SIDECAR_COMMAND)

    def test_no_sidecar_without_xcom(self) -> None:
        operator = TrainingPodOperator(task_id="validate", image="trainer:1", do_xcom_push=False, xcom_sidecar_image="mirror/alpine:3.24.2")
        self.assertEqual(sidecar_of(operator), [])

    @unittest.skipUnless(pid_namespaces_available(), "needs unprivileged user and PID namespaces (unshare)")
    def test_sidecar_stops_on_sigterm_as_pid_one_where_the_provider_default_does_not(self) -> None:
        self.assertIsNone(seconds_to_stop_on_sigterm(list(PodDefaults.SIDECAR_CONTAINER.command)))
        stopped = seconds_to_stop_on_sigterm(SIDECAR_COMMAND)
        self.assertIsNotNone(stopped)
        self.assertLess(stopped, 2.5)


if __name__ == "__main__":
    unittest.main()
