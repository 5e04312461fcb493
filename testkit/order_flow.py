"""What the order-flow tests share beyond the clients (testkit/orders.py, light enough for the
benchmarks): an order placed and awaited, its workflow execution, the workflow's payment attempts, and
the bounds an order is final within, read from the template and the state machine they test."""

from __future__ import annotations

import json

from harness.paths import Paths
from harness.template import load_template
from testkit.orders import OrdersApi
from testkit.polling import wait_for

ORDER_TIMEOUT_S = 60
_RESOURCES = load_template(Paths.discover().template)["Resources"]
GRACE_S = int(
    _RESOURCES["OrderRecoveryFunction"]["Properties"]["Environment"]["Variables"]["PENDING_GRACE_SECONDS"]
)
# The documented bound (docs/orders.md): the grace, one sweep period (a local second at most), the
# workflow itself; 60 s leaves the sweep and the workflow room on a 2-core machine at twice CI's load
# (at 30 s, one run in about fifteen of the e2e suite beside a CI run failed).
RECOVERY_BOUND_S = GRACE_S + 60
WORKFLOW = json.loads((Paths.discover().root / "statemachines" / "order.asl.json").read_text())


def place_and_wait(api: OrdersApi, items: list[dict], payment_token: str) -> dict:
    response = api.place(items, payment_token)
    assert response.status == 202, response.message
    assert response.body["status"] == "PENDING"
    order_id = response.body["orderId"]
    return wait_for(lambda: api.final_order(order_id), ORDER_TIMEOUT_S, what=f"order {order_id} to finish")


def configured_payment_attempts() -> int:
    """One attempt plus the retries the workflow allows for PaymentProviderUnavailable."""
    retriers = WORKFLOW["States"]["AuthorizePayment"]["Retry"]
    return 1 + next(r["MaxAttempts"] for r in retriers if "PaymentProviderUnavailable" in r["ErrorEquals"])


def execution_of(local_stack, order_id: str) -> dict:
    """The order's workflow execution (named by the order id), as DescribeExecution gives it."""
    executions = local_stack.outputs["OrderStateMachineArn"].replace(":stateMachine:", ":execution:")
    return local_stack.client("stepfunctions").describe_execution(executionArn=f"{executions}:{order_id}")
