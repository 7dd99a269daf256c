"""Invoicing's rows as the store hands them up: frozen, typed, built only in `store`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from chassis.db import row_fields
from contracts.values import Address, Customer, OrderLine, SkuQuantity


@dataclass(frozen=True, slots=True)
class Registration:
    """A GST registration of the seller: one per state it ships from."""

    gstin: str
    legal_name: str
    trade_name: str | None
    address: str
    state_code: str
    turnover_band: str
    city: str | None
    pincode: str | None
    updated_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Registration:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class WarehouseRegistration:
    """The registration a warehouse ships under, and who said so."""

    warehouse_code: str
    gstin: str
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> WarehouseRegistration:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class TaxClass:
    """How one SKU is described and taxed on an invoice."""

    sku: str
    description: str
    hsn_code: str
    gst_rate: Decimal
    unit: str
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> TaxClass:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Order:
    """What invoicing knows of an order (from orders.placed.v1)."""

    order_id: str
    channel: str
    channel_order_id: str
    placed_at: datetime
    customer: Customer
    shipping_address: Address
    lines: tuple[OrderLine, ...]
    shipping_fee_paise: int
    discount_paise: int
    rehearsal: bool  # an operator's rehearsal: never invoiced (ADR 0360)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Order:
        return cls(
            **row_fields(
                cls,
                row,
                customer=Customer.model_validate(row["customer"]),
                shipping_address=Address.model_validate(row["shipping_address"]),
                lines=tuple(OrderLine.model_validate(x) for x in row["lines"]),
            )
        )


@dataclass(frozen=True, slots=True)
class Shipment:
    """A forward parcel and where its invoice stands."""

    shipment_id: str
    order_id: str
    warehouse_code: str
    lines: tuple[SkuQuantity, ...] | None
    packed_at: datetime | None
    invoice_state: str
    problem: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Shipment:
        lines = row["lines"]
        return cls(
            **row_fields(
                cls,
                row,
                lines=None if lines is None else tuple(SkuQuantity.model_validate(x) for x in lines),
            )
        )


@dataclass(frozen=True, slots=True)
class Invoice:
    """An issued invoice, whole: what its PDF, its event and the returns' credit notes read."""

    invoice_id: str
    number: str
    gstin: str
    financial_year: int
    serial: int
    order_id: str
    shipment_id: str
    channel: str
    channel_order_id: str
    issued_at: datetime
    supplier: dict[str, Any]
    recipient: dict[str, Any]
    place_of_supply: str
    supply: str
    lines: tuple[dict[str, Any], ...]
    shipping_fee_paise: int
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    status: str
    cancelled_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Invoice:
        return cls(**row_fields(cls, row, lines=tuple(row["lines"])))


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """A refunded return or an RTO parcel back, waiting for (or given) its credit notes."""

    source: str
    reason: str  # return | rto
    order_id: str
    shipment_id: str | None
    return_id: str | None
    lines: tuple[SkuQuantity, ...]
    items_paise: int
    shipping_fee_paise: int
    requested_at: datetime
    state: str
    problem: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> CreditRequest:
        return cls(**row_fields(cls, row, lines=tuple(SkuQuantity.model_validate(x) for x in row["lines"])))


@dataclass(frozen=True, slots=True)
class CreditNote:
    """An issued credit note, citing the invoice it reduces."""

    credit_note_id: str
    number: str
    gstin: str
    financial_year: int
    serial: int
    source: str
    reason: str
    invoice_id: str
    invoice_number: str
    invoice_date: datetime
    order_id: str
    shipment_id: str | None
    return_id: str | None
    issued_at: datetime
    place_of_supply: str
    supply: str
    lines: tuple[dict[str, Any], ...]
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> CreditNote:
        return cls(**row_fields(cls, row, lines=tuple(row["lines"])))


@dataclass(frozen=True, slots=True)
class EInvoice:
    """An invoice's registration with the IRP: due, registered (its IRN and signed QR), rejected, void,
    cancel_due or cancelled."""

    invoice_id: str
    gstin: str
    state: str
    calls: int
    problem: str | None
    irn: str | None
    ack_no: str | None
    ack_at: datetime | None
    signed_invoice: str | None
    signed_qr_code: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> EInvoice:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class EInvoiceState:
    """Where an invoice's IRP registration stands, with the invoice's number: what operators list."""

    invoice_id: str
    number: str
    gstin: str
    state: str
    calls: int
    problem: str | None
    irn: str | None
    ack_no: str | None
    ack_at: datetime | None
    requested_at: datetime
    registered_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> EInvoiceState:
        return cls(**row_fields(cls, row))
