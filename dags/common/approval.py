"""The approval tail of the DAGs: a person approves a candidate version before it becomes champion.

`register` creates a candidate only when the gate passed; the `has_candidate` task
(candidate_registered) skips the approval and the promotion otherwise (nothing to approve). `approve` is the standard provider's
ApprovalOperator (human in the loop: the task waits without a worker slot, the Airflow UI or REST
API answers it); `promote` runs `train promote` with the reviewer as approver and their comment
as the reason. A rejection skips `promote`; a timeout fails `approve` (the failure alert fires)
and the champion stays as it is.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import task


@task.short_circuit
def candidate_registered(register_result: dict[str, Any] | None) -> bool:
    """True when register created a candidate version; False skips approve and promote."""
    if not isinstance(register_result, dict):
        return False
    return bool(register_result.get("gate_passed") and register_result.get("registered_version"))
