"""Sends queued messages: claims due rows under a lease (marking WhatsApp sends started), calls the
provider with our message id, then records the round's outcomes and audit events in one short
transaction.

No transaction stays open across a provider call (ADR 1). A crash between the call and the record
leaves the lease to expire; a WhatsApp message whose try started and recorded nothing then waits
for Meta's status webhook, which names our message id and records the send (``record_sent``),
before it is sent again (ADR 0040).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from chassis import faults, ratelimit
from chassis.logging import get_logger, mask_phone
from chassis.outbox import outbox_row, write_rows
from chassis.service import Service
from contracts import NotificationFailed, NotificationSent
from services.notifications import store
from services.notifications.domain.delivery import (
    Delivery,
    advance,
    falls_back_to_sms,
    retry_delay,
    settled_by_report,
    waits_for_status_until,
)
from services.notifications.domain.policy import OPS_RECIPIENT, alert
from services.notifications.domain.replies import StatusUpdate
from services.notifications.providers.interface import (
    MessageProvider,
    MessageRejected,
    ProviderError,
    ProviderUnavailable,
    TemplateMessage,
)
from services.notifications.records import Message
from services.notifications.sending import Sending
from services.notifications.settings import NotificationsSettings

log = get_logger(__name__)

Outcome = tuple[Message, ProviderError | str]
"""A claimed message and what its provider said: its provider message id, or the error."""

AFTER_SEND = "notifications.after_send"
"""Fault point: the provider accepted the message and nothing is recorded yet."""


def _audit(row: Message) -> dict[str, object]:
    return {
        "order_id": row.order_id,
        "message_id": row.message_id,
        "channel": row.channel,
        "template": row.template,
        "language": row.language,
        "recipient": row.recipient if row.recipient == OPS_RECIPIENT else mask_phone(row.recipient),
        "cause_event_id": row.cause_event_id,
    }


def template_message(row: Message) -> TemplateMessage:
    """What the provider gets for a message row."""
    return TemplateMessage(
        idempotency_key=row.message_id,
        recipient=row.recipient,
        template=row.provider_template or row.template,
        language=row.language,
        parameters=tuple(row.parameters),
        text=row.body,
        buttons=tuple(row.buttons),
        url_suffix=row.url_suffix,
        dlt_template_id=row.dlt_template_id,
    )


async def record_failure(service: Service, conn: store.Conn, row: Message, error: str) -> None:
    """A message that will not arrive on its channel: audit it, then send its SMS fallback, or
    alert the operators when there is none (never about an alert, which would loop)."""
    failed = await store.mark_failed(conn, message_id=row.message_id, error=error)
    if failed is None:
        return
    await service.emit(conn, NotificationFailed(**_audit(row), error=error[:500]))
    now = datetime.now(UTC)
    fallback = row.fallback
    if fallback is not None and falls_back_to_sms(row.channel, has_fallback=True):
        await store.queue(
            conn,
            message=fallback,
            cause_event_id=row.cause_event_id,
            send_at=now,
            fallback_of=row.message_id,
        )
        log.info("falling back to sms", order_id=row.order_id, message_id=row.message_id)
        return
    if row.channel != "slack":
        warning = alert(
            "message_failed",
            key=row.message_id,
            order_id=row.order_id,
            template=row.template,
            channel=row.channel,
            error=error[:200],
        )
        await store.queue(conn, message=warning, cause_event_id=row.cause_event_id, send_at=now)


async def apply_status(service: Service, conn: store.Conn, row: Message, status: StatusUpdate) -> bool:
    """A provider's status for one of our messages; False when it changes nothing (late, repeated)."""
    current = Delivery(row.delivery)
    # SMS reports are final (the first delivered or failed stands); Meta's statuses only move forward.
    new = (
        settled_by_report(current, status.status) if row.channel == "sms" else advance(current, status.status)
    )
    if new is None:
        return False
    if new is Delivery.FAILED:
        provider = "msg91" if row.channel == "sms" else "whatsapp"
        error = f"{provider} reported failed (code {status.error_code}): {status.error or 'no reason given'}"
        await record_failure(service, conn, row, error)
    else:
        await store.set_delivery(conn, message_id=row.message_id, delivery=new.value)
    return True


async def record_sent(service: Service, conn: store.Conn, sent: list[tuple[Message, str]]) -> set[str]:
    """Record accepted sends with their audit events, then apply statuses that overtook them.
    Returns the message ids recorded now: one recorded already (by the dispatcher, or by a status
    webhook naming it) is left alone, so each send emits ``notifications.sent.v1`` once."""
    # The audit events are made before the rows are locked: the lock lasts only the statements.
    audits = {
        row.message_id: outbox_row(
            NotificationSent(**_audit(row), provider_message_id=provider_message_id), source=service.name
        )[1]
        for row, provider_message_id in sent
    }
    recorded, early = await store.mark_sent(conn, [(row.message_id, provider) for row, provider in sent])
    for row, _ in sent:
        if row.message_id in recorded:
            log.info("message sent", order_id=row.order_id, template=row.template, channel=row.channel)
    await write_rows(conn, [audit for message_id, audit in audits.items() if message_id in recorded])
    for update in early:
        current = await store.by_provider_id(conn, update.provider_message_id)
        assert current is not None, "recorded in this transaction"
        await apply_status(service, conn, current, update)
    return recorded


def rate_bucket(channel: str) -> str:
    """The shared rate bucket of one channel's provider (chassis.ratelimit)."""
    return f"notifications:{channel}"


class Dispatcher:
    """One per process; each round sends what is due on every channel, within its rate limit."""

    def __init__(
        self,
        service: Service,
        settings: NotificationsSettings,
        providers: Mapping[str, MessageProvider],
        sending: Sending | None = None,
    ) -> None:
        self._service = service
        self.sending = sending or Sending()
        self._settings = settings
        self._providers = providers
        per_second = {
            "whatsapp": settings.rate_whatsapp_per_s,
            "sms": settings.rate_sms_per_s,
            "slack": settings.rate_slack_per_s,
        }
        # Shared by every replica (a bucket per channel in PostgreSQL, ADR 470): the provider's limit
        # is per sender number or account, however many processes send.
        self._limits = {
            channel: ratelimit.Limit(rate=rate, burst=max(1, int(rate)))
            for channel, rate in per_second.items()
            if channel in providers
        }

    async def run_once(self) -> int:
        """Send every due message the rate limits allow; returns how many were tried."""
        pool = self._service.pool
        claimed: list[tuple[MessageProvider, Message]] = []
        async with pool.acquire() as conn:
            dues = await store.due_counts(
                conn, channels=list(self._providers), limit=self._settings.dispatch_batch
            )
            for channel, provider in self._providers.items():
                due = dues[channel]
                if not due:
                    continue  # an idle round touches no bucket
                limit, bucket = self._limits[channel], rate_bucket(channel)
                allowed = await ratelimit.take_many(conn, bucket, limit, due)
                # One statement, atomic on its own: the claim (and the send's start) needs no transaction.
                rows = await store.claim_due(
                    conn,
                    channel=channel,
                    limit=allowed,
                    lease_s=self._settings.dispatch_lease_s,
                    mark_start=provider.echoes_message_id,
                )
                ready = await self._hold_uncertain(conn, rows)
                await ratelimit.give_back(conn, bucket, limit, allowed - len(ready))
                claimed += [(provider, row) for row in ready]
        if not claimed:
            return 0
        # Status webhooks this process serves for these messages wait for the round, not on their rows.
        message_ids = [row.message_id for _, row in claimed]
        over, recorded = self.sending.started(message_ids), set[str]()
        try:
            outcomes = await asyncio.gather(*(self._send(provider, row) for provider, row in claimed))
            recorded = await self._record_round(outcomes)
        finally:
            self.sending.finished(message_ids, over, recorded)
        return len(claimed)

    async def _hold_uncertain(self, conn: store.Conn, rows: list[Message]) -> list[Message]:
        """The claimed rows that may be sent now; the others go back to wait for the status webhook
        of a previous try that died without recording an outcome."""
        now = datetime.now(UTC)
        grace = timedelta(seconds=self._settings.whatsapp_uncertain_grace_s)
        ready, waits = [], []
        for row in rows:
            previous = row.previous_start
            until = waits_for_status_until(previous, now=now, grace=grace)
            if until is not None and previous is not None:
                waits.append((row.message_id, previous, until))
                continue
            if previous is not None:
                log.warning(
                    "no status came for a try that recorded no outcome: sending again",
                    message_id=row.message_id,
                    order_id=row.order_id,
                    previous_start=previous.isoformat(),
                )
            ready.append(row)
        if waits:
            log.info("waiting for the status of tries that recorded no outcome", messages=len(waits))
            await store.wait_for_status(conn, waits)
        return ready

    async def _send(self, provider: MessageProvider, row: Message) -> Outcome:
        outcome: ProviderError | str
        try:
            outcome = (await provider.send_template(template_message(row))).provider_message_id
        except ProviderError as exc:
            outcome = exc
        await faults.freeze_if_armed(AFTER_SEND, lambda: (row.message_id, row.order_id or ""))
        return row, outcome

    async def _record_round(self, outcomes: list[Outcome]) -> set[str]:
        """Record a round's outcomes in one transaction; if that fails, each in its own (a message
        left unrecorded is claimed again once its lease expires, and waits for its status webhook).
        Returns the provider message ids of the sends recorded (committed)."""
        pool = self._service.pool
        try:
            async with pool.acquire() as conn, conn.transaction():
                recorded = await self._record(conn, outcomes)
            return recorded
        except Exception as exc:
            log.warning("recording a dispatch round failed, one by one", size=len(outcomes), error=repr(exc))
        recorded = set()
        for outcome in outcomes:
            try:
                async with pool.acquire() as conn, conn.transaction():
                    one = await self._record(conn, [outcome])
                recorded |= one
            except Exception as exc:  # its lease expires, and its status webhook or a new try records it
                log.error("recording a send failed", message_id=outcome[0].message_id, error=repr(exc))
        return recorded

    async def _record(self, conn: store.Conn, outcomes: list[Outcome]) -> set[str]:
        """Record outcomes; returns the provider message ids of the sends recorded now."""
        sent = [(row, outcome) for row, outcome in outcomes if isinstance(outcome, str)]
        recorded = await record_sent(self._service, conn, sent)
        for row, outcome in outcomes:
            if isinstance(outcome, str):
                continue
            if isinstance(outcome, MessageRejected) or row.attempts >= self._settings.send_max_attempts:
                log.warning("message failed", message_id=row.message_id, error=str(outcome))
                await record_failure(self._service, conn, row, str(outcome))
            else:
                assert isinstance(outcome, ProviderUnavailable)
                delay = retry_delay(
                    row.attempts,
                    base_s=self._settings.send_retry_base_s,
                    cap_s=self._settings.send_retry_cap_s,
                )
                log.info("message retry", message_id=row.message_id, attempt=row.attempts, error=str(outcome))
                await store.retry_later(
                    conn, message_id=row.message_id, at=datetime.now(UTC) + delay, error=str(outcome)
                )
        return {provider_id for row, provider_id in sent if row.message_id in recorded}
