"""What the WhatsApp webhook's news does: delivery statuses move the audit forward (a failure falls
back to SMS), button replies become ``notifications.customer_replied.v1``, STOP opts a customer out.

A webhook that only reports sent, delivered or read (most of them) costs one statement per status,
each atomic on its own; anything else (a failure, a reply, a STOP) is applied in one transaction per
call. Meta redelivers a call we did not answer 200, and every step is idempotent (forward-only
statuses, replies remembered by their wamid).
"""

from __future__ import annotations

from datetime import UTC, datetime

from chassis.logging import get_logger
from chassis.service import Service
from contracts import CustomerReplied, NotificationChannel, ReplyChoice
from services.notifications import store
from services.notifications.dispatcher import apply_status
from services.notifications.domain.delivery import Delivery, moved_by
from services.notifications.domain.replies import ButtonReply, Notice, StatusUpdate, TextReply, reattempt_on

log = get_logger(__name__)

NDR_CHOICES = frozenset(c for c in ReplyChoice if c.value.startswith("ndr_"))


async def apply(service: Service, notices: list[Notice]) -> dict[str, int]:
    """Apply a webhook's notices; returns how many of each kind changed something."""
    counts = {"statuses": 0, "replies": 0, "opt_outs": 0}
    if all(isinstance(n, StatusUpdate) and n.status is not Delivery.FAILED for n in notices):
        async with service.pool.acquire() as conn:
            for notice in notices:
                assert isinstance(notice, StatusUpdate)
                counts["statuses"] += await _status(service, conn, notice)
        return counts
    async with service.pool.acquire() as conn, conn.transaction():
        for notice in notices:
            if isinstance(notice, StatusUpdate):
                counts["statuses"] += await _status(service, conn, notice)
            elif isinstance(notice, ButtonReply):
                counts["replies"] += await _reply(service, conn, notice)
            elif isinstance(notice, TextReply) and notice.opts_out:
                await store.opt_out(conn, phone=notice.phone, source=f"whatsapp:{notice.provider_message_id}")
                counts["opt_outs"] += 1
            elif isinstance(notice, TextReply) and notice.opts_in:
                await store.opt_in(conn, phone=notice.phone)
    return counts


async def _status(service: Service, conn: store.Conn, notice: StatusUpdate) -> int:
    if notice.status is Delivery.FAILED:
        row = await store.by_provider_id(conn, notice.provider_message_id)
        moved = None if row is None else await apply_status(service, conn, row, notice)
    else:
        # Sent, delivered, read: one UPDATE of the delivery column, no read first.
        moved = await store.advance_delivery(
            conn,
            provider_message_id=notice.provider_message_id,
            delivery=notice.status.value,
            moves_from=frozenset(d.value for d in moved_by(notice.status)),
        )
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


async def _reply(service: Service, conn: store.Conn, notice: ButtonReply) -> int:
    answered = None
    if notice.in_reply_to:
        answered = await store.by_provider_id(conn, notice.in_reply_to)
    if answered is None:
        answered = await store.latest_about(conn, reference=notice.reference, phone=notice.phone)
    if answered is None or answered["order_id"] is None or answered["recipient"] != notice.phone:
        # We only act on answers to our own messages, from the number we sent them to.
        log.warning("reply to no message of ours", choice=notice.choice, reference=notice.reference)
        return 0
    order_id = answered["order_id"]
    if not await store.record_reply(
        conn,
        provider_message_id=notice.provider_message_id,
        order_id=order_id,
        choice=notice.choice.value,
        in_reply_to=answered["message_id"],
    ):
        return 0
    await store.add_history(conn, answered["message_id"], "replied", notice.choice.value)
    await service.emit(
        conn,
        CustomerReplied(
            order_id=order_id,
            channel=NotificationChannel.WHATSAPP,
            choice=notice.choice,
            shipment_id=notice.reference if notice.choice in NDR_CHOICES else None,
            reattempt_on=reattempt_on(notice.choice, datetime.now(UTC)),
            in_reply_to_message_id=answered["message_id"],
            provider_message_id=notice.provider_message_id,
        ),
    )
    log.info("customer replied", order_id=order_id, choice=notice.choice)
    return 1
