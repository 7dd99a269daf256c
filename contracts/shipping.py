"""Shipment events: courier, AWB, label and the canonical status mapped from courier codes.

A shipment carries part or all of an order; reverse pickups for returns set ``return_id``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts import topics
from contracts._base import Event, UtcDatetime, utcnow
from contracts.enums import NdrReason, ShipmentStatus
from contracts.values import NonEmptyStr, Pincode, SkuQuantity, WarehouseCode


class ShipmentCreated(Event):
    """``shipping.shipment_created.v1``: a parcel exists, with its courier and (usually) AWB."""

    TOPIC = topics.SHIPPING_SHIPMENT_CREATED

    order_id: NonEmptyStr
    shipment_id: NonEmptyStr
    warehouse_code: WarehouseCode
    courier: NonEmptyStr
    awb: str | None = None
    status: ShipmentStatus = ShipmentStatus.CREATED
    lines: list[SkuQuantity] = Field(min_length=1)
    label_url: str | None = None
    tracking_url: str | None = None
    cod_amount_paise: int = Field(default=0, ge=0, description="To collect on delivery; 0 if prepaid.")
    return_id: str | None = Field(default=None, description="Set for a return's reverse pickup.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class ShipmentUpdated(Event):
    """``shipping.shipment_updated.v1``: a forward-only status change; NDR has reason, attempt."""

    TOPIC = topics.SHIPPING_SHIPMENT_UPDATED

    order_id: NonEmptyStr
    shipment_id: NonEmptyStr
    warehouse_code: WarehouseCode
    courier: NonEmptyStr
    awb: str | None = None
    status: ShipmentStatus
    courier_status_code: str | None = Field(default=None, description="The courier's own code.")
    ndr_reason: NdrReason | None = None
    attempt: int | None = Field(default=None, ge=1, description="Delivery attempt number.")
    location: str | None = None
    tracking_url: str | None = None
    return_id: str | None = Field(default=None, description="Set for a return's reverse pickup.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class ServiceabilityChanged(Event):
    """``shipping.serviceability_changed.v1``: the pincodes some courier now delivers to, after a
    load of couriers' serviceability; each event replaces the previous whole (ADR 0311)."""

    TOPIC = topics.SHIPPING_SERVICEABILITY_CHANGED
    KEY_FIELD = "scope"

    scope: Literal["all"] = Field(
        default="all", description="The whole set, every time: one key, so announcements stay in order."
    )
    couriers: list[NonEmptyStr] = Field(description="Couriers with serviceability data, sorted.")
    prepaid: list[Pincode] = Field(description="Pincodes some courier delivers prepaid parcels to.")
    cod: list[Pincode] = Field(description="Pincodes some courier delivers cash-on-delivery parcels to.")
    loaded_at: UtcDatetime = Field(description="When the load this reflects was committed; newer wins.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class CourierServiceabilityChanged(Event):
    """``shipping.serviceability_changed.v2``: one courier's whole serviceability after a load, both
    ends of a parcel's journey: where it picks up and where it delivers (ADR 0410). One event per
    courier, keyed by courier; each replaces that courier's previous one. Published beside v1 (the
    union of destinations) while v1's consumers move over; a courier's three lists for every Indian
    pincode stay far below Kafka's 1 MiB record limit, all couriers in one event would not."""

    TOPIC = topics.SHIPPING_SERVICEABILITY_CHANGED_V2
    KEY_FIELD = "courier"

    courier: NonEmptyStr
    pickup: list[Pincode] | None = Field(
        description="Pincodes it picks up parcels from, sorted; null when its data says nothing of "
        "pickup (then it is taken to pick up from any warehouse, as before v2)."
    )
    prepaid: list[Pincode] = Field(description="Pincodes it delivers prepaid parcels to, sorted.")
    cod: list[Pincode] = Field(description="Pincodes it delivers cash-on-delivery parcels to, sorted.")
    loaded_at: UtcDatetime = Field(description="When the load this reflects was committed; newer wins.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
