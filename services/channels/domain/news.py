"""What a store is told about its orders' parcels, pure: when a parcel is news for its store, the
tracking link the buyer clicks, and the GST rates a marketplace label needs (ADR 331, 370)."""

from __future__ import annotations

from collections.abc import Mapping

from contracts import ShipmentStatus
from services.channels.domain.orders import Mappings

LABELLED_BY = ("flipkart",)
"""Marketplaces whose label (and AWB) channels fetches for the parcels their logistics carry (ADR 370);
Amazon's Easy Ship parcels still take their AWB from an operator."""


def label_rates(mappings: Mappings, rates_by_sku: Mapping[str, str]) -> dict[str, str]:
    """Our invoice's GST rate per Dabba SKU as the marketplace names its items: by every channel SKU
    and listing id mapped to that SKU. An item mapped to no invoiced SKU gets none (never guessed)."""
    rates = {c: rates_by_sku[s] for c, s in mappings.by_channel_sku.items() if s in rates_by_sku}
    rates.update({v: rates_by_sku[s] for v, s in mappings.by_variant.items() if s in rates_by_sku})
    return rates


OUR_COURIER_HAS_IT = frozenset({ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT})
READY_FOR_THE_MARKETPLACE = frozenset(
    {ShipmentStatus.PACKED, ShipmentStatus.MANIFESTED, ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT}
)
MAY_BE_STORE_NEWS = OUR_COURIER_HAS_IT | READY_FOR_THE_MARKETPLACE


def store_told_at(status: ShipmentStatus, *, marketplace_carries: bool) -> bool:
    """Whether a parcel at ``status`` is news for its store. Ours once our courier has it (picked up,
    or a first scan in transit); one the marketplace's own logistics carry once it is packed under the
    marketplace's AWB (ADR 331), ready for its courier: Flipkart's ready-to-dispatch. That courier's
    pickup is the marketplace's to see, not ours."""
    return status in (READY_FOR_THE_MARKETPLACE if marketplace_carries else OUR_COURIER_HAS_IT)


# The couriers' public tracking pages, for a shipment event that carries no tracking URL of its own.
TRACKING_PAGES = {
    "delhivery": "https://www.delhivery.com/track/package/{awb}",
    "shiprocket": "https://shiprocket.co/tracking/{awb}",
    "xpressbees": "https://www.xpressbees.com/shipment/tracking?awbNo={awb}",
}


def tracking_url(courier: str, awb: str, given: str | None) -> str | None:
    """What the buyer clicks on the store's order: the courier's own link if the event had one, else
    the courier's public tracking page for the AWB (None for a courier we have no page for)."""
    if given:
        return given
    page = TRACKING_PAGES.get(courier.lower())
    return page.format(awb=awb) if page else None
