"""Updating a stage's stack as ``sam deploy`` does: a change set (UPDATE, or CREATE for a new stage),
executed, then watched until the stack is stable. The caller polls ``StackUpdate.poll`` so that it can
follow the CodeDeploy deployments the update starts in the same loop."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from harness.errors import USAGE, HarnessError
from harness.stack.deploy import failure_reasons, stack_status

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_SUCCEEDED = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
_ROLLED_BACK = ("UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_TIMEOUT_S = 300


class StackUpdateError(HarnessError):
    """The change set could not be made or executed; the message says why."""

    exit_code = USAGE


@dataclass
class StackUpdate:
    cloudformation: Any
    stack_name: str
    change_set_id: str
    status: str = ""
    _seen_in_progress: bool = False

    def poll(self) -> bool:
        """Read the stack's status; True once the update has ended (succeeded, rolled back or failed)."""
        self.status = stack_status(self.cloudformation, self.stack_name) or "DELETED"
        if self.status.endswith("_IN_PROGRESS") and self.status not in _SUCCEEDED + _ROLLED_BACK:
            self._seen_in_progress = True
            return False
        # Right after ExecuteChangeSet the stack may still show its previous, stable status.
        return self._seen_in_progress or self._execution_ended()

    @property
    def succeeded(self) -> bool:
        return self.status in _SUCCEEDED

    @property
    def rolled_back(self) -> bool:
        return self.status in _ROLLED_BACK

    def failure(self) -> str:
        reasons = failure_reasons(self.cloudformation, self.stack_name)
        return f"stack {self.stack_name} is {self.status}:\n{reasons}"

    def _execution_ended(self) -> bool:
        cloudformation = self.cloudformation
        try:
            described = cloudformation.describe_change_set(ChangeSetName=self.change_set_id)
        except cloudformation.exceptions.ChangeSetNotFoundException:
            return True  # AWS removes a stack's change sets once one has executed
        return described["ExecutionStatus"] in ("EXECUTE_COMPLETE", "EXECUTE_FAILED")


def start_update(
    cloudformation, stack_name: str, template: dict, parameters: dict[str, str] | None, name: str
) -> StackUpdate | None:
    """Create and execute a change set; None when it holds no change. ``parameters`` None keeps each
    existing stack parameter's value (UPDATE); a dict gives every value (CREATE of a new stage)."""
    creating = parameters is not None
    given: list[dict[str, object]]
    if parameters is not None:
        given = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    else:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        given = [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in stack.get("Parameters", [])
        ]
    change_set = cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateBody=json.dumps(template, separators=(",", ":")),
        Parameters=given,
        Capabilities=CAPABILITIES,
        Description="harness release promote",
    )
    change_set_id = change_set["Id"]
    described = _wait_created(cloudformation, change_set_id)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        cloudformation.delete_change_set(ChangeSetName=change_set_id)
        if any(marker in reason for marker in _NO_CHANGES):
            return None
        raise StackUpdateError(f"change set for {stack_name} failed: {reason}")
    cloudformation.execute_change_set(ChangeSetName=change_set_id)
    return StackUpdate(cloudformation, stack_name, change_set_id)


def _wait_created(cloudformation, change_set_id: str) -> dict:
    deadline = time.monotonic() + CHANGE_SET_TIMEOUT_S
    while time.monotonic() < deadline:
        described = cloudformation.describe_change_set(ChangeSetName=change_set_id)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        time.sleep(0.2)
    raise StackUpdateError(f"change set {change_set_id} not created after {CHANGE_SET_TIMEOUT_S}s")
