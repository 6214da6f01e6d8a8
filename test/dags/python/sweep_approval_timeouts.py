"""The scheduler's Human-in-the-loop timeout sweep, alone, against the test's metadata database.

On Airflow 3.3 a HITL task waits in AWAITING_INPUT and its response_timeout is enforced by the
scheduler (SchedulerJobRunner.check_awaiting_input_timeouts, every
[scheduler] trigger_timeout_check_interval). `airflow dags test` runs no scheduler, and a real one
would also schedule the test's run; this calls that same sweep every second until it is stopped.
"""

from __future__ import annotations

import time

from airflow.jobs.job import Job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

runner = SchedulerJobRunner(job=Job())
while True:
    runner.check_awaiting_input_timeouts()
    time.sleep(1)
