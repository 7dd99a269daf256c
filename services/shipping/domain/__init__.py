"""Shipping's pure core: shipments and their status machine (shipments), courier allocation
(allocation), applying courier scans (tracking), and pick lists and pack-station checks (packing).

No I/O here: everything takes and returns plain data, and is tested without Kafka or PostgreSQL.
"""

from services.shipping.domain.shipments import (
    MARKETPLACE_AWB_AT,
    TRANSITIONS,
    ShipmentPlan,
    advance,
    booking_request,
    marketplace_carrier,
    plan_shipments,
    reattempt_day_problem,
    reverse_pickup_id,
    shipment_id_for,
    with_marketplace_awb,
)

__all__ = [
    "MARKETPLACE_AWB_AT",
    "TRANSITIONS",
    "ShipmentPlan",
    "advance",
    "booking_request",
    "marketplace_carrier",
    "plan_shipments",
    "reattempt_day_problem",
    "reverse_pickup_id",
    "shipment_id_for",
    "with_marketplace_awb",
]
