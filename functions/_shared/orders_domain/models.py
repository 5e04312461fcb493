"""Models of the order flow: the public API's bodies and the workflow's task payloads.

Strict models: a quantity of "1" or a sku of 1 is a wrong type, and unknown fields are refused, so bad
input is named by its field and never half-accepted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_LINES = 50
MAX_QUANTITY = 100

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
OrderId = Annotated[str, Field(min_length=1, max_length=64)]


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    FAILED = "FAILED"


class OrderLineRequest(StrictModel):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class PaymentDetails(StrictModel):
    token: Annotated[
        str, Field(min_length=1, max_length=128, description="Payment token (see docs/orders.md)")
    ]


class CreateOrderRequest(StrictModel):
    items: Annotated[list[OrderLineRequest], Field(min_length=1, max_length=MAX_LINES)]
    payment: PaymentDetails


class PricedLine(StrictModel):
    """An order line with the unit price the catalog had when the order was placed."""

    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    unitPriceCents: Annotated[int, Field(ge=0)]


class OrderCreated(BaseModel):
    orderId: str
    status: OrderStatus


class Order(BaseModel):
    orderId: str
    status: OrderStatus
    items: list[PricedLine]
    totalCents: int
    currency: str
    createdAt: str
    updatedAt: str
    failureReason: str | None = None


class OrderPage(BaseModel):
    orders: list[Order]
    nextToken: str | None = None


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    message: str
    field: str | None = None
    errors: list[FieldProblem] | None = None


# --- workflow task payloads (statemachines/order.asl.json) ------------------------------------------


class AuthorizePayment(BaseModel):
    """The order's payment token is not here: the payment function reads it from the stored order."""

    action: Literal["authorize"]
    orderId: OrderId
    amountCents: int
    currency: str


class VoidPayment(BaseModel):
    action: Literal["void"]
    orderId: OrderId
    authorizationId: str


class PaymentCommand(BaseModel):
    command: Annotated[AuthorizePayment | VoidPayment, Field(discriminator="action")]


class ReserveStock(BaseModel):
    orderId: OrderId
    items: list[PricedLine]
