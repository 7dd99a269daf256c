"""What the WhatsApp webhook's news does: delivery statuses move the audit forward (a failure falls
back to SMS), button replies become ``notifications.customer_replied.v1``, STOP opts a customer out,
any other text goes into the customer's ticket (ADR 0350). Every message from a customer renews
their 24-hour window.
A status naming one of our messages whose send is not recorded (the dispatcher crashed after Meta
accepted it, or has not recorded it yet) records that send first, as the dispatcher would have.

A webhook that only reports sent, delivered or read (most of them) costs one statement per status,
each atomic on its own (plus one short transaction for a status that records its send); anything
else (a failure, a reply, a STOP) is applied in one transaction per call. Meta redelivers a call
we did not answer 200, and every step is idempotent (forward-only statuses, replies remembered by
their wamid, a send recorded once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from chassis.logging import get_logger
from chassis.service import Service
from contracts import CustomerReplied, NotificationChannel, ReplyChoice
from services.notifications import store, ticket_store, tickets
from services.notifications.dispatcher import apply_status, record_sent
from services.notifications.domain.delivery import Delivery, moved_by
from services.notifications.domain.replies import ButtonReply, Notice, StatusUpdate, TextReply, reattempt_on
from services.notifications.sending import Sending

log = get_logger(__name__)

NDR_CHOICES = frozenset(c for c in ReplyChoice if c.value.startswith("ndr_"))


async def apply(
    service: Service,
    notices: Sequence[Notice],
    *,
    now: datetime | None = None,
    sending: Sending | None = None,
) -> dict[str, int]:
    """Apply a webhook's notices; returns how many of each kind changed something. ``now`` is the
    service's clock (a customer's message without Meta's timestamp counts from it). ``sending`` is
    this process's dispatcher's: a status about a message it is sending waits for its round to be
    recorded, holding no connection, and a "sent" status of a send it recorded costs no statement."""
    now = now or datetime.now(UTC)
    counts = {"statuses": 0, "replies": 0, "opt_outs": 0, "tickets": 0}
    sending = sending or Sending()
    await sending.settled(n.message_id for n in notices if isinstance(n, StatusUpdate) and n.message_id)
    if all(isinstance(n, StatusUpdate) and n.status is not Delivery.FAILED for n in notices):
        if all(_changes_nothing(sending, n) for n in notices):
            return counts
        async with service.pool.acquire() as conn:
            for notice in notices:
                assert isinstance(notice, StatusUpdate)
                if not _changes_nothing(sending, notice):
                    counts["statuses"] += await _status(service, conn, notice)
        return counts
    async with service.pool.acquire() as conn, conn.transaction():
        for notice in notices:
            if isinstance(notice, ButtonReply | TextReply):
                at = min(notice.sent_at or now, now)
                await ticket_store.customer_wrote(conn, phone=notice.phone, at=at)
            if isinstance(notice, StatusUpdate):
                counts["statuses"] += await _status(service, conn, notice)
            elif isinstance(notice, ButtonReply):
                counts["replies"] += await _reply(service, conn, notice)
            elif isinstance(notice, TextReply) and notice.opts_out:
                await store.opt_out(conn, phone=notice.phone, source=f"whatsapp:{notice.provider_message_id}")
                counts["opt_outs"] += 1
            elif isinstance(notice, TextReply) and notice.opts_in:
                await store.opt_in(conn, phone=notice.phone)
            elif isinstance(notice, TextReply) and notice.is_free_text:
                counts["tickets"] += await tickets.received(service, conn, notice, now=now)
    return counts


def _changes_nothing(sending: Sending, notice: Notice) -> bool:
    """A "sent" status of a send this process recorded: its delivery is sent or further already."""
    return (
        isinstance(notice, StatusUpdate)
        and notice.status is Delivery.SENT
        and sending.recorded(notice.provider_message_id)
    )


async def _status(service: Service, conn: store.Conn, notice: StatusUpdate) -> int:
    moved = await _move(service, conn, notice)
    if moved is None and notice.message_id:
        # The send is recorded now, by us or (while we looked) by the dispatcher, unless it is not ours.
        await _record_send(service, conn, notice)
        moved = await _move(service, conn, notice)
    if moved is None and await ticket_store.reply_delivery(
        conn, provider_message_id=notice.provider_message_id, delivery=notice.status.value, error=notice.error
    ):
        return 1  # an operator's reply to a ticket (a failure: 131047 outside the window)
    if moved is None:
        # Meta can call before the dispatcher recorded the send: keep it for that moment.
        await store.park_status(
            conn,
            provider_message_id=notice.provider_message_id,
            status=notice.status.value,
            error=notice.error,
            error_code=notice.error_code,
        )
        return 0
    return int(moved)


async def apply_parked(service: Service) -> int:
    """Apply the statuses parked for a send that has been recorded since; returns how many moved a
    message. A webhook that parks a status while the dispatcher's round records that send (another
    replica's, or after the round wait ran out) cannot see the send, nor can the round see the
    parked row, so neither applies it; this sweep does, in one transaction per pass."""
    async with service.pool.acquire() as conn, conn.transaction():
        moved = 0
        for status in await store.take_matched_early_statuses(conn):
            row = await store.by_provider_id(conn, status.provider_message_id)
            if row is not None and await apply_status(service, conn, row, status):
                moved += 1
        return moved


async def _move(service: Service, conn: store.Conn, notice: StatusUpdate) -> bool | None:
    """Apply a status to the message recorded under its wamid; None when there is none (yet)."""
    if notice.status is Delivery.FAILED:
        row = await store.by_provider_id(conn, notice.provider_message_id)
        return None if row is None else await apply_status(service, conn, row, notice)
    # Sent, delivered, read: one UPDATE of the delivery column, no read first.
    return await store.advance_delivery(
        conn,
        provider_message_id=notice.provider_message_id,
        delivery=notice.status.value,
        moves_from=frozenset(d.value for d in moved_by(notice.status)),
    )


async def _record_send(service: Service, conn: store.Conn, notice: StatusUpdate) -> None:
    """Record the send a status names by our message id, if that message is still queued (Meta
    has no idempotency key: this is what keeps a crashed send from being sent again)."""
    assert notice.message_id is not None
    async with conn.transaction():
        row = await store.unrecorded_send(conn, notice.message_id)
        if row is None:  # recorded already (perhaps under another wamid), or not ours
            return
        if notice.recipient is not None and notice.recipient != row.recipient:
            log.warning("status names a message of ours to another number", message_id=notice.message_id)
            return
        await record_sent(service, conn, [(row, notice.provider_message_id)])
    log.info("send recorded from its status webhook", message_id=notice.message_id, order_id=row.order_id)


async def _reply(service: Service, conn: store.Conn, notice: ButtonReply) -> int:
    answered = None
    if notice.in_reply_to:
        answered = await store.by_provider_id(conn, notice.in_reply_to)
    if answered is None:
        answered = await store.latest_about(conn, reference=notice.reference, phone=notice.phone)
    if answered is None or answered.order_id is None or answered.recipient != notice.phone:
        # We only act on answers to our own messages, from the number we sent them to.
        log.warning("reply to no message of ours", choice=notice.choice, reference=notice.reference)
        return 0
    order_id = answered.order_id
    if not await store.record_reply(
        conn,
        provider_message_id=notice.provider_message_id,
        order_id=order_id,
        choice=notice.choice.value,
        in_reply_to=answered.message_id,
    ):
        return 0
    await store.add_history(conn, answered.message_id, "replied", notice.choice.value)
    await service.emit(
        conn,
        CustomerReplied(
            order_id=order_id,
            channel=NotificationChannel.WHATSAPP,
            choice=notice.choice,
            shipment_id=notice.reference if notice.choice in NDR_CHOICES else None,
            reattempt_on=reattempt_on(notice.choice, datetime.now(UTC)),
            in_reply_to_message_id=answered.message_id,
            provider_message_id=notice.provider_message_id,
        ),
    )
    log.info("customer replied", order_id=order_id, choice=notice.choice)
    return 1
