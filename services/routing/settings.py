"""Settings of the routing service (environment variables)."""

from __future__ import annotations

from chassis.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    """Routing: port 8002."""

    http_port: int = 8002
    # How many times an order is planned in all: the first plan plus re-plans after inventory
    # could not reserve any of them (fresh availability each time).
    max_plan_attempts: int = 3
    # Most shipments one order may be split into (1 = never split).
    max_shipments: int = 2
    # A split is not offered if one of its parcels would be worth less than this.
    min_shipment_value_paise: int = 0
    max_plans: int = 5
    # Cut-offs and "today" for capacity are in the warehouses' local time.
    timezone: str = "Asia/Kolkata"
