"""Orders API: POST /orders, GET /orders/{orderId}, GET /orders (API Gateway REST, Cognito authorizer).

Handler layer only: HTTP in and out, the caller's identity, idempotency; the work is in logic.py,
the tables and the workflow behind data.py.
"""

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from function_settings import load
from orders_domain.models import CreateOrderRequest, ErrorBody, FieldProblem, Order, OrderCreated, OrderPage
from orders_domain.workflow import OrderWorkflow

from order_service.data import CatalogRepository, InvalidPageToken, OrdersRepository
from order_service.logic import IdempotencyKeyReused, OrderNotFound, OrderRejected, OrderService

MAX_BODY_BYTES = 256 * 1024
# An order nests three levels (body, items, line); Python's JSON parser fails a document nested about
# a thousand deep with RecursionError, so deeper nesting is refused before anything parses the body.
MAX_JSON_DEPTH = 32
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


@dataclass(frozen=True)
class Settings:
    catalog_table_name: str
    orders_table_name: str
    idempotency_table_name: str
    order_state_machine_arn: str


def parse_body(text: str) -> Any:
    """The body's JSON; an integer past Python's 4,300-digit conversion limit stays a Decimal, so
    validation names its field (no integer of this API is that long) instead of the parser failing."""
    return json.loads(text, parse_int=_integer)


def _integer(digits: str) -> int | Decimal:
    try:
        return int(digits)
    except ValueError:
        return Decimal(digits)


settings = load(Settings)
logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_body)
# The public contract, committed as docs/openapi.json (python -m harness.stack.openapi regenerates it;
# a unit test checks drift).
app.configure_openapi(
    title="Order platform API",
    version="1.0.0",
    description="Orders of the serverless order platform. Every /orders route needs a Cognito ID token.",
    security_schemes={"cognito": HTTPBearer(bearerFormat="JWT", description="Cognito user pool ID token")},
    security=[{"cognito": []}],
)

_dynamodb = boto3.resource("dynamodb")
service = OrderService(
    CatalogRepository(_dynamodb, settings.catalog_table_name),
    OrdersRepository(_dynamodb.Table(settings.orders_table_name)),
    OrderWorkflow(boto3.client("stepfunctions"), settings.order_state_machine_arn),
)
idempotency_config = IdempotencyConfig(
    event_key_jmespath="[customerId, idempotencyKey]",
    payload_validation_jmespath="body",
    expires_after_seconds=24 * 3600,
)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)


@idempotent_function(
    data_keyword_argument="request", persistence_store=persistence, config=idempotency_config
)
def place_once(request: dict) -> dict:
    """The same customer + Idempotency-Key + body always yields the first call's answer."""
    body = CreateOrderRequest.model_validate(request["body"])
    return place(request["customerId"], body, request["idempotencyKey"])


def place(customer_id: str, request: CreateOrderRequest, idempotency_key: str | None = None) -> dict:
    placed = service.place(customer_id, request, idempotency_key)
    logger.set_correlation_id(placed.created.orderId)
    logger.info("order placed", customer_id=customer_id, lines=len(request.items))
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    if not placed.workflow_started:
        # Accepted all the same: the order is stored and the recovery sweep starts its workflow.
        logger.warning("workflow start refused; left to the recovery sweep")
        metrics.add_metric(name="WorkflowStartsDeferred", unit=MetricUnit.Count, value=1)
    # Flushed by the one route that records metrics, not by a handler decorator: reads record none,
    # and Powertools' log_metrics warns "No application metrics to publish" on each of them.
    metrics.flush_metrics()
    return placed.created.model_dump(mode="json")


def _problem(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}}}


@app.post(
    "/orders",
    summary="Place an order",
    responses={
        202: {
            "description": "Order accepted (PENDING); its workflow is started now or, if Step Functions "
            "refuses, by the recovery sweep within minutes."
        },
        409: _problem("Idempotency-Key reused with another body, or still in progress."),
        413: _problem("Body over 256 KB."),
        415: _problem("The body is not application/json."),
        422: _problem("Invalid body (the field and the problem are named)."),
    },
)
@tracer.capture_method
def create_order(
    order: Annotated[CreateOrderRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=64, description="Replay protection key."),
    ] = None,
) -> Response[OrderCreated]:
    customer_id = _customer_id()
    if idempotency_key is None:
        created = place(customer_id, order)
    else:
        created = place_once(
            request={"customerId": customer_id, "idempotencyKey": idempotency_key, "body": order.model_dump()}
        )
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, OrderCreated.model_validate(created))


@app.get(
    "/orders/<orderId>",
    summary="One of the caller's orders",
    responses={404: {"description": "No such order"}},
)
@tracer.capture_method
def get_order(orderId: Annotated[str, Path(min_length=1, max_length=64)]) -> Order:
    logger.set_correlation_id(orderId)
    return service.get(_customer_id(), orderId)


@app.get(
    "/orders",
    summary="The caller's orders, newest first",
    responses={400: _problem("nextToken is not one this API returned."), 422: _problem("Invalid limit.")},
)
@tracer.capture_method
def list_orders(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> OrderPage:
    return service.page(_customer_id(), limit, nextToken)


def _customer_id() -> str:
    """The token's subject: API Gateway's Cognito authorizer has verified the token."""
    return app.current_event.request_context.authorizer.claims["sub"]


def _error(status: HTTPStatus, message: str, field: str | None = None) -> Response:
    return Response(
        status, content_types.APPLICATION_JSON, ErrorBody(message=message, field=field).model_dump_json()
    )


@app.exception_handler(RequestValidationError)
def _invalid(error: RequestValidationError) -> Response:
    problems = [
        FieldProblem(
            field=".".join(str(part) for part in problem["loc"]), problem=problem.get("msg", problem["type"])
        )
        for problem in error.errors()
    ]
    first = problems[0] if problems else FieldProblem(field="request", problem="invalid request")
    body = ErrorBody(message=f"{first.field}: {first.problem}", field=first.field, errors=problems)
    return Response(HTTPStatus.UNPROCESSABLE_ENTITY, content_types.APPLICATION_JSON, body.model_dump_json())


@app.exception_handler(OrderRejected)
def _rejected(error: OrderRejected) -> Response:
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, error.message, error.field)


@app.exception_handler(OrderNotFound)
def _not_found(error: OrderNotFound) -> Response:
    return _error(HTTPStatus.NOT_FOUND, "order not found")


@app.exception_handler(InvalidPageToken)
def _bad_page_token(error: InvalidPageToken) -> Response:
    return _error(HTTPStatus.BAD_REQUEST, str(error), "nextToken")


@app.exception_handler([IdempotencyValidationError, IdempotencyKeyReused])
def _key_reused(error: Exception) -> Response:
    return _error(
        HTTPStatus.CONFLICT, "this Idempotency-Key was already used with a different body", "Idempotency-Key"
    )


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _key_in_progress(error: IdempotencyAlreadyInProgressError) -> Response:
    return _error(
        HTTPStatus.CONFLICT, "a request with this Idempotency-Key is in progress", "Idempotency-Key"
    )


@app.not_found
def _no_route(error) -> Response:
    return _error(HTTPStatus.NOT_FOUND, "no such route")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    idempotency_config.register_lambda_context(context)
    body = event.get("body") or ""
    if len(body.encode() if isinstance(body, str) else body) > MAX_BODY_BYTES:
        return _refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY_BYTES // 1024} KB", "body")
    content_type = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("content-type", "")
    if body and not content_type.lower().startswith(content_types.APPLICATION_JSON):
        return _refused(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json", "Content-Type"
        )
    if isinstance(body, str) and nests_deeper_than(body, MAX_JSON_DEPTH):
        return _refused(
            HTTPStatus.UNPROCESSABLE_ENTITY, f"body nests JSON deeper than {MAX_JSON_DEPTH} levels", "body"
        )
    return app.resolve(event, context)


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON ``text`` opens more than ``limit`` arrays and objects inside one another (brackets
    inside strings do not count). Stops at the first level past the limit."""
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def _refused(status: HTTPStatus, message: str, field: str) -> dict:
    """An API Gateway proxy answer for requests refused before routing."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": ErrorBody(message=message, field=field).model_dump_json(),
    }
