"""The console's small decisions: which actions an order offers, sign-in lockout, queue cursors,
what a search box query means. Plain functions over plain data."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chassis.text import text_problem
from services.console.domain.view import OrderView

_BEFORE_DISPATCH = {
    "PLACED",
    "PENDING_PAYMENT",
    "PENDING_COD_CONFIRMATION",
    "ON_HOLD",
    "BACKORDERED",
    "CONFIRMED",
    "PACKED",
}
_HOLDABLE = {"PLACED", "PENDING_PAYMENT", "PENDING_COD_CONFIRMATION"}
_PACKABLE = {"AWB_ASSIGNED", "PICKED"}
_RECEIVABLE = {"REQUESTED", "APPROVED", "PICKUP_SCHEDULED", "PICKED_UP"}

# Tabs of the queue for what needs a person: name → label. Which tabs an order is in is decided
# here (`tabs_of`) and stored on its row, so each write knows which tab counts it moves.
TABS: dict[str, str] = {
    "all": "All",
    "rejected": "Rejected",
    "on_hold": "On hold",
    "cod": "COD awaiting reply",
    "unroutable": "Unroutable",
    "no_courier": "No courier",
    "late_dispatch": "Late to dispatch",
    "ndr": "NDR",
    "returns": "Returns",
    "refund_overdue": "Refund overdue",
}
# A tab that turns on the clock cannot be stored (nothing is written when a promise runs out): the
# row stores the set it belongs to while it may become late, and the queue compares the time on
# reading. Tab → (stored tab, the row's timestamp column that is then in the past).
CLOCK_TABS: dict[str, tuple[str, str]] = {"late_dispatch": ("dispatch_due", "promised_dispatch_by")}
STORED_TABS: tuple[str, ...] = (
    *(t for t in TABS if t not in CLOCK_TABS),
    *(stored for stored, _ in CLOCK_TABS.values()),
)
_AWAITING_DISPATCH = {"CONFIRMED", "PACKED"}


def tabs_of(view: OrderView, *, ndr_open: bool, return_open: bool) -> list[str]:
    """The stored queue tabs an order is in: always "all", then what needs a person about it."""
    status = view.status
    tabs = ["all"]
    if status == "REJECTED":
        tabs.append("rejected")
    if status in ("ON_HOLD", "BACKORDERED"):
        tabs.append("on_hold")
    if status == "PENDING_COD_CONFIRMATION":
        tabs.append("cod")
    if view.unroutable:
        tabs.append("unroutable")
    if view.unbooked:
        tabs.append("no_courier")
    if status in _AWAITING_DISPATCH and view.promised_dispatch_by and "picked_up" not in view.milestones:
        tabs.append("dispatch_due")
    if ndr_open:
        tabs.append("ndr")
    if return_open:
        tabs.append("returns")
    if view.refund_overdue:
        tabs.append("refund_overdue")
    return tabs


def order_actions(view: OrderView) -> list[str]:
    """The order-level actions its status allows (the owning service has the last word)."""
    status = view.status or ""
    actions = []
    if status == "PENDING_COD_CONFIRMATION":
        actions += ["cod_confirm", "cod_decline"]
    if status in _HOLDABLE:
        actions.append("hold")
    if status in ("ON_HOLD", "BACKORDERED"):
        actions.append("release")
    if status in _BEFORE_DISPATCH:
        actions.append("cancel")
    return actions


def shipment_actions(status: str) -> list[str]:
    """What a parcel in this status offers: booking again when no courier took it, packing at the
    station, or an answer to its NDR."""
    if status == "CREATED":
        return ["book"]
    if status in _PACKABLE:
        return ["pack"]
    if status == "NDR":
        return ["ndr_reattempt", "ndr_rto"]
    return []


# What the queue's bulk bar offers (order actions of api.ORDER_ACTIONS), and how many orders at once.
BULK_ACTIONS = ("cod_confirm", "hold", "release", "cancel")
MAX_BULK = 100


def bulk_outcome(label: str, outcomes: list[tuple[str, Any]]) -> tuple[int, None, str]:
    """One answer for a bulk action (status, body, sentence): how many orders it was done to, and
    each refusal with the order it was about. 200 when every order took it, else the first refusal's."""
    refused = [(order_id, o) for order_id, o in outcomes if not o.ok]
    done = len(outcomes) - len(refused)
    sentence = f"{label}: done for {done} of {len(outcomes)}"
    if refused:
        sentence += "; " + "; ".join(f"{order_id}: {o.message}" for order_id, o in refused)
    return (refused[0][1].status if refused else 200), None, sentence


def byline(text: str, actor: str | None) -> str | None:
    """Whom a timeline line names as its actor: nobody when the line's own words already do (orders
    writes "entered by ops:asha" into the reason of an order keyed in by hand)."""
    if not actor or actor in text:
        return None
    return actor


def return_actions(status: str) -> list[str]:
    """Receive the parcel at the desk, then QC it line by line."""
    if status in _RECEIVABLE:
        return ["receive"]
    if status == "RECEIVED":
        return ["qc"]
    return []


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int
    minutes: float


def after_failed_sign_in(failures: int, now: datetime, policy: LockoutPolicy) -> tuple[int, datetime | None]:
    """Failures so far and the lock's end: the Nth failure in a row locks the account."""
    failures += 1
    if failures >= policy.failures:
        return 0, now + timedelta(minutes=policy.minutes)
    return failures, None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def encode_cursor(sort_at: datetime, order_id: str) -> str:
    """An opaque keyset cursor: the last row's position in the queue."""
    return base64.urlsafe_b64encode(f"{sort_at.isoformat()}|{order_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names; ValueError when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        at, order_id = text.split("|", 1)
        if text_problem(order_id) is not None:  # a forged cursor: PostgreSQL cannot compare a NUL
            raise ValueError(order_id)
        return datetime.fromisoformat(at), order_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not one this console gave out") from exc


@dataclass(frozen=True)
class Search:
    """What to match: `text` against ids, AWB, name and email; `digits` against the phone."""

    text: str
    digits: str | None


_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str) -> date | None:
    """A day as Indian operators write it, dd/mm/yyyy (or with - or .), or yyyy-mm-dd as links made
    before carry it; None when blank. ValueError saying what was typed when it is not a day."""
    text = text.strip()
    if not text:
        return None
    try:
        if m := _DAY.fullmatch(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if _ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a day: write it dd/mm/yyyy, e.g. 25/12/2026")


def show_day(text: str) -> str:
    """A day from a query string as the form shows it back: dd/mm/yyyy, or as typed if not a day."""
    try:
        day = parse_day(text)
    except ValueError:
        return text
    return "" if day is None else day.strftime("%d/%m/%Y")


def parse_search(query: str) -> Search | None:
    """A search box query; a phone in any format (+91 98123-45678, 098123 45678, 45678) searches
    the phone by its digits (the last ten when there are more)."""
    query = query.strip()
    if not query:
        return None
    digits = re.sub(r"\D", "", query)
    looks_like_phone = re.fullmatch(r"[\d\s()+\-.]+", query) is not None and len(digits) >= 4
    if looks_like_phone and len(digits) > 10:
        digits = digits[-10:]
    return Search(text=query.lower(), digits=digits if looks_like_phone else None)
