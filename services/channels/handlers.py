"""Kafka handlers of the channels service: learn Dabba's order id for each order we sent, owe the
stores a new stock number when a SKU's stock changes, owe a store tracking when its parcel is picked
up, owe a store the cancellation of an order Dabba cancelled, owe a marketplace's label once our
invoice of a parcel it carries is issued. Each runs inside the consumer's
transaction; the store calls happen later (sync.py).

Stock numbers are taken a batch at a time too: the batch's last number of each SKU is kept and
every listing of those SKUs is owed its level in a few statements before the commit, so a burst of
sales of one SKU in a batch is one owed level (ADR 431).

Order ids are learnt a batch at a time: each orders.placed is kept in the transaction and written
in one statement before a handler reads order ids (a cancellation or a parcel of the same batch) or
before the commit, whichever comes first."""

from __future__ import annotations

from chassis.consumer import HandlerContext, Transaction
from chassis.handlers import Handlers
from chassis.logging import get_logger
from contracts import InvoiceIssued, OrderCancelled, OrderPlaced, ShipmentUpdated, StockChanged
from services.channels import domain, levels, store

log = get_logger(__name__)

subscriptions: Handlers[None] = Handlers()

LINKS = "channels.links"
"""The transaction's (channel, channel_order_id, order_id) learnt and not written yet."""


STOCK = "channels.stock"
"""The transaction's latest available_total of each SKU, not owed to the stores yet."""


@subscriptions.before_commit
async def write_links(tx: Transaction) -> None:
    """Write the order ids learnt so far in this transaction, in one statement."""
    links = tx.shared.pop(LINKS, None)
    if links:
        await store.link_orders(tx.conn, links)


@subscriptions.before_commit
async def owe_stock_changes(tx: Transaction) -> None:
    """Keep the batch's last number of each SKU and owe each of their listings its level."""
    numbers = tx.shared.pop(STOCK, None)
    if numbers:
        await store.keep_available_many(tx.conn, numbers)
        await levels.owe_listings(tx.conn, skus=list(numbers))


@subscriptions.on(OrderPlaced)
async def on_order_placed(ctx: HandlerContext, event: OrderPlaced) -> None:
    if event.rehearsal:
        return  # an operator's rehearsal is no store's order, whatever channel it names (ADR 0360)
    ctx.shared.setdefault(LINKS, []).append((event.channel.value, event.channel_order_id, event.order_id))


@subscriptions.on(OrderCancelled)
async def on_order_cancelled(ctx: HandlerContext, event: OrderCancelled) -> None:
    if event.rehearsal:
        return
    await write_links(ctx.tx)
    await store.owe_store_cancellation(ctx.conn, event.order_id, event.reason_code.value)


@subscriptions.on(StockChanged)
async def on_stock_changed(ctx: HandlerContext, event: StockChanged) -> None:
    # One SKU's changes share a partition, so they come in order: the last one is the number.
    ctx.shared.setdefault(STOCK, {})[event.sku] = event.available_total


@subscriptions.on(ShipmentUpdated)
async def on_shipment_updated(ctx: HandlerContext, event: ShipmentUpdated) -> None:
    if event.status not in domain.MAY_BE_STORE_NEWS or not event.awb or event.return_id:
        return
    await write_links(ctx.tx)
    origin = await store.channel_order_of(ctx.conn, event.order_id)
    if origin is None:
        return  # not an order from one of our stores
    if not domain.store_told_at(event.status, marketplace_carries=origin.shipped_by_marketplace):
        return
    await store.owe_fulfilment(
        ctx.conn,
        shipment_id=event.shipment_id,
        account=origin.account,
        store_order_id=origin.store_order_id,
        courier=event.courier,
        awb=event.awb,
        tracking_url=domain.tracking_url(event.courier, event.awb, event.tracking_url),
    )


@subscriptions.on(InvoiceIssued)
async def on_invoice_issued(ctx: HandlerContext, event: InvoiceIssued) -> None:
    # The marketplace's label carries our invoice's number, date and rates (ADR 370).
    if event.status == "cancelled":
        # Its shipment was cancelled after packing: a label not yet asked for never is (ADR 422).
        if await store.cancel_label(ctx.conn, event.shipment_id, why=f"invoice {event.number} cancelled"):
            log.info("marketplace label cancelled with its invoice", shipment_id=event.shipment_id)
        return
    if not event.lines:
        return
    await write_links(ctx.tx)
    await store.owe_label(
        ctx.conn,
        shipment_id=event.shipment_id,
        order_id=event.order_id,
        invoice_number=event.number,
        issued_at=event.issued_at,
        rates={line.sku: line.gst_rate for line in event.lines},
        platforms=domain.LABELLED_BY,
    )
