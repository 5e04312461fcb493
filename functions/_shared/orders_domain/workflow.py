"""Starting an order's workflow, shared by the orders API (which starts it when the order is stored)
and the order recovery sweep (which starts it for an order still PENDING when the API could not).

A PENDING order carries ``pendingShard`` (the partition key of the sparse ``PendingOrders`` index) and
the ``payment`` its workflow needs; the workflow removes both when it records the final status, so the
index holds exactly the orders without an outcome yet. The payment token never enters the execution's
input (Step Functions keeps that, and every task's input, in the execution history for 90 days): the
workflow carries the order id, and the payment function reads the token from the stored order.

Every start of one order is the same call (execution named after the order, input built from the
stored order), so any number of starters yield one execution: AWS answers a repeated start of a
running execution with that execution, and a start after it closed (or with another input) with
``ExecutionAlreadyExists``; both mean "started".
No boto3 import here: the caller passes its client (boto3 comes with the Lambda runtime).
"""

from __future__ import annotations

import json
import zlib

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

PENDING_ORDERS_INDEX = "PendingOrders"
# Pending orders spread over a few index partitions, so the index takes as many writes as the table;
# the sweep reads each one.
PENDING_SHARDS = 4
# Powertools' way for a module other than the handler's: a child of the function's service logger.
logger = Logger(child=True)
WORKFLOW_INPUT_FIELDS = ("orderId", "customerId", "items", "totalCents", "currency")


class WorkflowStartFailed(Exception):
    """Step Functions did not take the start (throttled, unavailable, unreachable); retry later."""


def pending_shard(order_id: str) -> str:
    return str(zlib.crc32(order_id.encode()) % PENDING_SHARDS)


def workflow_input(order: dict) -> dict:
    """The execution input of a stored order (plain values: ints, not Decimals)."""
    return {field: order[field] for field in WORKFLOW_INPUT_FIELDS}


class OrderWorkflow:
    def __init__(self, stepfunctions, state_machine_arn: str):
        self._stepfunctions = stepfunctions
        self._state_machine_arn = state_machine_arn

    def start(self, order: dict) -> None:
        """Make sure the order's execution exists (started now or before)."""
        try:
            self._stepfunctions.start_execution(
                stateMachineArn=self._state_machine_arn,
                name=order["orderId"],
                input=json.dumps(workflow_input(order)),
            )
        except self._stepfunctions.exceptions.ExecutionAlreadyExists:
            return
        except (ClientError, BotoCoreError) as error:
            # The order stays PENDING for the recovery sweep; why it did not start belongs in the log
            # (an AccessDeniedException here is a permission the template misses).
            logger.warning("workflow not started", extra={"orderId": order["orderId"], "error": str(error)})
            raise WorkflowStartFailed(str(error)) from error
