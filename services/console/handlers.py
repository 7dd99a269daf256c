"""Kafka handlers of the console: every event it shows is folded into the order read model.

Handlers only collect; one hook folds the transaction's events per order at its end, so a batch of
500 events costs one lock-read, one write of the orders it changed and one of their timeline lines,
inside the consumer's inbox transaction.
"""

from __future__ import annotations

from typing import Any

from chassis.consumer import HandlerContext, Transaction
from chassis.handlers import Handlers
from contracts import Event, StockChanged, TicketUpdated
from services.console import store
from services.console.domain import inbox
from services.console.domain.view import FOLDED, apply, timeline_entry

subscriptions: Handlers[None] = Handlers()

_PENDING = "console.pending"
_STOCK = "console.stock"


@subscriptions.on(*FOLDED)
async def collect(ctx: HandlerContext, event: Event) -> None:
    """Keep the event for the fold at the end of the transaction."""
    if getattr(event, "order_id", None):
        ctx.shared.setdefault(_PENDING, []).append((ctx.event_id, event))


@subscriptions.before_commit
async def fold(tx: Transaction) -> None:
    """Apply the transaction's events to their orders' views, in the order they were consumed."""
    pending: list[tuple[str, Any]] = tx.shared.pop(_PENDING, [])
    if not pending:
        return
    locked = await store.lock_views(tx.conn, (event.order_id for _, event in pending))
    views = dict(locked.views)
    entries = []
    for event_id, event in pending:
        views[event.order_id] = apply(views.get(event.order_id), event)
        if (entry := timeline_entry(event, event_id)) is not None:
            entries.append(entry)
    await store.save_views(tx.conn, list(views.values()), locked)
    await store.add_timeline(tx.conn, entries)


@subscriptions.on(StockChanged)
async def collect_stock(ctx: HandlerContext, event: StockChanged) -> None:
    """Keep a SKU's announcement for the stock screen's write at the end of the transaction."""
    ctx.shared.setdefault(_STOCK, []).append(event)


@subscriptions.before_commit
async def fold_stock(tx: Transaction) -> None:
    """Write the newest announcement of each SKU the transaction heard (ADR 320)."""
    if pending := tx.shared.pop(_STOCK, []):
        await store.save_stock(tx.conn, pending)


@subscriptions.on(TicketUpdated)
async def on_ticket(ctx: HandlerContext, event: TicketUpdated) -> None:
    """A ticket's change: a line for the inbox, and one on its order's timeline (ADR 0351)."""
    await store.add_ticket_lines(ctx.conn, [inbox.line_of(event, ctx.event_id)])
    if (entry := inbox.timeline_entry(event, ctx.event_id)) is not None:
        await store.add_timeline(ctx.conn, [entry])
