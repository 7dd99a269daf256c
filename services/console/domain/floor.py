"""The fulfilment screen's decisions: a warehouse's pick list from shipping's batches and the read
model's parcels, and which parcels of ticked orders get labels or go on a manifest (ADR 380).
Plain functions over plain data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.console.domain.view import OrderView

IST = ZoneInfo("Asia/Kolkata")
Problems = list[tuple[str, str]]
# Shipping prints a label for a booked parcel still in the warehouse (or handed over: a reprint).
LABELLED = ("AWB_ASSIGNED", "PICKED", "PACKED", "MANIFESTED")
# Order statuses whose parcels may still be on the warehouse floor (the read model's index narrows
# a warehouse's parcels to these orders).
ON_THE_FLOOR = ("CONFIRMED", "PACKED", "PARTIALLY_SHIPPED")
MAX_PICK = 200  # shipping's default pick list size: one picker's walk


@dataclass(frozen=True)
class Parcel:
    """One parcel on the floor as the screen shows it: the read model's facts about its order."""

    shipment_id: str
    order_id: str
    channel_order_id: str | None
    courier: str
    awb: str | None
    status: str
    lines: tuple[tuple[str, int], ...]
    city: str | None = None
    payment_method: str | None = None
    late: bool = False


@dataclass(frozen=True)
class Batch:
    """One courier's parcels on a pick list, in the order to pull them, and the units per SKU."""

    courier: str
    parcels: tuple[Parcel, ...]
    units: tuple[tuple[str, int], ...] = field(default=())

    @property
    def total_units(self) -> int:
        return sum(q for _, q in self.units)


def parcel_of(row: Mapping[str, Any], shipment: Mapping[str, Any]) -> Parcel:
    """A parcel from a read-model row (order facts) and one element of its `shipments`."""
    return Parcel(
        shipment_id=shipment["shipment_id"],
        order_id=row["order_id"],
        channel_order_id=row.get("channel_order_id"),
        courier=shipment["courier"],
        awb=shipment.get("awb"),
        status=shipment["status"],
        lines=tuple((str(sku), int(q)) for sku, q in shipment.get("lines") or ()),
        city=row.get("city"),
        payment_method=row.get("payment_method"),
    )


def _units(parcels: Iterable[Parcel]) -> tuple[tuple[str, int], ...]:
    units: Counter[str] = Counter()
    for p in parcels:
        for sku, qty in p.lines:
            units[sku] += qty
    return tuple(sorted(units.items()))


def preview(
    batches: Sequence[Mapping[str, Any]], late: Iterable[str], known: Mapping[str, Parcel]
) -> list[Batch]:
    """Shipping's preview (its batches, in its order, and its late ids) with each parcel's order,
    AWB and lines from the read model; a parcel the read model has not seen yet shows its id alone."""
    overdue = set(late)
    shown = []
    for b in batches:
        unseen = Parcel("", "", None, str(b["courier"]), None, "AWB_ASSIGNED", ())
        parcels = tuple(
            replace(known.get(sid) or replace(unseen, shipment_id=sid), late=sid in overdue)
            for sid in b["shipment_ids"]
        )
        units = tuple(sorted((str(s), int(q)) for s, q in (b.get("units") or {}).items()))
        shown.append(Batch(str(b["courier"]), parcels, units))
    return shown


def by_courier(parcels: Iterable[Parcel], order: Sequence[str] = ()) -> list[Batch]:
    """Parcels grouped by courier (couriers in first-seen order), each group in the order given by
    `order` (shipping's pick order) and then by shipment id, with the units to pull per SKU."""
    rank = {sid: i for i, sid in enumerate(order)}
    groups: dict[str, list[Parcel]] = {}
    for p in sorted(parcels, key=lambda p: (rank.get(p.shipment_id, len(rank)), p.shipment_id)):
        groups.setdefault(p.courier, []).append(p)
    return [Batch(courier, tuple(ps), _units(ps)) for courier, ps in groups.items()]


def ticked_ids(values: Iterable[object], *, limit: int = MAX_PICK) -> tuple[list[str], Problems]:
    """The shipment ids a form ticked, each once, in order; a problem when none or too many."""
    ids = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if not ids:
        return [], [("shipment_id", "tick at least one parcel")]
    if len(ids) > limit:
        return [], [("shipment_id", f"tick at most {limit} parcels at once")]
    return ids, []


def labels_for(views: Sequence[OrderView], asked: Sequence[str]) -> tuple[list[str], Problems]:
    """The parcels of the ticked orders that have a label (booked, not yet on the road), in the
    queue's order; an order with none is named."""
    found = {v.order_id: v for v in views}
    ids: list[str] = []
    problems: Problems = []
    for order_id in asked:
        view = found.get(order_id)
        parcels = [s.shipment_id for s in (view.shipments if view else ()) if s.awb and s.status in LABELLED]
        if not parcels:
            problems.append((order_id, "no booked parcel in the warehouse: nothing to label"))
        ids += parcels
    return ids, problems


def manifests_for(views: Sequence[OrderView], asked: Sequence[str]) -> tuple[list[tuple[str, str]], Problems]:
    """The (warehouse, courier) pickups the ticked orders' packed parcels need, in first-seen order;
    an order with no packed parcel is named. A manifest hands the courier every packed parcel of
    its warehouse, so a pickup may carry more than the ticked orders' (ADR 380)."""
    found = {v.order_id: v for v in views}
    pickups: dict[tuple[str, str], None] = {}
    problems: Problems = []
    for order_id in asked:
        view = found.get(order_id)
        packed = [s for s in (view.shipments if view else ()) if s.status == "PACKED"]
        if not packed:
            problems.append((order_id, "no packed parcel waiting for a manifest"))
        for s in packed:
            pickups[(s.warehouse_code, s.courier)] = None
    return list(pickups), problems


def pickup_day(now: datetime) -> date:
    """The IST day a manifest made now asks the courier to come (today, on the warehouse's clock)."""
    return now.astimezone(IST).date()
