"""Date partitions for incremental (tick) DAGs: which dates a run covers, as `train` arguments.

A scheduled run covers the dates of its data interval; a manual run may pass an explicit range
(a range backfill in one run). The cap keeps a mistyped range from launching hundreds of pods.
"""

from __future__ import annotations

import shlex
from datetime import date, timedelta

from airflow.sdk import task


def partition_dates(first_date: str, last_date: str, weekdays: list[int] | None, max_partitions: int) -> list[str]:
    """ISO dates from first_date to last_date inclusive, keeping ISO weekdays (1 = Monday) if given."""
    first, last = date.fromisoformat(first_date), date.fromisoformat(last_date)
    if last < first:
        raise ValueError(f"partition range is empty: {first_date} is after {last_date}")
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    dates = [day.isoformat() for day in days if weekdays is None or day.isoweekday() in weekdays]
    if not dates:
        raise ValueError(f"no partition dates between {first_date} and {last_date} on weekdays {weekdays}")
    if len(dates) > max_partitions:
        raise ValueError(
            f"{len(dates)} partitions between {first_date} and {last_date} exceed the cap of {max_partitions};"
            " split the range into several runs"
        )
    return dates


@task
def partition_arguments(
    base_arguments: list[str],
    first_date: str,
    last_date: str,
    weekdays: list[int] | None,
    max_partitions: int,
    shell_prefix: list[str] | None = None,
) -> list[list[str]] | list[str]:
    """One `train` argument list per partition date (or one shell command with shell_prefix)."""
    argument_lists = [
        [*base_arguments, "--date", day] for day in partition_dates(first_date, last_date, weekdays, max_partitions)
    ]
    if shell_prefix is None:
        return argument_lists
    return [shlex.join([*shell_prefix, *arguments]) for arguments in argument_lists]
