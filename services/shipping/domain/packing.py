"""Pick and pack decisions as plain functions: pick lists batched by courier, due first then by
priority, and the pack-station check of every scanned unit against the shipment's lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ScanOutcome(StrEnum):
    """What a scanned unit is for this shipment: it belongs, or it must not go in the box."""

    OK = "ok"
    WRONG_ITEM = "wrong_item"
    """A SKU that is not in this shipment at all."""
    EXTRA_ITEM = "extra_item"
    """A SKU of this shipment, but every unit of it is already in the box."""


def check_scan(expected: Counter[str], in_box: Counter[str], sku: str) -> ScanOutcome:
    """Whether one more unit of ``sku`` may go into the box."""
    if sku not in expected:
        return ScanOutcome.WRONG_ITEM
    if in_box[sku] >= expected[sku]:
        return ScanOutcome.EXTRA_ITEM
    return ScanOutcome.OK


def still_missing(expected: Counter[str], in_box: Counter[str]) -> dict[str, int]:
    """Units not yet scanned into the box, by SKU."""
    return {sku: qty - in_box[sku] for sku, qty in sorted(expected.items()) if in_box[sku] < qty}


@dataclass(frozen=True, slots=True)
class ToPick:
    """A shipment waiting to be picked: its order's dispatch-by promise (None when the order made
    none) and its priority among orders due the same day."""

    shipment_id: str
    courier: str
    priority: int
    lines: tuple[tuple[str, int], ...]
    dispatch_by: datetime | None = None


def _urgency_key(item: ToPick) -> tuple[bool, float, int]:
    # datetimes do not compare with None: a missing promise sorts last through the flag before it
    due = item.dispatch_by.timestamp() if item.dispatch_by is not None else 0.0
    return (item.dispatch_by is None, due, -item.priority)


def pick_order(waiting: list[ToPick]) -> list[ToPick]:
    """The shipments in the order they are to be picked: earliest dispatch-by, then higher priority
    (the order `docs/orders.md` promises); ties keep the order they were listed in."""
    return sorted(waiting, key=_urgency_key)


def is_late(dispatch_by: datetime | None, *, now: datetime) -> bool:
    """Whether a parcel still in the warehouse at ``now`` has missed its dispatch-by promise."""
    return dispatch_by is not None and dispatch_by < now


@dataclass(frozen=True, slots=True)
class PickBatch:
    """One courier's shipments, most urgent first, and the units to pull off the shelves."""

    courier: str
    shipment_ids: tuple[str, ...]
    units: dict[str, int]


def pick_batches(waiting: list[ToPick], *, max_per_batch: int = 50) -> list[PickBatch]:
    """Batches per courier (so a courier's parcels are packed and handed over together), each in
    pick order; the batch holding the most urgent shipment comes first."""
    by_courier: dict[str, list[ToPick]] = {}
    for item in pick_order(waiting):
        by_courier.setdefault(item.courier, []).append(item)
    batches: list[tuple[tuple[bool, float, int], PickBatch]] = []
    for courier, items in by_courier.items():
        for start in range(0, len(items), max_per_batch):
            chunk = items[start : start + max_per_batch]
            units: Counter[str] = Counter()
            for item in chunk:
                for sku, qty in item.lines:
                    units[sku] += qty
            batch = PickBatch(courier, tuple(i.shipment_id for i in chunk), dict(sorted(units.items())))
            batches.append((_urgency_key(chunk[0]), batch))
    return [batch for _, batch in sorted(batches, key=lambda pair: (pair[0], pair[1].courier))]
