"""Whether some courier can carry an order from a warehouse to its pincode (ADR 0311, 0410). Pure.

Shipping owns couriers' serviceability and announces each courier's whole: the pincodes it picks
up from and the ones it delivers prepaid and cash-on-delivery parcels to. A warehouse W can serve
destination D for payment P iff one courier both picks up at W's pincode and delivers to D for P.
Before any announcement routing knows nothing and holds nothing back: an unknown is not a refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from services.routing.domain.plan import Warehouse


@dataclass(frozen=True, slots=True)
class Served:
    """What routing knows of couriers at an order's destination and its warehouses' pincodes:
    whether it has heard of serviceability at all, which couriers deliver prepaid and COD parcels to
    the destination, which pick up at each warehouse pincode asked about, and which said nothing
    of pickup (taken to pick up anywhere, as before couriers' pickup data was known)."""

    known: bool
    prepaid: frozenset[str] = frozenset()
    cod: frozenset[str] = frozenset()
    pickup: dict[str, frozenset[str]] = field(default_factory=dict)
    """Warehouse pincode → couriers that pick up there."""
    pickup_anywhere: frozenset[str] = frozenset()


def carriers(served: Served, *, warehouse_pincode: str, cod: bool) -> frozenset[str]:
    """The couriers that pick up at this warehouse pincode and deliver to the destination."""
    delivering = served.cod if cod else served.prepaid
    return delivering & (served.pickup.get(warehouse_pincode, frozenset()) | served.pickup_anywhere)


def unserved_warehouses(
    pincode: str,
    *,
    cod: bool,
    warehouses: Sequence[Warehouse],
    served: Served,
    by_marketplace: bool = False,
) -> dict[str, str]:
    """Warehouse code → why no courier carries from it to ``pincode`` (empty when nothing is known
    yet, or when the marketplace's own logistics carry the order)."""
    if by_marketplace or not served.known:
        return {}
    payment = "cash on delivery" if cod else "prepaid"
    return {
        wh.code: f"no courier picks up at {wh.pincode} and delivers {payment} to {pincode}"
        for wh in warehouses
        if not carriers(served, warehouse_pincode=wh.pincode, cod=cod)
    }


def no_courier(
    pincode: str,
    *,
    cod: bool,
    served: Served,
    warehouses: Sequence[Warehouse] = (),
    by_marketplace: bool = False,
) -> str | None:
    """Why no courier can carry this order from any warehouse (None when one can, when nothing is
    known yet, or when the marketplace's own logistics carry it and no courier of ours is needed)."""
    if by_marketplace or not served.known:
        return None
    if cod and not served.cod:
        if served.prepaid:
            return f"no courier delivers cash on delivery to pincode {pincode} (prepaid only)"
        return f"no courier delivers to pincode {pincode}"
    if not cod and not served.prepaid:
        return f"no courier delivers to pincode {pincode}"
    unserved = unserved_warehouses(pincode, cod=cod, warehouses=warehouses, served=served)
    if warehouses and len(unserved) == len(warehouses):
        where = ", ".join(f"{wh.code} {wh.pincode}" for wh in warehouses)
        return f"no courier that delivers to pincode {pincode} picks up at any warehouse ({where})"
    return None
