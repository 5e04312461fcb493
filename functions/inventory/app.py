"""Inventory task of the order workflow: reserve every line of an order atomically."""

import os

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from data import StockLedger
from logic import reserve
from orders_domain.models import ReserveStock

logger = Logger()
tracer = Tracer()
metrics = Metrics()

ledger = StockLedger(boto3.client("dynamodb"), os.environ["CATALOG_TABLE"], os.environ["ORDERS_TABLE"])


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context) -> dict:
    request = parse(event=event, model=ReserveStock)
    logger.set_correlation_id(request.orderId)
    reserved_now = reserve(ledger, request.orderId, request.items)
    metrics.add_metric(
        name="StockReserved" if reserved_now else "ReservationReplayed", unit=MetricUnit.Count, value=1
    )
    return {"reserved": True}
