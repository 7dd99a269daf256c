"""What invoicing needs from an Invoice Registration Portal: register an e-invoice and get back its
IRN, acknowledgement and the signed invoice and QR code (ADR 0401).

Registering is idempotent by construction: the IRN is a hash of the document's identity, and a
second request for a registered document answers the first registration (the adapter resolves the
IRP's "Duplicate IRN"), so a call whose answer was lost is simply made again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Registration:
    """The IRP's answer for a registered e-invoice."""

    irn: str
    ack_no: str
    ack_at: datetime
    signed_invoice: str
    signed_qr_code: str


class IrpError(Exception):
    """The IRP did not register the e-invoice."""


class IrpRejected(IrpError):
    """The IRP refused the document itself (its validation errors, by code): retrying the same
    document will not help; the invoice's data must be put right first."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{code}: {message}" for code, message in errors))
        self.errors = errors


class IrpUnavailable(IrpError):
    """Timeout, 5xx, a refused login or an expired session: retry later with the same document."""


class Irp(Protocol):
    """An IRP's Generate IRN and Cancel IRN."""

    async def register(self, gstin: str, einvoice: dict[str, Any]) -> Registration:
        """Register a seller GSTIN's e-invoice (or answer its earlier registration)."""
        ...

    async def cancel(self, gstin: str, irn: str, *, reason: str, remark: str) -> datetime:
        """Cancel a registered IRN (within 24 hours of it); when the IRP cancelled it."""
        ...
