"""Ranked fulfilment plans for an order: which warehouse ships which lines, and why.

Inventory tries the plans in rank order; an empty ``plans`` list means the order is unroutable.
"""

from __future__ import annotations

from datetime import time

from pydantic import Field

from contracts import topics
from contracts._base import Event, Model, UtcDatetime, flag, utcnow
from contracts.values import NonEmptyStr, SkuQuantity, WarehouseCode


class PlannedShipment(Model):
    """Lines one warehouse would ship as one parcel."""

    warehouse_code: WarehouseCode
    lines: list[SkuQuantity] = Field(min_length=1)


class FulfilmentPlan(Model):
    """One way to fulfil the whole order; rank 1 is best."""

    rank: int = Field(ge=1)
    shipments: list[PlannedShipment] = Field(min_length=1)
    score: float
    reasons: list[str] = Field(default_factory=list, description="Why it ranked here, readable.")


class RoutingPlanned(Event):
    """``routing.planned.v1``: attempt counts up each time inventory could not reserve a plan."""

    TOPIC = topics.ROUTING_PLANNED

    order_id: NonEmptyStr
    attempt: int = Field(default=1, ge=1)
    plans: list[FulfilmentPlan]
    will_replan: bool = flag(
        "Routing plans again if none of these can be reserved; else a failure is final.",
    )
    no_courier: str | None = Field(
        default=None,
        description="Set (with no plans) when no courier delivers to the order's pincode for its "
        "payment method: why, readable.",
    )
    unplanned: list[SkuQuantity] = Field(
        default_factory=list,
        description="Set (with no plans) when routing's view of stock was too short: the order's lines, so "
        "inventory can answer that it holds stock routing had not heard of yet (with will_replan, the "
        "failure is then not final and routing plans again from inventory's numbers; ADR 0446).",
    )
    rehearsal: bool = Field(
        default=False,
        description="The order is an operator's rehearsal (orders.placed.v1 said so): inventory reserves it "
        "for real but leaves it out of the available-to-sell it announces (ADR 0360).",
    )
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class WarehouseChanged(Event):
    """``routing.warehouse_changed.v1``: a warehouse was created or changed (routing owns them); the
    whole warehouse as it now is, so the newest announcement of a code replaces the others."""

    TOPIC = topics.ROUTING_WAREHOUSE_CHANGED
    KEY_FIELD = "warehouse_code"

    warehouse_code: WarehouseCode
    active: bool = True
    cutoff_time: time | None = Field(
        default=None,
        description="IST time of day from which an order is dispatched the next working day; none: the "
        "seller's default cut-off (orders' DISPATCH_CUTOFF_HOUR_IST). Orders' dispatch-by starts from it "
        "(ADR 0361).",
    )
    changed_at: UtcDatetime = Field(description="When routing stored the change; the newest wins.")
