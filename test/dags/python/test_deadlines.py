"""dag.test() of a DAG with a deadline alert, plain and through common.deadlines.

Needs a migrated Airflow DB and AIRFLOW__CORE__DAGS_FOLDER pointing at an empty scratch folder;
run with the Airflow venv, PYTHONPATH=dags (test/dags/common-python.test.ts does all that).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import unittest
from unittest import mock

DAG_FILE = '''
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, AsyncCallback, DeadlineAlert, DeadlineReference

from common.alerts import deadline_missed
from common.deadlines import deadline_safe_test


def make(dag_id):
    # Logical-date reference: dag.test() runs have a logical date, so a deadline row is created.
    alert = DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=timedelta(hours=6),
        callback=AsyncCallback(deadline_missed, kwargs={"connection_id": "none", "fallback_env": "NO_WEBHOOK", "dag_id": dag_id, "deadline": "6h"}),
    )
    with DAG(dag_id=dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), deadline=alert) as dag:
        BashOperator(task_id="step", bash_command="echo done")
    return dag


plain = make("deadline_plain")
wrapped = deadline_safe_test(make("deadline_wrapped"))
'''


def load_dags():
    folder = pathlib.Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    path = folder / "deadline_dags.py"
    path.write_text(DAG_FILE)
    spec = importlib.util.spec_from_file_location("deadline_dags", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class DeadlineSafeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dags = load_dags()

    def test_plain_dag_test_crashes_after_success_on_this_airflow(self) -> None:
        # The bug common.deadlines works around; when an Airflow upgrade fixes it, this fails,
        # and the wrapper (a no-op then) can go.
        from sqlalchemy.exc import StatementError

        with self.assertRaisesRegex(StatementError, "'dict' object has no attribute 'hex'"):
            self.dags.plain.test()

    def test_wrapped_dag_test_succeeds_and_reaches_the_deadline_prune(self) -> None:
        from sqlalchemy import select

        from airflow.models.deadline import Deadline
        from airflow.utils.session import create_session

        pruned_runs: list[list[object]] = []
        original = Deadline.prune_deadlines

        def recording_prune(*, session, conditions):
            pruned_runs.append(list(conditions.values()))
            return original(session=session, conditions=conditions)

        with mock.patch.object(Deadline, "prune_deadlines", side_effect=recording_prune):
            run = self.dags.wrapped.test()
        self.assertEqual(str(run.state), "success")
        # The success branch looked the stored alert up by id and asked to prune this run's deadlines.
        self.assertEqual(pruned_runs, [[run.id]])
        with create_session() as session:
            deadlines = list(session.scalars(select(Deadline).where(Deadline.dagrun_id == run.id)))
        # The run's deadline was created from the stored alert, 6 h after the logical date. (Under
        # dag.test() the prune itself finds the run unfinished: test() holds its run in another
        # session, so the row stays in the throwaway test DB; the scheduler is not affected.)
        self.assertEqual(len(deadlines), 1)
        self.assertEqual((deadlines[0].deadline_time - run.logical_date).total_seconds(), 6 * 3600)

    def test_wrapper_leaves_the_dag_and_its_class_alone(self) -> None:
        from airflow.sdk import DAG

        self.assertIsNot(type(self.dags.wrapped).test, self.dags.wrapped.test)
        self.assertTrue(hasattr(self.dags.wrapped.test, "__wrapped__"))
        self.assertFalse(hasattr(DAG.test, "__wrapped__"))
        self.assertEqual(len(self.dags.wrapped.deadline), 1)


if __name__ == "__main__":
    unittest.main()
