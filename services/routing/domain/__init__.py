"""Routing's pure core: where pincodes are and which zone a parcel travels in (geo), and the ranked
fulfilment plans for an order (plan)."""

from services.routing.domain.geo import Zone, coordinates, distance_km, zone
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
