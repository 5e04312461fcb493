"""Inventory task of the order workflow: reserve every line of an order atomically."""

from dataclasses import dataclass

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from function_settings import load
from orders_domain.models import ReserveStock

from stock_reservation.data import StockLedger
from stock_reservation.logic import reserve


@dataclass(frozen=True)
class Settings:
    catalog_table_name: str
    orders_table_name: str


settings = load(Settings)
logger = Logger()
tracer = Tracer()
metrics = Metrics()

ledger = StockLedger(boto3.client("dynamodb"), settings.catalog_table_name, settings.orders_table_name)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = parse(event=event, model=ReserveStock)
    logger.set_correlation_id(request.orderId)
    reserved_now = reserve(ledger, request.orderId, request.items)
    metrics.add_metric(
        name="StockReserved" if reserved_now else "ReservationReplayed", unit=MetricUnit.Count, value=1
    )
    return {"reserved": True}
