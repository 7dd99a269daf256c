"""Book one planned shipment: measure the parcel, allocate couriers, book down the ranked list.

The allocation (ranked couriers, exclusions, reasons) and every booking attempt are stored on the
shipment, so "why this courier?" has an answer in the console.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from chassis import geo
from chassis.clock import utcnow
from chassis.db import Conn
from contracts import OrderConfirmed, SkuQuantity
from services.shipping import domain, reference, store
from services.shipping.couriers.interface import (
    Consignee,
    CourierAdapter,
    CourierBooking,
    CourierError,
    ShipmentRequest,
)
from services.shipping.domain import allocation
from services.shipping.records import Shipment
from services.shipping.settings import ShippingSettings


@dataclass(frozen=True, slots=True)
class Outcome:
    """The booking (None if no courier took the parcel), who was tried, and why it failed."""

    booking: CourierBooking | None
    courier: str
    error: str | None


async def measure(
    conn: Conn,
    lines: list[tuple[str, int]],
    *,
    settings: ShippingSettings,
    value_paise: int,
    cod_amount_paise: int,
) -> allocation.Parcel:
    """The box for these lines from recorded SKU sizes, or the configured default per unit."""
    known = await reference.CACHE.dimensions(conn, [sku for sku, _ in lines], ttl_s=settings.reference_ttl_s)
    length, breadth, height = settings.unit_dimensions_cm
    default = allocation.Dimensions(settings.unit_weight_grams, length, breadth, height)
    return allocation.parcel_for(
        [(known.get(sku, default), qty) for sku, qty in lines],
        value_paise=value_paise,
        cod_amount_paise=cod_amount_paise,
    )


async def allocate(
    conn: Conn,
    *,
    warehouse_pincode: str,
    customer_pincode: str,
    parcel: allocation.Parcel,
    settings: ShippingSettings,
    promised_days: int | None,
    reverse: bool = False,
    full_for_pickup: dict[str, str] | None = None,
) -> allocation.Allocation:
    """Rank the seller's couriers for this parcel between a warehouse and a customer (either way)."""
    zone = geo.zone(warehouse_pincode, customer_pincode)
    ttl_s = settings.reference_ttl_s
    return allocation.allocate(
        parcel=parcel,
        zone=zone,
        couriers=[
            allocation.CourierTerms(courier=name, max_cod_paise=settings.max_cod_paise.get(name, 0))
            for name in settings.courier_names
        ],
        serviceability=await reference.CACHE.serviceability_at(conn, customer_pincode, ttl_s=ttl_s),
        rate_cards=await reference.CACHE.rate_cards(conn, ttl_s=ttl_s),
        policy=settings.allocation_policy,
        promised_days=promised_days,
        priority=settings.priority_list,
        reverse=reverse,
        full_for_pickup=full_for_pickup,
        collects_at=None
        if reverse
        else await reference.CACHE.serviceability_at(conn, warehouse_pincode, ttl_s=ttl_s),
    )


Claim = Callable[[str], Awaitable[str | None]]
"""Take a place in a courier's pickup for the parcel: None if taken, else why the courier is full."""


async def book_ranked(
    ranked: tuple[allocation.Choice, ...],
    adapters: dict[str, CourierAdapter],
    request: ShipmentRequest,
    claim: Claim | None = None,
) -> tuple[CourierBooking | None, list[dict[str, str]]]:
    """Book with the first courier that accepts; a refusal, an outage or a pickup filled since the
    ranking (``claim``) moves on to the next."""
    attempts: list[dict[str, str]] = []
    for choice in ranked:
        if claim is not None and (full := await claim(choice.courier)) is not None:
            attempts.append({"courier": choice.courier, "outcome": "at_capacity", "error": full})
            continue
        adapter = adapters[choice.courier]
        try:
            booked = await adapter.create_shipment(request)
        except CourierError as exc:
            attempts.append(
                {"courier": choice.courier, "outcome": type(exc).__name__, "error": str(exc)[:500]}
            )
            continue
        attempts.append({"courier": choice.courier, "outcome": "booked", "awb": booked.awb})
        return booked, attempts
    return None, attempts


async def _allocate_and_book(
    conn: Conn,
    *,
    shipment_id: str,
    warehouse_code: str,
    consignee: Consignee,
    parcel: allocation.Parcel,
    request_for: Callable[[allocation.Parcel], ShipmentRequest],
    promised_days: int | None,
    priority: int,
    reverse: bool,
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
    dispatch_by: datetime | None = None,
) -> Outcome:
    """Rank the couriers, book down the list, store the decision and every attempt. A forward
    parcel counts against each courier's confirmed pickup capacity at the warehouse on its pickup
    day: a courier already full is excluded from the ranking, one that fills up meanwhile skipped."""
    origin = await reference.CACHE.pickup_location(conn, warehouse_code, ttl_s=settings.reference_ttl_s)
    decided: allocation.Allocation | None = None
    booked: CourierBooking | None = None
    attempts: list[dict[str, str]] = []
    # reverse pickups are collected from customers, not from the warehouse's daily pickup
    day = None if reverse else allocation.pickup_day(dispatch_by, now=utcnow())
    if origin is None:
        error: str | None = f"no pickup location for warehouse {warehouse_code}"
    else:
        full = (
            allocation.at_capacity(
                await store.pickup_capacities(
                    conn, warehouse_code=warehouse_code, pickup_date=day, shipment_id=shipment_id
                )
            )
            if day is not None
            else {}
        )
        decided = await allocate(
            conn,
            warehouse_pincode=origin["pincode"],
            customer_pincode=consignee.address.pincode,
            parcel=parcel,
            settings=settings,
            promised_days=promised_days,
            reverse=reverse,
            full_for_pickup=full,
        )
        claim = _claim(conn, warehouse_code=warehouse_code, day=day, shipment_id=shipment_id) if day else None
        booked, attempts = await book_ranked(decided.ranked, adapters, request_for(parcel), claim)
        error = None if booked else _why_not(decided, attempts)
    await store.save_booking(
        conn,
        shipment_id=shipment_id,
        consignee=consignee,
        allocation=decided.as_dict() if decided else None,
        attempts=attempts,
        chargeable_grams=parcel.chargeable_grams,
        priority=priority,
        booking=booked,
        error=error,
        pickup_date=day,
    )
    return Outcome(booking=booked, courier=_courier(booked, decided), error=error)


def _claim(conn: Conn, *, warehouse_code: str, day: date, shipment_id: str) -> Claim:
    async def claim(courier: str) -> str | None:
        capacity = await store.claim_pickup(
            conn, courier=courier, warehouse_code=warehouse_code, pickup_date=day, shipment_id=shipment_id
        )
        return capacity.why_full() if capacity is not None and capacity.full else None

    return claim


async def book(
    conn: Conn,
    *,
    order: OrderConfirmed,
    plan: domain.ShipmentPlan,
    shipment_id: str,
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
) -> Outcome:
    """Allocate and book one new shipment of a confirmed order."""
    parcel = await measure(
        conn,
        [(line.sku, line.quantity) for line in plan.lines],
        settings=settings,
        value_paise=plan.value_paise,
        cod_amount_paise=plan.cod_amount_paise,
    )
    return await _allocate_and_book(
        conn,
        shipment_id=shipment_id,
        warehouse_code=plan.warehouse_code,
        consignee=Consignee(
            name=order.customer.name, phone=order.customer.phone, address=order.shipping_address
        ),
        parcel=parcel,
        request_for=lambda box: domain.booking_request(order, plan, shipment_id=shipment_id, parcel=box),
        promised_days=settings.promised_days.get(order.delivery_speed.value),
        priority=order.priority,
        reverse=False,
        settings=settings,
        adapters=adapters,
        dispatch_by=order.promised_dispatch_by,
    )


def _request(
    *,
    shipment_id: str,
    warehouse_code: str,
    consignee: Consignee,
    lines: list[tuple[str, int]],
    value_paise: int,
    cod_amount_paise: int,
    reverse: bool,
) -> Callable[[allocation.Parcel], ShipmentRequest]:
    def request_for(parcel: allocation.Parcel) -> ShipmentRequest:
        return ShipmentRequest(
            reference=shipment_id,
            pickup_location=warehouse_code,
            consignee_name=consignee.name,
            consignee_phone=consignee.phone,
            address=consignee.address,
            items=tuple(SkuQuantity(sku=sku, quantity=qty) for sku, qty in lines),
            value_paise=value_paise,
            cod_amount_paise=cod_amount_paise,
            weight_grams=parcel.chargeable_grams,
            length_cm=parcel.length_cm,
            breadth_cm=parcel.breadth_cm,
            height_cm=parcel.height_cm,
            reverse=reverse,
        )

    return request_for


async def book_reverse(
    conn: Conn,
    *,
    shipment_id: str,
    warehouse_code: str,
    consignee: Consignee,
    lines: list[tuple[str, int]],
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
) -> Outcome:
    """Allocate and book a reverse pickup from the customer back to the warehouse."""
    parcel = await measure(conn, lines, settings=settings, value_paise=0, cod_amount_paise=0)
    return await _allocate_and_book(
        conn,
        shipment_id=shipment_id,
        warehouse_code=warehouse_code,
        consignee=consignee,
        parcel=parcel,
        request_for=_request(
            shipment_id=shipment_id,
            warehouse_code=warehouse_code,
            consignee=consignee,
            lines=lines,
            value_paise=0,
            cod_amount_paise=0,
            reverse=True,
        ),
        promised_days=None,
        priority=0,
        reverse=True,
        settings=settings,
        adapters=adapters,
    )


async def rebook(
    conn: Conn,
    row: Shipment,
    *,
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
    reference: str | None = None,
) -> Outcome:
    """Try again to book a shipment no courier took before (all were down, or data was fixed), or
    book it anew under another courier ``reference`` (its AWB was cancelled for a new address)."""
    consignee = row.consignee
    assert consignee is not None  # only a shipment with its consignee is ever booked
    lines = list(row.lines)
    parcel = await measure(
        conn,
        lines,
        settings=settings,
        value_paise=row.value_paise,
        cod_amount_paise=row.cod_amount_paise,
    )
    return await _allocate_and_book(
        conn,
        shipment_id=row.shipment_id,
        warehouse_code=row.warehouse_code,
        consignee=consignee,
        parcel=parcel,
        request_for=_request(
            shipment_id=reference or row.shipment_id,
            warehouse_code=row.warehouse_code,
            consignee=consignee,
            lines=lines,
            value_paise=row.value_paise,
            cod_amount_paise=row.cod_amount_paise,
            reverse=row.return_id is not None,
        ),
        promised_days=None,
        priority=row.priority,
        reverse=row.return_id is not None,
        settings=settings,
        adapters=adapters,
        dispatch_by=row.dispatch_by,
    )


def _why_not(decided: allocation.Allocation, attempts: list[dict[str, str]]) -> str:
    if not decided.ranked:
        return "no courier can carry it: " + "; ".join(f"{c}: {why}" for c, why in decided.excluded.items())
    return "every courier failed: " + "; ".join(f"{a['courier']}: {a['error']}" for a in attempts)


def _courier(booked: CourierBooking | None, decided: allocation.Allocation | None) -> str:
    if booked is not None:
        return booked.courier
    return decided.ranked[0].courier if decided and decided.ranked else "unassigned"
