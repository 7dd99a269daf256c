"""Pick and pack decisions as plain functions: pick lists batched by courier and priority, and the
pack-station check of every scanned unit against the shipment's lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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
    """A shipment waiting to be picked."""

    shipment_id: str
    courier: str
    priority: int
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class PickBatch:
    """One courier's shipments, highest priority first, and the units to pull off the shelves."""

    courier: str
    shipment_ids: tuple[str, ...]
    units: dict[str, int]


def pick_batches(waiting: list[ToPick], *, max_per_batch: int = 50) -> list[PickBatch]:
    """Batches per courier (so a courier's parcels are packed and handed over together); the
    batch holding the most urgent shipment comes first."""
    by_courier: dict[str, list[ToPick]] = {}
    for item in sorted(waiting, key=lambda s: -s.priority):
        by_courier.setdefault(item.courier, []).append(item)
    batches: list[tuple[int, PickBatch]] = []
    for courier, items in by_courier.items():
        for start in range(0, len(items), max_per_batch):
            chunk = items[start : start + max_per_batch]
            units: Counter[str] = Counter()
            for item in chunk:
                for sku, qty in item.lines:
                    units[sku] += qty
            batch = PickBatch(courier, tuple(i.shipment_id for i in chunk), dict(sorted(units.items())))
            batches.append((max(i.priority for i in chunk), batch))
    return [batch for _, batch in sorted(batches, key=lambda pair: (-pair[0], pair[1].courier))]
