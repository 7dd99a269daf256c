"""Routing's pure core: the ranked fulfilment plans for an order (plan), over the courier zones and
distances every service shares (chassis.geo)."""

from chassis.geo import Zone, coordinates, distance_km, zone
from services.routing.domain.plan import (
    Order,
    Policy,
    Rules,
    Today,
    Warehouse,
    local_moment,
    plan,
    replans,
    wanted,
)
from services.routing.domain.serviceability import Served, carriers, no_courier, unserved_warehouses

__all__ = [
    "Order",
    "Policy",
    "Rules",
    "Served",
    "Today",
    "Warehouse",
    "Zone",
    "carriers",
    "coordinates",
    "distance_km",
    "local_moment",
    "no_courier",
    "plan",
    "replans",
    "unserved_warehouses",
    "wanted",
    "zone",
]
