"""Routing's pure core: the ranked fulfilment plans for an order (plan), over the courier zones and
distances every service shares (chassis.geo)."""

from chassis.geo import Zone, coordinates, distance_km, zone
from services.routing.domain.plan import Order, Policy, Rules, Today, Warehouse, plan

__all__ = [
    "Order",
    "Policy",
    "Rules",
    "Today",
    "Warehouse",
    "Zone",
    "coordinates",
    "distance_km",
    "plan",
    "zone",
]
