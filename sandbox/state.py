"""In-memory state of every simulated provider, one dataclass per provider, plus fault knobs.
Nothing is persisted: a restart or POST /_sandbox/reset forgets everything (one process only)."""

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sandbox.courier_sim import Simulation
from sandbox.courier_state import ShiprocketState, XpressbeesState


class Provider(StrEnum):
    """Providers the sandbox simulates; fault knobs are keyed by these."""

    COURIER = "courier"
    SHIPROCKET = "shiprocket"
    XPRESSBEES = "xpressbees"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    SLACK = "slack"
    RAZORPAY = "razorpay"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    IRP = "irp"


def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


# --- courier (Delhivery-shaped) -------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """One tracking event on a shipment, in Delhivery's vocabulary (Status / StatusType)."""

    status: str
    status_type: str
    location: str
    instructions: str
    status_code: str
    at: datetime


@dataclass
class Shipment:
    """A manifested package; `scans` is its history, the last scan is its current status."""

    waybill: str
    order: str
    upload_wbn: str
    payment_mode: str
    cod_amount: float
    total_amount: float
    sort_code: str
    pickup_location: str
    consignee: dict[str, str]
    request: dict[str, Any]
    created_at: datetime
    scans: list[Scan] = field(default_factory=list)
    edits: int = 0
    """How many times the client changed the consignee through p/edit."""

    @property
    def current(self) -> Scan:
        """The latest scan, which is what tracking reports as Status."""
        return self.scans[-1]

    def as_dict(self) -> dict[str, Any]:
        """Inspection view for /_sandbox (UTC timestamps, not Delhivery's shape)."""
        return {
            "waybill": self.waybill,
            "order": self.order,
            "upload_wbn": self.upload_wbn,
            "payment_mode": self.payment_mode,
            "cod_amount": self.cod_amount,
            "total_amount": self.total_amount,
            "sort_code": self.sort_code,
            "pickup_location": self.pickup_location,
            "consignee": self.consignee,
            "status": self.current.status,
            "status_type": self.current.status_type,
            "edits": self.edits,
            "created_at": self.created_at.isoformat(),
            "scans": [
                {
                    "status": s.status,
                    "status_type": s.status_type,
                    "status_code": s.status_code,
                    "location": s.location,
                    "instructions": s.instructions,
                    "at": s.at.isoformat(),
                }
                for s in self.scans
            ],
            "request": self.request,
        }


def first_waybill() -> int:
    """Where AWB numbering starts: 149, the start second (mod 10^6), then a 5-digit sequence, so AWBs
    stay unique across sandbox restarts (shippers keep AWBs forever) and sequential within one run."""
    return 14_900_000_000_000 + (int(time.time()) % 1_000_000) * 100_000


@dataclass
class CourierState:
    """Shipments by waybill, the order → waybill index that makes creation idempotent."""

    shipments: dict[str, Shipment] = field(default_factory=dict)
    waybill_by_order: dict[str, str] = field(default_factory=dict)
    next_waybill: int = field(default_factory=first_waybill)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def issue_waybill(self) -> str:
        """Allocate the next AWB; call with `lock` held."""
        waybill = str(self.next_waybill)
        self.next_waybill += 1
        return waybill

    def clear(self) -> None:
        """Forget every shipment and restart AWB numbering."""
        self.shipments.clear()
        self.waybill_by_order.clear()
        self.next_waybill = first_waybill()


# --- WhatsApp (Meta Cloud API-shaped) -------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppMessage:
    """One accepted outgoing message, as the sandbox recorded it."""

    wamid: str
    phone_number_id: str
    to: str
    wa_id: str
    type: str
    template_name: str | None
    language: str | None
    body: dict[str, Any]
    biz_opaque_callback_data: str | None
    """What the sender asked Meta to echo in this message's status webhooks (Dabba: its message id)."""
    received_at: datetime
    outside_window: bool = False
    """A free-form (non-template) message sent more than 24 hours after the customer last wrote, or
    before they ever did: accepted, then reported failed with Meta's 131047 (Re-engagement message)."""

    def as_dict(self) -> dict[str, Any]:
        """Inspection view for /_sandbox."""
        return {
            "wamid": self.wamid,
            "phone_number_id": self.phone_number_id,
            "to": self.to,
            "wa_id": self.wa_id,
            "type": self.type,
            "template": self.template_name,
            "language": self.language,
            "biz_opaque_callback_data": self.biz_opaque_callback_data,
            "received_at": self.received_at.isoformat(),
            "outside_window": self.outside_window,
            "body": self.body,
        }


@dataclass
class WhatsAppState:
    """Accepted messages in arrival order (a repeated POST is a second message, as on Meta); how
    customers behave (numbers not on WhatsApp, automatic button replies, statuses late or never)
    and the webhooks sent back."""

    messages: list[WhatsAppMessage] = field(default_factory=list)
    not_on_whatsapp: set[str] = field(default_factory=set)
    status_delay_s: dict[str, float] = field(default_factory=dict)
    """wa_id → seconds before its first status webhook (the default otherwise)."""
    answer_delay_s: dict[str, float] = field(default_factory=dict)
    """wa_id → seconds Meta takes to answer a send it accepted (its webhooks may come first)."""
    no_statuses: set[str] = field(default_factory=set)
    """wa_ids whose messages never get a status webhook (Meta accepted them and said nothing more)."""
    auto_reply: dict[str, str | None] = field(default_factory=dict)
    """wa_id → the choice that number taps on any message offering it (None: never replies)."""
    default_auto_reply: str | None = None
    last_inbound_at: dict[str, datetime] = field(default_factory=dict)
    """wa_id → when that customer last wrote to the business: WhatsApp's 24-hour customer-service
    window, inside which free-form messages may be sent, is counted from it."""
    webhooks: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10_000))
    """The latest webhooks sent back (bounded), for tests to read."""
    webhook_client: Any = None
    """The pooled httpx client webhooks go out on, made on first use."""
    webhook_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))
    """Webhooks being posted at once, bounded as Meta's are: thousands of requests queued in one
    httpx pool made its connection assignment quadratic, and the sandbox took a whole core."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        """Forget every message, key, behaviour and webhook."""
        self.messages.clear()
        self.not_on_whatsapp.clear()
        self.status_delay_s.clear()
        self.answer_delay_s.clear()
        self.no_statuses.clear()
        self.auto_reply.clear()
        self.default_auto_reply = None
        self.last_inbound_at.clear()
        self.webhooks.clear()


# --- SMS (MSG91-shaped) and operator alerts (Slack incoming webhook) -------------------------


@dataclass
class SmsState:
    """Accepted SMS (MSG91 flow requests, one per recipient); a repeated request is a second SMS.
    Each is followed by a delivery report: delivered, unless its number says otherwise."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    report_codes: dict[str, str | None] = field(default_factory=dict)
    """Per number (digits): the report status code its SMS get ("1" delivered, "17" blocked …);
    None: no report ever comes."""
    reports: list[dict[str, Any]] = field(default_factory=list)
    """Every delivery report posted, with the answer it got."""
    webhook_client: Any = None

    def clear(self) -> None:
        """Forget every SMS and every number's behaviour."""
        self.messages.clear()
        self.report_codes.clear()
        self.reports.clear()


@dataclass
class SlackState:
    """Every alert posted to a Slack-compatible incoming webhook (duplicates kept, to be counted)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        """Forget every alert."""
        self.messages.clear()


# --- fault knobs ----------------------------------------------------------------------------


@dataclass
class Fault:
    """The next `remaining` calls wait `delay_ms`, then fail with `status_code` if it is set."""

    remaining: int
    status_code: int | None
    delay_ms: int

    def as_dict(self) -> dict[str, Any]:
        """Inspection view for /_sandbox."""
        return {
            "fail_next": self.remaining,
            "status_code": self.status_code,
            "delay_ms": self.delay_ms,
        }


@dataclass
class FaultState:
    """Armed faults per provider; each provider call consumes one."""

    armed: dict[Provider, Fault] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def take(self, provider: Provider) -> Fault | None:
        """Consume one armed fault for `provider`, or None if the call should go through."""
        async with self.lock:
            fault = self.armed.get(provider)
            if fault is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.armed[provider]
            return Fault(remaining=0, status_code=fault.status_code, delay_ms=fault.delay_ms)

    def clear(self) -> None:
        """Disarm every fault."""
        self.armed.clear()


# --- the whole sandbox ----------------------------------------------------------------------


@dataclass
class SandboxState:
    """Everything the sandbox remembers; a new provider adds one field and one `clear` here."""

    courier: CourierState = field(default_factory=CourierState)
    whatsapp: WhatsAppState = field(default_factory=WhatsAppState)
    sms: SmsState = field(default_factory=SmsState)
    slack: SlackState = field(default_factory=SlackState)
    faults: FaultState = field(default_factory=FaultState)
    simulation: Simulation = field(default_factory=Simulation)
    shiprocket: ShiprocketState = field(default_factory=ShiprocketState)
    xpressbees: XpressbeesState = field(default_factory=XpressbeesState)

    async def reset(self) -> None:
        """Clear every provider's state under its own lock."""
        for part in (
            self.courier,
            self.whatsapp,
            self.sms,
            self.slack,
            self.faults,
            self.simulation,
            self.shiprocket,
            self.xpressbees,
        ):
            async with part.lock:
                part.clear()
