"""Failure and lateness alerts: a Slack-style JSON message posted to an incoming webhook.

The webhook URL comes from an Airflow connection (its password, or its host when that is a
full URL, as Slack webhook connections store it), falling back to an environment variable so a
cluster without the connection still alerts. Posting never raises: a broken alert channel must
not turn into a second failure or hide the first one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

POST_TIMEOUT_SECONDS = 10


def _url_of_connection(connection: Any) -> str | None:
    for candidate in (getattr(connection, "password", None), getattr(connection, "host", None)):
        if isinstance(candidate, str) and candidate.startswith(("http://", "https://")):
            return candidate
    host = getattr(connection, "host", None)
    if not host:
        return None
    scheme = getattr(connection, "schema", None) or "https"
    port = getattr(connection, "port", None)
    return f"{scheme}://{host}{f':{port}' if port else ''}"


def webhook_url(connection_id: str, fallback_env: str) -> str | None:
    """The webhook URL from the connection, else from the environment variable, else None."""
    try:
        from airflow.sdk import Connection

        url = _url_of_connection(Connection.get(connection_id))
        if url:
            return url
    except Exception as error:  # no connection, or no Airflow context (tests, local runs)
        log.debug("alert connection %s unavailable: %s", connection_id, error)
    return os.environ.get(fallback_env) or None


async def async_webhook_url(connection_id: str, fallback_env: str) -> str | None:
    """Same as webhook_url, for the triggerer's event loop."""
    try:
        from airflow.sdk import Connection

        url = _url_of_connection(await Connection.async_get(connection_id))
        if url:
            return url
    except Exception as error:
        log.debug("alert connection %s unavailable: %s", connection_id, error)
    return os.environ.get(fallback_env) or None


def post_message(url: str | None, message: dict[str, Any]) -> bool:
    """POSTs the message as JSON; True when the webhook answered 2xx."""
    if not url:
        log.warning("no alert webhook configured; alert not sent: %s", message.get("text"))
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300
    except Exception as error:
        log.warning("alert webhook post failed: %s", error)
        return False


def failure_message(context: dict[str, Any]) -> dict[str, Any]:
    """A Slack-style message naming the DAG, task, run, try and the error."""
    task_instance = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    dag_id = (
        getattr(task_instance, "dag_id", None)
        or getattr(context.get("dag"), "dag_id", None)
        or getattr(dag_run, "dag_id", "?")
    )
    if task_instance is None:  # a DAG-level callback: the run failed (e.g. dagrun_timeout)
        run_id = context.get("run_id") or getattr(dag_run, "run_id", "?")
        reason = context.get("reason") or "failed"
        text = f":red_circle: {dag_id} run {run_id} failed: {reason}"
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        return {"text": text, "blocks": blocks, "dag_id": dag_id, "task_id": None, "run_id": run_id}
    task_id = getattr(task_instance, "task_id", "?")
    map_index = getattr(task_instance, "map_index", -1)
    task = f"{task_id}[{map_index}]" if isinstance(map_index, int) and map_index >= 0 else task_id
    run_id = context.get("run_id") or getattr(task_instance, "run_id", "?")
    try_number = getattr(task_instance, "try_number", "?")
    error = context.get("exception")
    if type(error).__name__ == "HITLTimeoutError":
        # The approval step ran out of time: not a fault, but a decision nobody took.
        text = f":hourglass: {dag_id}.{task}: no decision within the approval timeout (run {run_id}); nothing promoted, the champion is unchanged"
    else:
        text = f":red_circle: {dag_id}.{task} failed (run {run_id}, try {try_number})"
    details = f"*DAG* `{dag_id}`  *task* `{task}`\n*run* `{run_id}`  *try* {try_number}"
    if error is not None:
        details += f"\n*error* {type(error).__name__}: {str(error)[:500]}"
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"{text}\n{details}"}}],
        "dag_id": dag_id,
        "task_id": task,
        "run_id": run_id,
    }


class FailureAlert:
    """`on_failure_callback` of tasks (failed for good, retries exhausted) and of the DAG run."""

    def __init__(self, connection_id: str, fallback_env: str = "PODTRAIN_ALERT_WEBHOOK_URL") -> None:
        self.connection_id = connection_id
        self.fallback_env = fallback_env

    def __call__(self, context: dict[str, Any]) -> None:
        post_message(webhook_url(self.connection_id, self.fallback_env), failure_message(context))


async def deadline_missed(
    connection_id: str,
    fallback_env: str,
    dag_id: str,
    deadline: str,
    context: dict[str, Any] | None = None,
) -> bool:
    """DeadlineAlert callback (AsyncCallback, run by the triggerer) for a run still unfinished."""
    dag_run = (context or {}).get("dag_run") or {}
    run_id = dag_run.get("run_id", "?") if isinstance(dag_run, dict) else getattr(dag_run, "run_id", "?")
    text = f":hourglass: {dag_id} run {run_id} is late: not finished {deadline} after it was queued"
    message = {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        "dag_id": dag_id,
        "run_id": run_id,
    }
    url = await async_webhook_url(connection_id, fallback_env)
    return await asyncio.to_thread(post_message, url, message)
