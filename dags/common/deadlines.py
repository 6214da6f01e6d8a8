"""`dag.test()` for DAGs with a deadline alert (Airflow 3.3).

Why this exists. `DAG.test()` (airflow/sdk/definitions/dag.py, 3.3.2) does not schedule the DAG
the processor stored: it runs an in-memory copy,
`DagSerialization.deserialize_dag(DagSerialization.serialize_dag(self))`. In that copy the DAG's
`deadline` holds the *encoded alert definitions* (dicts), whereas the copy the DAG processor
writes to the database holds the *ids* of the `deadline_alert` rows (SerializedDagModel rewrites
the list). Creating the run is fine (deadlines are read from those rows), but when the run
succeeds, `DagRun.update_state` prunes the run's deadlines by looking every entry of
`dag.deadline` up with `DeadlineAlertModel.get_by_id`; with a dict SQLAlchemy raises
`'dict' object has no attribute 'hex'`, the SUCCESS state is never committed and the run stays
"running". The scheduler and `airflow dags trigger` are not affected (they use the stored ids).
`airflow dags test` goes through `dag.test()` too.

The fix, confined to `test()`: while it runs, the scheduler-side copy's encoded entries are
swapped for the ids of the run's `deadline_alert` rows — exactly what the scheduler holds — so a
test run creates its deadlines and prunes them on success as production does. The swap only
happens when an entry is not an id, so a later Airflow whose test() is fixed is left untouched.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any
from unittest import mock


def _is_alert_id(entry: object) -> bool:
    if isinstance(entry, uuid.UUID):
        return True
    if isinstance(entry, str):
        try:
            uuid.UUID(entry)
        except ValueError:
            return False
        return True
    return False


def _stored_alert_ids(dag_run: Any, session: Any) -> list[uuid.UUID]:
    """Ids of the deadline_alert rows of the DAG version the run was created from."""
    from sqlalchemy import select

    from airflow.models.deadline_alert import DeadlineAlert as DeadlineAlertModel
    from airflow.models.serialized_dag import SerializedDagModel

    query = (
        select(DeadlineAlertModel.id)
        .join(SerializedDagModel, DeadlineAlertModel.serialized_dag_id == SerializedDagModel.id)
        .where(SerializedDagModel.dag_version_id == dag_run.created_dag_version_id)
    )
    return list(session.scalars(query))


def _update_state_with_alert_ids(original: Any) -> Any:
    @functools.wraps(original)
    def update_state(self: Any, *args: Any, **kwargs: Any) -> Any:
        scheduler_dag = getattr(self, "dag", None)
        deadline = getattr(scheduler_dag, "deadline", None)
        if deadline and not all(_is_alert_id(entry) for entry in deadline):
            session = kwargs.get("session")
            if session is None:
                from airflow import settings

                session = settings.Session()
            scheduler_dag.deadline = _stored_alert_ids(self, session) or None
        return original(self, *args, **kwargs)

    return update_state


def deadline_safe_test(dag: Any) -> Any:
    """Makes `dag.test()` (and so `airflow dags test`) finish on this DAG; returns the DAG."""
    original_test = dag.test

    @functools.wraps(original_test)
    def test(*args: Any, **kwargs: Any) -> Any:
        from airflow.models.dagrun import DagRun

        with mock.patch.object(DagRun, "update_state", _update_state_with_alert_ids(DagRun.update_state)):
            return original_test(*args, **kwargs)

    # An instance attribute: the DAG class, its serialization and the scheduler are unchanged.
    object.__setattr__(dag, "test", test)
    return dag
