"""Payment task of the order workflow: authorize or void with the payment provider (the simulator)."""

import functools
from dataclasses import dataclass

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from function_settings import load
from orders_domain.models import AuthorizePayment, PaymentCommand

from payment_service.data import OrderPaymentTokens, PaymentRecords
from payment_service.simulator import PaymentSimulator


@dataclass(frozen=True)
class Settings:
    payments_table_name: str
    orders_table_name: str  # read-only, the order's payment token
    payment_api_key_secret: str  # the secret's ARN; the key itself is never in the environment


settings = load(Settings)
logger = Logger()
tracer = Tracer()
metrics = Metrics()

_dynamodb = boto3.resource("dynamodb")
tokens = OrderPaymentTokens(_dynamodb.Table(settings.orders_table_name))


@functools.cache
def _provider() -> PaymentSimulator:
    """The provider, with its API key read from Secrets Manager once per instance (never in code or a
    plain variable). On the first invocation rather than at import: during init there is no trace
    context yet, so X-Ray's SDK would discard the call's subsegment (and log that it did)."""
    api_key = parameters.get_secret(settings.payment_api_key_secret, max_age=3600)
    return PaymentSimulator(PaymentRecords(_dynamodb.Table(settings.payments_table_name)), api_key)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    command = parse(event={"command": event}, model=PaymentCommand).command
    logger.set_correlation_id(command.orderId)
    if isinstance(command, AuthorizePayment):
        authorization_id = _provider().authorize(
            command.orderId, tokens.token_of(command.orderId), command.amountCents, command.currency
        )
        metrics.add_metric(name="PaymentsAuthorized", unit=MetricUnit.Count, value=1)
        logger.info("payment authorized", authorization_id=authorization_id)
        return {"authorizationId": authorization_id}
    voided = _provider().void(command.orderId, command.authorizationId)
    metrics.add_metric(name="PaymentsVoided", unit=MetricUnit.Count, value=1)
    logger.info("authorization voided", authorization_id=voided)
    return {"voidedAuthorizationId": voided}
