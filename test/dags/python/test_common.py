"""Tests of dags/common against a loopback webhook; run with the Airflow venv, PYTHONPATH=dags."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from unittest import mock

from common.alerts import FailureAlert, deadline_missed, failure_message, webhook_url
from common.approval import candidate_registered
from common.partitions import partition_dates


class Webhook:
    """A loopback HTTP server that records the JSON bodies posted to it."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["Content-Type"],
                        "json": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def failed_context() -> dict:
    task_instance = SimpleNamespace(
        dag_id="mnist_cnn_training", task_id="fit", run_id="scheduled__2026-01-05", try_number=3, map_index=-1
    )
    return {
        "task_instance": task_instance,
        "run_id": "scheduled__2026-01-05",
        "exception": RuntimeError('pod failed: exit 70 "oom"'),
    }


class FailureAlertTest(unittest.TestCase):
    def test_posts_slack_style_json_to_the_fallback_webhook(self) -> None:
        with Webhook() as webhook, mock.patch.dict(os.environ, {"PODTRAIN_ALERT_WEBHOOK_URL": webhook.url}):
            FailureAlert(connection_id="missing_connection")(failed_context())
        self.assertEqual(len(webhook.bodies), 1)
        body = webhook.bodies[0]
        self.assertEqual(body["path"], "/services/T000/B000/XXX")
        self.assertEqual(body["content_type"], "application/json")
        self.assertIn("mnist_cnn_training.fit failed", body["json"]["text"])
        self.assertIn("try 3", body["json"]["text"])
        self.assertIn('RuntimeError: pod failed: exit 70 "oom"', body["json"]["blocks"][0]["text"]["text"])

    def test_connection_wins_over_the_environment_variable(self) -> None:
        with Webhook() as webhook:
            environment = {
                "AIRFLOW_CONN_ML_PLATFORM_ALERTS": json.dumps({"conn_type": "http", "host": webhook.url}),
                "PODTRAIN_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/never",
            }
            with mock.patch.dict(os.environ, environment):
                self.assertEqual(webhook_url("ml_platform_alerts", "PODTRAIN_ALERT_WEBHOOK_URL"), webhook.url)
                FailureAlert(connection_id="ml_platform_alerts")(failed_context())
        self.assertEqual(len(webhook.bodies), 1)

    def test_a_broken_webhook_never_raises(self) -> None:
        with Webhook(status=500) as webhook, mock.patch.dict(os.environ, {"PODTRAIN_ALERT_WEBHOOK_URL": webhook.url}):
            FailureAlert(connection_id="missing_connection")(failed_context())
        with mock.patch.dict(os.environ, {"PODTRAIN_ALERT_WEBHOOK_URL": ""}):
            FailureAlert(connection_id="missing_connection")(failed_context())  # nothing configured: logs only

    def test_an_approval_timeout_says_no_decision_came_and_the_champion_stays(self) -> None:
        from airflow.providers.standard.exceptions import HITLTimeoutError

        context = failed_context()
        context["task_instance"].task_id = "approve"
        context["exception"] = HITLTimeoutError({"error": "The Human-in-the-loop response timeout has passed", "error_type": "timeout"})
        text = failure_message(context)["text"]
        self.assertEqual(
            text,
            ":hourglass: mnist_cnn_training.approve: no decision within the approval timeout"
            " (run scheduled__2026-01-05); nothing promoted, the champion is unchanged",
        )

    def test_mapped_task_names_its_index(self) -> None:
        context = failed_context()
        context["task_instance"].task_id = "features"
        context["task_instance"].map_index = 4
        self.assertIn("features[4]", failure_message(context)["text"])

    def test_run_level_failure_names_the_run_and_reason(self) -> None:
        context = {
            "dag_run": SimpleNamespace(dag_id="tick_model_training", run_id="scheduled__y"),
            "reason": "timed_out",
        }
        self.assertEqual(
            failure_message(context)["text"], ":red_circle: tick_model_training run scheduled__y failed: timed_out"
        )


class DeadlineTest(unittest.TestCase):
    def test_deadline_callback_posts_from_the_event_loop(self) -> None:
        with Webhook() as webhook, mock.patch.dict(os.environ, {"PODTRAIN_ALERT_WEBHOOK_URL": webhook.url}):
            sent = asyncio.run(
                deadline_missed(
                    "missing_connection",
                    "PODTRAIN_ALERT_WEBHOOK_URL",
                    "tick_model_training",
                    "3h",
                    context={"dag_run": {"run_id": "scheduled__x"}},
                )
            )
        self.assertTrue(sent)
        self.assertIn("tick_model_training run scheduled__x is late", webhook.bodies[0]["json"]["text"])


class PartitionTest(unittest.TestCase):
    def test_weekdays_only(self) -> None:
        self.assertEqual(partition_dates("2026-01-10", "2026-01-12", [1, 2, 3, 4, 5], 31), ["2026-01-12"])

    def test_every_day_without_a_weekday_filter(self) -> None:
        self.assertEqual(len(partition_dates("2026-01-01", "2026-01-31", None, 31)), 31)

    def test_the_cap_and_empty_ranges_fail_loudly(self) -> None:
        with self.assertRaisesRegex(ValueError, "exceed the cap of 31"):
            partition_dates("2026-01-01", "2026-03-01", None, 31)
        with self.assertRaisesRegex(ValueError, "is after"):
            partition_dates("2026-01-02", "2026-01-01", None, 31)
        with self.assertRaisesRegex(ValueError, "no partition dates"):
            partition_dates("2026-01-10", "2026-01-11", [1, 2, 3, 4, 5], 31)


class ApproveOrRejectTest(unittest.TestCase):
    """The operator's answer handling, with the event a response (or the timeout sweep) resumes it with."""

    def operator(self):
        from common.approval import ApproveOrReject

        return ApproveOrReject(task_id="approve", subject="Promote?", options_mapping={"Approve": "promote", "Reject": "reject"})

    def test_options_are_fixed(self) -> None:
        from common.approval import ApproveOrReject

        self.assertEqual(self.operator().options, ["Approve", "Reject"])
        with self.assertRaises(ValueError):
            ApproveOrReject(task_id="approve", subject="Promote?", options=["Yes"])

    def test_pushes_the_response_as_its_return_value_then_branches_to_the_chosen_task(self) -> None:
        import datetime

        from airflow.sdk.exceptions import DownstreamTasksSkipped

        operator = self.operator()
        event = {
            "chosen_options": ["Reject"],
            "params_input": {},
            "responded_at": datetime.datetime(2026, 1, 19, tzinfo=datetime.timezone.utc),
            "responded_by_user": {"id": "reviewer", "name": "reviewer"},
        }
        ti = mock.Mock()
        context = {"ti": ti}

        # As the task SDK does: skipping the branch not taken ends execute_complete by raising.
        def skip(context, branches_to_execute):
            raise DownstreamTasksSkipped(tasks=["promote"])

        with mock.patch.object(type(operator), "do_branch", side_effect=skip) as branch:
            with self.assertRaises(DownstreamTasksSkipped):
                operator.execute_complete(context=context, event=event)
        branch.assert_called_once_with(context=context, branches_to_execute=["reject"])
        ti.xcom_push.assert_called_once()
        self.assertEqual(ti.xcom_push.call_args.kwargs["key"], "return_value")
        response = ti.xcom_push.call_args.kwargs["value"]
        self.assertEqual(response["responded_by_user"]["name"], "reviewer")
        self.assertEqual(response["chosen_options"], ["Reject"])

    def test_a_timeout_event_fails_the_task(self) -> None:
        from airflow.providers.standard.exceptions import HITLTimeoutError

        with self.assertRaises(HITLTimeoutError):
            self.operator().execute_complete(context={}, event={"error": "timeout has passed", "error_type": "timeout"})


class ApprovalTest(unittest.TestCase):
    def test_a_registered_candidate_goes_to_approval(self) -> None:
        result = {"run_id": "r1", "gate_passed": True, "registered_version": "3", "metrics": {"test_accuracy": 0.99}}
        self.assertTrue(candidate_registered.function(result))

    def test_no_candidate_skips_approval(self) -> None:
        for result in (None, "", {"gate_passed": False, "gate_reason": "below threshold"}, {"gate_passed": True}):
            self.assertFalse(candidate_registered.function(result), result)


if __name__ == "__main__":
    unittest.main()
