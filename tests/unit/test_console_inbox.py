"""The console's inbox, pure: a ticket's announcement becomes its line and a line on its order's
timeline (none for a ticket on no order), and the reply window reads as time left or closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts import TicketChange, TicketUpdated
from services.console.domain.inbox import line_of, timeline_entry, window_left

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def announced(
    change: TicketChange, *, order_id: str | None = "ORD-1", text: str | None = "Where is it?"
) -> TicketUpdated:
    return TicketUpdated(
        ticket_id="TKT-1", order_id=order_id, change=change, open=change is not TicketChange.CLOSED,
        customer_phone="+91******5678", text=text,
        actor=None if change is TicketChange.CUSTOMER_WROTE else "ops:asha",
        window_closes_at=AT + timedelta(hours=24), occurred_at=AT,
    )  # fmt: skip


def test_the_window_shows_hours_and_minutes_left_then_closed() -> None:
    closes = AT + timedelta(hours=24)
    assert window_left(closes, AT + timedelta(hours=2, minutes=5)) == "21 h 55 min left"
    assert window_left(closes, closes - timedelta(minutes=7, seconds=30)) == "7 min left"
    assert window_left(closes, closes) == "closed"
    assert window_left(None, AT) == "closed"


def test_a_customers_message_and_a_reply_go_on_the_orders_timeline_with_who_said_it() -> None:
    wrote = timeline_entry(announced(TicketChange.CUSTOMER_WROTE), "ev-1")
    replied = timeline_entry(announced(TicketChange.OPERATOR_REPLIED, text="Out today"), "ev-2")
    assert wrote is not None and wrote.text == "customer wrote (TKT-1): Where is it?" and wrote.actor is None
    assert replied is not None and replied.text == "replied on WhatsApp (TKT-1): Out today"
    assert replied.actor == "ops:asha" and replied.kind == "ticket" and replied.order_id == "ORD-1"


def test_a_ticket_on_no_order_has_no_timeline_line_but_still_a_ticket_line() -> None:
    event = announced(TicketChange.CUSTOMER_WROTE, order_id=None)
    assert timeline_entry(event, "ev-3") is None
    line = line_of(event, "ev-3")
    assert (line.ticket_id, line.order_id, line.open, line.change) == ("TKT-1", None, True, "customer_wrote")
