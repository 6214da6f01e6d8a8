"""The approval tail of the DAGs: a person approves a candidate version before it becomes champion.

`register` creates a candidate only when the gate passed; the `has_candidate` task
(candidate_registered) skips the approval and the promotion otherwise (nothing to approve).
`approve` is ApproveOrReject, the standard provider's HITLBranchOperator with the options Approve
and Reject (human in the loop: the task waits without a worker slot, the Airflow UI or REST API
answers it). Approve runs `promote` (`train promote`, the reviewer as approver, their comment as
the reason) and skips `reject`; Reject runs `reject` (`train reject`: rejection tags on the
version, the candidate alias cleared or kept as the spec says) and skips `promote`. A timeout
fails `approve` (the failure alert says so), both are skipped and the champion stays as it is.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import HITLBranchOperator, HITLOperator
from airflow.sdk import task

# The key of a task's return value in XCom (what xcom_pull(task_ids=...) reads by default).
XCOM_RETURN_KEY = "return_value"


@task.short_circuit
def candidate_registered(register_result: dict[str, Any] | None) -> bool:
    """True when register created a candidate version; False skips approve and promote."""
    if not isinstance(register_result, dict):
        return False
    return bool(register_result.get("gate_passed") and register_result.get("registered_version"))


class ApproveOrReject(HITLBranchOperator):
    """Approve / Reject, answered by a person; runs the task mapped to the answer, skips the other.

    HITLBranchOperator's XCom is the chosen task ids (and, as the task SDK skips the other branch
    by raising, not even that); the DAG's promote and reject steps need the response itself (who
    answered, their comment), so this pushes that as the task's return value, as
    ApprovalOperator's is. A timeout without an answer fails the task (HITLTimeoutError): both
    branches are skipped as upstream-failed and the failure alert names the timeout.
    """

    APPROVE = "Approve"
    REJECT = "Reject"

    def __init__(self, **kwargs: Any) -> None:
        if "options" in kwargs or "multiple" in kwargs:
            raise ValueError("ApproveOrReject has the fixed options Approve and Reject")
        super().__init__(options=[self.APPROVE, self.REJECT], multiple=False, **kwargs)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        response = HITLOperator.execute_complete(self, context=context, event=event)
        branches = [self.options_mapping.get(option, option) for option in response["chosen_options"]]
        self.hitl_summary_extra["branches_to_execute"] = branches
        # do_branch skips the other branch by raising DownstreamTasksSkipped (task SDK), so a value
        # returned after it never becomes the XCom: push the response first, as the return value.
        context["ti"].xcom_push(key=XCOM_RETURN_KEY, value=response)
        self.do_branch(context=context, branches_to_execute=branches)
        return response
