"""The order recovery sweep, run by an EventBridge schedule (template.yaml ``OrderRecoveryFunction``).

Handler layer only: settings, clients, the sweep's figures as metrics (EMF) and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from function_settings import load
from orders_domain.workflow import OrderWorkflow

from pending_orders.data import PendingOrders
from pending_orders.logic import Sweep

# Time kept back from the function's timeout to publish the figures of a sweep cut short.
RESERVE_MS = 5_000


@dataclass(frozen=True)
class Settings:
    orders_table_name: str
    order_state_machine_arn: str
    pending_grace_seconds: str


settings = load(Settings)
logger = Logger()
tracer = Tracer()
metrics = Metrics()
sweep = Sweep(
    PendingOrders(boto3.resource("dynamodb").Table(settings.orders_table_name)),
    OrderWorkflow(boto3.client("stepfunctions"), settings.order_state_machine_arn),
    timedelta(seconds=int(settings.pending_grace_seconds)),
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    report = sweep.run(datetime.now(UTC), lambda: context.get_remaining_time_in_millis() > RESERVE_MS)
    # Published on every sweep, 0 included, so the alarm on the age always has data.
    metrics.add_metric(
        name="OldestPendingOrderAgeSeconds", unit=MetricUnit.Seconds, value=report.oldest_age_s
    )
    metrics.add_metric(name="PendingOrdersPastGrace", unit=MetricUnit.Count, value=report.past_grace)
    metrics.add_metric(name="WorkflowStartsFailed", unit=MetricUnit.Count, value=report.starts_failed)
    if report.past_grace:
        logger.warning("pending orders past the grace period started", **vars(report))
    return vars(report)
