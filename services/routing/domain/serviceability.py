"""Whether some courier delivers to an order's pincode for its payment method (ADR 0311). Pure.

Shipping owns couriers' serviceability; routing keeps the union it announces (the pincodes some
courier serves prepaid, and cash on delivery). Before any announcement routing knows nothing and
holds nothing back: an unknown is not a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Served:
    """What routing knows of one pincode: whether it has serviceability data at all, and whether
    some courier delivers prepaid and cash-on-delivery parcels there."""

    known: bool
    prepaid: bool = False
    cod: bool = False


def no_courier(pincode: str, *, cod: bool, served: Served, by_marketplace: bool = False) -> str | None:
    """Why no courier can carry this order (None when one can, when nothing is known yet, or when
    the marketplace's own logistics carry it and no courier of ours is needed)."""
    if by_marketplace or not served.known:
        return None
    if cod and not served.cod:
        if served.prepaid:
            return f"no courier delivers cash on delivery to pincode {pincode} (prepaid only)"
        return f"no courier delivers to pincode {pincode}"
    if not cod and not served.prepaid:
        return f"no courier delivers to pincode {pincode}"
    return None
