"""What shipping needs from any courier: book a parcel and get its AWB.

Each courier adapter speaks that courier's documented HTTP API behind this one Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from contracts import Address, SkuQuantity


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    """One parcel to book, courier-agnostic; money in paise, weight in grams."""

    reference: str
    """Our shipment id, sent as the courier's order reference: the same reference books once."""
    pickup_location: str
    """The warehouse code, registered with the courier as a pickup location of the same name."""
    consignee_name: str
    consignee_phone: str
    """E.164, e.g. +919812345678; adapters reformat it as their courier expects."""
    address: Address
    items: tuple[SkuQuantity, ...]
    value_paise: int
    """Invoice value of what is in the parcel."""
    cod_amount_paise: int
    """To collect on delivery; 0 means prepaid."""
    weight_grams: int

    @property
    def is_cod(self) -> bool:
        """Whether the courier collects cash on delivery for this parcel."""
        return self.cod_amount_paise > 0


@dataclass(frozen=True, slots=True)
class CourierBooking:
    """The courier's answer to a booking: who carries the parcel and under which AWB."""

    courier: str
    awb: str
    reference: str
    remarks: tuple[str, ...] = ()


class CourierError(Exception):
    """A booking did not produce an AWB; ``remarks`` are the courier's own words."""

    def __init__(self, message: str, *, remarks: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.remarks = remarks


class CourierRejected(CourierError):
    """The courier refused this shipment's data (bad pincode, missing field): retrying won't help."""


class CourierUnavailable(CourierError):
    """The courier could not be reached or answered 429/5xx/auth failure: retry, then dead-letter."""


class CourierAdapter(Protocol):
    """A courier's booking API."""

    name: str
    """The courier's code as it appears in events and the console, e.g. ``delhivery``."""

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        """Book one parcel and return its AWB.

        Idempotent per ``request.reference``: booking the same reference again returns the same
        AWB, so a retry after a crash (before our commit) never makes a second parcel.
        Raises CourierRejected when the courier refuses the data, CourierUnavailable otherwise.
        """
        ...
