"""What shipping needs from any courier: book, cancel, track, act on an NDR, read its webhooks.

Each courier adapter speaks that courier's documented HTTP API behind this one Protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from contracts import Address, NdrReason, ShipmentStatus, SkuQuantity


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
    length_cm: float = 10.0
    breadth_cm: float = 10.0
    height_cm: float = 10.0
    reverse: bool = False
    """A reverse pickup: ``address`` is where the courier collects, the warehouse receives."""

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
    routing_code: str | None = None
    """The courier's sort or routing code for the label, when it gives one."""
    courier_ref: str | None = None
    """The courier's own id for the parcel when its other calls need it (Shiprocket's shipment_id)."""


@dataclass(frozen=True, slots=True)
class Handover:
    """A parcel in a pickup request: its AWB and the courier's own id for it."""

    awb: str
    courier_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Consignee:
    """Who receives a parcel and where, as the courier should hold it after a correction."""

    name: str
    phone: str
    """E.164, e.g. +919812345678; adapters reformat it as their courier expects."""
    address: Address

    @classmethod
    def stored(cls, kept: Mapping[str, Any]) -> Consignee:
        """From the JSON a shipment keeps (name, phone, address)."""
        return cls(name=kept["name"], phone=kept["phone"], address=Address.model_validate(kept["address"]))

    def to_store(self) -> dict[str, Any]:
        """The JSON a shipment keeps."""
        return {"name": self.name, "phone": self.phone, "address": self.address.model_dump(mode="json")}


@dataclass(frozen=True, slots=True)
class CourierScan:
    """One tracking event read from a courier (webhook or tracking API), mapped to canonical terms.

    ``status`` is None for scans that do not move the canonical state (manifest uploaded, pickup
    scheduled); they are still recorded."""

    awb: str
    code: str
    """The courier's own status code, kept for audit and for the mapping table."""
    status: ShipmentStatus | None
    occurred_at: datetime
    location: str | None = None
    ndr_reason: NdrReason | None = None
    attempt: int | None = None
    remark: str | None = None


class NdrActionKind(StrEnum):
    """What the seller or customer asks a courier to do after a failed delivery."""

    REATTEMPT = "reattempt"
    NEW_ADDRESS = "new_address"
    NEW_PHONE = "new_phone"
    RTO = "rto"


@dataclass(frozen=True, slots=True)
class NdrAction:
    """One NDR instruction to a courier."""

    kind: NdrActionKind
    reattempt_on: date | None = None
    new_address: Address | None = None
    new_phone: str | None = None
    remark: str | None = None


class WebhookRefused(Exception):
    """A webhook whose token or signature does not verify (401), or whose body is unreadable (400)."""

    def __init__(self, problem: str, *, status: int = 401) -> None:
        super().__init__(problem)
        self.status = status


class CourierError(Exception):
    """A booking did not produce an AWB; ``remarks`` are the courier's own words."""

    def __init__(self, message: str, *, remarks: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.remarks = remarks


class CourierRejected(CourierError):
    """The courier refused this shipment's data (bad pincode, missing field): retrying won't help."""


class CourierUnavailable(CourierError):
    """The courier could not be reached or answered 429/5xx/auth failure: retry, then dead-letter."""


class EditUnsupported(CourierRejected):
    """The courier documents no API to change a booked parcel's consignee: cancel it and book again."""


class CourierAdapter(Protocol):
    """A courier's API: booking, cancelling, tracking, NDR actions; and how its webhooks look."""

    name: str
    """The courier's code as it appears in events and the console, e.g. ``delhivery``."""

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        """Book one parcel and return its AWB.

        Idempotent per ``request.reference``: booking the same reference again returns the same
        AWB, so a retry after a crash (before our commit) never makes a second parcel.
        Raises CourierRejected when the courier refuses the data, CourierUnavailable otherwise.
        """
        ...

    async def request_pickup(self, *, warehouse_code: str, pickup_date: date, parcels: list[Handover]) -> str:
        """Ask the courier to collect these parcels from the warehouse on that day; its reference.
        Raises CourierError if the courier refuses."""
        ...

    async def cancel(self, awb: str) -> None:
        """Cancel a parcel not yet picked up; idempotent. Raises CourierError if it cannot."""
        ...

    async def update_consignee(self, parcel: Handover, consignee: Consignee) -> None:
        """Change the name, phone and street address of a booked parcel not yet picked up; the
        pincode stays (a new pincode is a new booking: zone, serviceability, maybe another courier).

        Idempotent: sending the same consignee again changes nothing. Raises EditUnsupported when
        the courier has no such API, CourierRejected when it refuses, CourierUnavailable otherwise."""
        ...

    async def track(self, awb: str) -> list[CourierScan]:
        """Every scan the courier has for this AWB, oldest first (the polling fallback)."""
        ...

    async def ndr_action(self, awb: str, action: NdrAction) -> None:
        """Pass an NDR instruction to the courier. Raises CourierError if it is refused."""
        ...

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierScan]:
        """Verify a tracking webhook with the courier's token or signature and read its scans.

        Raises WebhookRefused when it does not verify or cannot be read."""
        ...
