"""Value models shared by several events: customer, address, lines, payment, allocations.

Constraints here are shape only (paise >= 0, 6-digit pincode); business rules live in services.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from contracts._base import Model
from contracts.enums import PaymentMethod, PaymentStatus, ReturnReason

Paise = Annotated[int, Field(ge=0, description="Money in paise (1 rupee = 100 paise).")]
Quantity = Annotated[int, Field(ge=1)]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
WarehouseCode = Annotated[str, Field(min_length=1, max_length=32)]
Pincode = Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$", description="Six-digit Indian pincode.")]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class Customer(Model):
    """Who the order is for; in orders.* events ``phone`` is E.164 (+91…)."""

    name: NonEmptyStr
    phone: NonEmptyStr
    email: str | None = None
    language: str = Field(default="en", description="Message language, e.g. en or hi.")
    gstin: str | None = Field(
        default=None,
        pattern=r"^[0-9]{2}[A-Z0-9]{13}$",
        description="The buyer's GSTIN when a registered business orders (B2B): its tax invoice names "
        "it, and above the seller's e-invoicing threshold the invoice is registered with the IRP.",
        examples=["29AAICA3918J1ZE"],
    )


class Address(Model):
    line1: NonEmptyStr
    line2: str | None = None
    landmark: str | None = None
    city: NonEmptyStr
    state: NonEmptyStr
    pincode: Pincode


class OrderLine(Model):
    sku: Sku
    quantity: Quantity
    unit_price_paise: Paise


class Payment(Model):
    """The payment as known when the event was written; gateway fields are null for COD."""

    method: PaymentMethod
    status: PaymentStatus
    gateway: str | None = None
    gateway_payment_id: str | None = None
    amount_paise: Paise


class SkuQuantity(Model):
    sku: Sku
    quantity: Quantity


class Allocation(Model):
    """Units of one SKU reserved in one warehouse."""

    warehouse_code: WarehouseCode
    sku: Sku
    quantity: Quantity


class StockAvailability(Model):
    """Available-to-sell of one SKU in one warehouse at the time of a decision."""

    sku: Sku
    warehouse_code: WarehouseCode
    available: int


class StockLevels(Model):
    """The numbers behind one warehouse's available-to-sell: available = on_hand - reserved
    + rehearsal_reserved - buffer (never below 0); a reorder point, when set, is where a low_stock
    alert fires."""

    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    buffer: int = Field(ge=0)
    reorder_point: int | None = Field(default=None, ge=0)
    rehearsal_reserved: int = Field(
        default=0,
        ge=0,
        description="The part of reserved that operators' rehearsal orders hold: not taken from "
        "available-to-sell, so no channel is told a lower number for a rehearsal (ADR 0360).",
        exclude_if=lambda units: not units,
    )


class FieldProblem(Model):
    """One reason an input was refused: a dotted field path and what is wrong with it."""

    field: str = Field(description="Dotted path, e.g. shipping_address.pincode or lines.0.sku.")
    problem: str


class ReturnLine(Model):
    sku: Sku
    quantity: Quantity
    reason: ReturnReason
    note: str | None = None
