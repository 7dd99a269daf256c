"""What the demo has seen of its own orders: one Journey per order, counts per stage, the progress
line, the example journeys and the final summary, all built from events (pure, no I/O).

`Progress.apply(topic, event)` counts one event and returns the work it hands to the returns desk:
a delivered order (the desk may ask for a return), or a parcel back at the warehouse.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contracts import topics

TRACKED = (
    topics.ORDERS_PLACED,
    topics.ORDERS_REJECTED,
    topics.ROUTING_PLANNED,
    topics.INVENTORY_RESERVED,
    topics.INVENTORY_RESERVATION_FAILED,
    topics.ORDERS_STATUS_CHANGED,
    topics.SHIPPING_SHIPMENT_CREATED,
    topics.SHIPPING_SHIPMENT_UPDATED,
    topics.NOTIFICATIONS_SENT,
    topics.NOTIFICATIONS_CUSTOMER_REPLIED,
    topics.RETURNS_REQUESTED,
    topics.RETURNS_UPDATED,
    topics.RETURNS_REFUNDED,
)

# Order statuses → the stage the progress line counts (first time an order reaches it).
STAGE_OF_STATUS = {
    "PENDING_COD_CONFIRMATION": "cod",
    "CONFIRMED": "confirmed",
    "SHIPPED": "shipped",
    "IN_TRANSIT": "shipped",
    "OUT_FOR_DELIVERY": "shipped",
    "DELIVERED": "delivered",
    "DELIVERY_FAILED": "ndr",
    "RTO_INITIATED": "rto",
    "RTO_DELIVERED": "rto_back",
    "CANCELLED": "cancelled",
    "RETURN_REQUESTED": "return",
    "RETURNED": "return",
}
# A later stage implies the earlier ones (an event lost to a slow consumer must not leave a gap).
IMPLIES = {
    "shipped": ("confirmed",),
    "delivered": ("confirmed", "shipped"),
    "ndr": ("confirmed", "shipped"),
    "rto": ("confirmed", "shipped"),
    "rto_back": ("confirmed", "shipped", "rto"),
}


WIDTH = 120
EXAMPLE_KINDS = ("ndr", "return", "cod", "rto", "delivered", "cod_declined")


def short(n: int) -> str:
    """A count in at most four characters: 9999, 12k, 123k, 1.2M."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def said(status: str) -> str:
    """A status as a person would say it: PICKUP_SCHEDULED → pickup scheduled."""
    return status.lower().replace("_", " ")


@dataclass(frozen=True)
class Delivered:
    """Desk work: a demo order was delivered (the desk decides whether the customer returns it)."""

    order_id: str
    lines: tuple[tuple[str, int], ...]
    cod: bool


@dataclass(frozen=True)
class AtWarehouse:
    """Desk work: a return or an RTO parcel reached the warehouse; receive it and pass QC."""

    return_id: str
    order_id: str
    lines: tuple[tuple[str, int], ...]
    kind: str


DeskWork = Delivered | AtWarehouse


@dataclass
class Journey:
    """What the demo has seen of one of its orders."""

    channel_order_id: str
    channel: str
    city: str
    pincode: str
    lines: tuple[tuple[str, int], ...] = ()
    cod: bool = False
    order_id: str | None = None
    warehouse: str | None = None
    stages: set[str] = field(default_factory=set)
    courier: str | None = None
    awb: str | None = None
    ndrs: list[str] = field(default_factory=list)
    delivered_attempt: int | None = None
    cod_reply: str | None = None
    return_id: str | None = None
    rto_return_id: str | None = None
    return_status: str | None = None
    refund_paise: int | None = None
    refund_mode: str | None = None
    whatsapp: int = 0
    updated: float = field(default_factory=time.monotonic)

    def depth(self) -> int:
        """How interesting this journey is to show: later stages and detours score higher."""
        order = ("placed", "confirmed", "shipped", "delivered", "rto", "rto_back", "return", "refunded")
        score = max((order.index(s) + 1 for s in self.stages if s in order), default=0)
        return 2 * score + 3 * bool(self.ndrs) + bool(self.cod_reply) + bool(self.whatsapp)

    def kind(self) -> str:
        """Which story this order tells, so the examples can take turns."""
        if self.return_id:
            return "return"
        if "rto" in self.stages:
            return "rto"
        if self.cod_reply == "cod_cancel":
            return "cod_declined"
        if "delivered" in self.stages:
            return "ndr" if self.ndrs else "cod" if self.cod_reply else "delivered"
        return "other"

    def line(self) -> str:
        head = f"{self.order_id or self.channel_order_id} {self.channel} {self.city} {self.pincode}"
        if "rejected" in self.stages:
            return head + " → rejected (see GET /orders?status=REJECTED)"
        parts = [head]
        if "unroutable" in self.stages and not self.warehouse:
            parts.append("no warehouse has every line")
        else:
            parts.append(self.warehouse or "…")
        if "on_hold" in self.stages and "confirmed" not in self.stages:
            parts.append("on hold: not enough stock")
        if self.cod_reply == "cod_confirm":
            parts.append("COD confirmed on WhatsApp")
        elif self.cod_reply == "cod_cancel":
            parts.append("COD declined on WhatsApp → cancelled")
        elif "cod" in self.stages and "confirmed" not in self.stages and "cancelled" not in self.stages:
            parts.append("waiting for the customer to confirm COD")
        elif "cancelled" in self.stages and "confirmed" not in self.stages:
            parts.append("cancelled")
        if self.awb:
            parts.append(f"{(self.courier or 'courier').title()} AWB {self.awb}")
        elif "confirmed" in self.stages and not self.cod_reply:
            parts.append("confirmed")
        parts += [f"NDR ({reason.replace('_', ' ')})" for reason in self.ndrs]
        if "rto_back" in self.stages:
            parts.append("RTO back at the warehouse")
        elif "rto" in self.stages:
            parts.append("RTO on its way back")
        elif "delivered" in self.stages:
            attempt = self.delivered_attempt or len(self.ndrs) + 1
            parts.append(f"delivered on attempt {attempt}" if attempt > 1 else "delivered")
        elif "shipped" in self.stages:
            parts.append("on the road")
        if self.return_id or ("rto_back" in self.stages and self.return_status):
            if self.return_id:
                parts.append(f"return {self.return_id}")
            if self.stages & {"restocked", "rto_restocked"}:
                parts.append("received, QC passed, restocked")
            else:
                parts.append(said(self.return_status or "requested"))
            if self.refund_paise is not None:
                how = {"gateway_refund": "Razorpay", "payout": "UPI payout", "store_credit": "store credit"}
                mode = how.get(self.refund_mode or "", self.refund_mode or "refund")
                parts.append(f"refunded ₹{self.refund_paise / 100:,.0f} ({mode})")
        if self.whatsapp:
            parts.append(f"WhatsApp ×{self.whatsapp}")
        return " → ".join(parts)


@dataclass
class Progress:
    """Counts per stage, for the orders this demo sent (others on the same topics are ignored)."""

    sent: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    whatsapp: int = 0
    journeys: dict[str, Journey] = field(default_factory=dict)
    by_order_id: dict[str, Journey] = field(default_factory=dict)
    early: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    last_change: float = field(default_factory=time.monotonic)

    def sent_order(self, order: dict[str, Any]) -> Journey:
        self.sent += 1
        address = order["shipping_address"]
        journey = Journey(
            order["channel_order_id"],
            order["channel"],
            address["city"],
            address["pincode"],
            lines=tuple((line["sku"], line["quantity"]) for line in order["lines"]),
            cod=order["payment"]["method"] == "cod",
        )
        self.journeys[order["channel_order_id"]] = journey
        return journey

    def apply(self, topic: str, event: dict[str, Any]) -> list[DeskWork]:
        """Count one event; events that beat their order's orders.placed wait for it."""
        if topic in (topics.ORDERS_PLACED, topics.ORDERS_REJECTED):
            journey = self.journeys.get(event.get("channel_order_id", ""))
            if journey is None or journey.order_id is not None:
                return []
            journey.order_id = event["order_id"]
            self.by_order_id[journey.order_id] = journey
            self._reach(journey, "rejected" if topic == topics.ORDERS_REJECTED else "placed")
            work: list[DeskWork] = []
            for later_topic, later in self.early.pop(journey.order_id, []):
                work += self.apply(later_topic, later)
            return work
        order_id = event.get("order_id")
        if not order_id:
            return []
        found = self.by_order_id.get(order_id)
        if found is None:
            if len(self.early) < 100_000:
                self.early.setdefault(order_id, []).append((topic, event))
            return []
        return self._advance(found, topic, event)

    def _advance(self, journey: Journey, topic: str, event: dict[str, Any]) -> list[DeskWork]:
        if topic == topics.ROUTING_PLANNED:
            if event.get("attempt", 1) == 1 and event["plans"]:
                journey.warehouse = event["plans"][0]["shipments"][0]["warehouse_code"]
            elif event.get("attempt", 1) == 1:
                self._reach(journey, "unroutable")
        elif topic == topics.INVENTORY_RESERVED:
            journey.warehouse = event["allocations"][0]["warehouse_code"]
            self._touch(journey)
        elif topic == topics.INVENTORY_RESERVATION_FAILED:
            self._reach(journey, "on_hold")
        elif topic == topics.ORDERS_STATUS_CHANGED:
            stage = STAGE_OF_STATUS.get(str(event.get("to_status")))
            if stage is not None:
                self._reach(journey, stage)
                if stage == "delivered" and journey.order_id:
                    return [Delivered(journey.order_id, journey.lines, journey.cod)]
        elif topic == topics.SHIPPING_SHIPMENT_CREATED:
            if event.get("awb") and not event.get("return_id") and not journey.awb:
                journey.courier, journey.awb = event.get("courier"), event["awb"]
                self._touch(journey)
        elif topic == topics.SHIPPING_SHIPMENT_UPDATED:
            return self._shipment(journey, event)
        elif topic == topics.NOTIFICATIONS_SENT and event.get("channel") == "whatsapp":
            journey.whatsapp += 1
            self.whatsapp += 1
            self._touch(journey)
        elif topic == topics.NOTIFICATIONS_CUSTOMER_REPLIED:
            if event.get("choice") in ("cod_confirm", "cod_cancel"):
                journey.cod_reply = event["choice"]
                self._reach(journey, "cod_" + event["choice"].removeprefix("cod_"))
        elif topic in (topics.RETURNS_REQUESTED, topics.RETURNS_UPDATED, topics.RETURNS_REFUNDED):
            return self._return(journey, topic, event)
        return []

    def _shipment(self, journey: Journey, event: dict[str, Any]) -> list[DeskWork]:
        status = event.get("status")
        if event.get("return_id"):
            if status == "DELIVERED" and journey.order_id:
                lines = tuple((line["sku"], line["quantity"]) for line in event.get("lines") or [])
                return [AtWarehouse(event["return_id"], journey.order_id, lines or journey.lines, "return")]
            return []
        if status == "NDR" and len(journey.ndrs) < (event.get("attempt") or 1):
            journey.ndrs.append(str(event.get("ndr_reason") or "other"))
            self._reach(journey, "ndr")
        elif status == "DELIVERED":
            journey.delivered_attempt = event.get("attempt")
            self._touch(journey)
        return []

    def _return(self, journey: Journey, topic: str, event: dict[str, Any]) -> list[DeskWork]:
        return_id = event.get("return_id")
        rto = event.get("kind") == "rto" or (return_id is not None and return_id == journey.rto_return_id)
        first_seen = rto and journey.rto_return_id is None
        if rto:
            journey.rto_return_id = return_id
        else:
            journey.return_id = return_id
        if topic == topics.RETURNS_REFUNDED:
            journey.refund_paise = event.get("amount_paise")
            journey.refund_mode = event.get("refund_mode")
            self._reach(journey, "rto_refunded" if rto else "refunded")
            return []
        status = str(event.get("status"))
        journey.return_status = status
        self._reach(journey, "rto_back" if rto else "return")
        if status in ("RESTOCKED", "QUARANTINED"):
            self._reach(journey, "rto_restocked" if rto else "restocked")
        if rto and first_seen and journey.order_id:
            lines = tuple((line["sku"], line["quantity"]) for line in event.get("lines") or [])
            return [AtWarehouse(event["return_id"], journey.order_id, lines, "rto")]
        return []

    def _reach(self, journey: Journey, stage: str) -> None:
        for implied in (*IMPLIES.get(stage, ()), stage):
            if implied not in journey.stages:
                journey.stages.add(implied)
                self.counts[implied] += 1
        self._touch(journey)

    def _touch(self, journey: Journey) -> None:
        journey.updated = self.last_change = time.monotonic()

    def waiting(self) -> dict[str, int]:
        """Orders stopped short of an outcome, by why (for the summary)."""
        why: Counter[str] = Counter()
        for j in self.journeys.values():
            s = j.stages
            if "rejected" in s or "cancelled" in s or "rto" in s:
                continue
            if not j.order_id:
                why["not placed yet"] += 1
            elif "unroutable" in s and "confirmed" not in s:
                why["unroutable"] += 1
            elif "on_hold" in s and "confirmed" not in s:
                why["on hold for stock"] += 1
            elif "cod" in s and "confirmed" not in s:
                why["COD to confirm"] += 1
            elif "delivered" not in s:
                why["on the road" if "shipped" in s else "before dispatch"] += 1
        return dict(why)

    def line(self, *, rate: float, elapsed: float) -> str:
        """One line of at most WIDTH columns, each stage's count (placed and rejected are in the
        summary: placed follows sent within a second)."""
        c = self.counts
        cells = [
            f"sent {short(self.sent)}",
            f"confirmed {short(c['confirmed'])}",
            f"shipped {short(c['shipped'])}",
            f"delivered {short(c['delivered'])}",
            f"NDR {short(c['ndr'])}",
            f"RTO {short(c['rto'])}",
            f"returns/refunds {short(c['return'])}/{short(c['refunded'])}",
            f"WhatsApp {short(self.whatsapp)}",
        ]
        text = " │ ".join(cells)
        clock = f"  {rate:.1f}/s {elapsed // 60:.0f}m{elapsed % 60:02.0f}s"
        return text + clock if len(text + clock) <= WIDTH else text[:WIDTH]

    def example(self, shown: set[str], turn: int = 0) -> Journey | None:
        """An order not shown yet whose story is this turn's kind (or the next kind that has one),
        the furthest along of them; else the most complete recently settled order."""
        now = time.monotonic()
        done = [
            j
            for j in self.journeys.values()
            if j.order_id and j.order_id not in shown and now - j.updated > 0.5
        ]
        for i in range(len(EXAMPLE_KINDS)):
            kind = EXAMPLE_KINDS[(turn + i) % len(EXAMPLE_KINDS)]
            of_kind = [j for j in done if j.kind() == kind]
            if of_kind:
                return max(of_kind, key=lambda j: (j.depth(), j.updated))
        return max(done, key=lambda j: (j.depth(), j.updated)) if done else None

    def summary(self, elapsed: float) -> list[str]:
        c = self.counts
        lines = [
            f"demo: {self.sent} orders sent in {elapsed:.0f}s: {c['placed']} placed, "
            f"{c['rejected']} rejected, {c['confirmed']} confirmed, {c['shipped']} shipped, "
            f"{c['delivered']} delivered",
            f"      COD: {c['cod']} asked on WhatsApp, {c['cod_confirm']} confirmed, {c['cod_cancel']} "
            f"declined; {c['cancelled']} orders cancelled",
            f"      road: {c['ndr']} with an NDR, {c['rto']} RTO ({c['rto_back']} back at the desk, "
            f"{c['rto_restocked']} restocked, {c['rto_refunded']} prepaid refunded); "
            f"returns: {c['return']} requested, {c['restocked']} restocked, {c['refunded']} refunded; "
            f"{self.whatsapp} WhatsApp messages",
        ]
        waiting = self.waiting()
        if waiting:
            lines.append(
                "      still waiting: " + ", ".join(f"{n} {why}" for why, n in sorted(waiting.items()))
            )
        return lines
