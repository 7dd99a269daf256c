"""SQL for messages, their history, contacts, opt-outs and replies; plain asyncpg, one function each."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import asyncpg

from services.notifications.domain.delivery import Delivery
from services.notifications.domain.policy import Facts, PlannedMessage
from services.notifications.domain.replies import StatusUpdate
from services.notifications.records import Message

Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def _message(row: asyncpg.Record | None) -> Message | None:
    return Message.of(row) if row is not None else None


def _messages(rows: list[asyncpg.Record]) -> list[Message]:
    return [Message.of(row) for row in rows]


def _fallback_json(message: PlannedMessage) -> dict[str, Any] | None:
    if message.fallback is None:
        return None
    data = dataclasses.asdict(message.fallback)
    data.pop("fallback", None)
    return data


_SAVE_CONTACT_CONFLICT = """
    ON CONFLICT (order_id) DO UPDATE
       SET channel_order_id = EXCLUDED.channel_order_id, name = EXCLUDED.name, phone = EXCLUDED.phone,
           language = EXCLUDED.language, rehearsal = contacts.rehearsal OR EXCLUDED.rehearsal
     -- most status changes repeat what is stored: no new row version for those
     WHERE (contacts.channel_order_id, contacts.name, contacts.phone, contacts.language,
            contacts.rehearsal OR EXCLUDED.rehearsal)
           IS DISTINCT FROM (EXCLUDED.channel_order_id, EXCLUDED.name, EXCLUDED.phone, EXCLUDED.language,
                             contacts.rehearsal)"""
"""How a contact is saved over the one stored (the latest status change wins)."""


def _contact_fields(facts: Facts | None) -> tuple[object, ...]:
    """A contact's columns as ``save_contact`` writes them; all None for no contact."""
    if facts is None:
        return (None,) * 6
    return (
        facts.order_id,
        facts.channel_order_id,
        facts.customer_name,
        facts.phone,
        facts.language,
        facts.rehearsal,
    )


async def queue(
    conn: Conn,
    *,
    message: PlannedMessage,
    cause_event_id: str,
    send_at: datetime,
    suppressed: str | None = None,
    fallback_of: str | None = None,
    contact: Facts | None = None,
) -> bool:
    """Record a message to send at ``send_at`` (or as suppressed, with why); False if this message
    id exists already, i.e. the event was redelivered or the message was planned before. With
    ``contact``, save it too (as ``save_contact`` does), in the same statement."""
    status = "suppressed" if suppressed else "queued"
    # The contact, the message and the first line of its history in one statement.
    inserted = await conn.fetchval(
        """WITH saved AS (
                INSERT INTO contacts (order_id, channel_order_id, name, phone, language, rehearsal)
                SELECT $24::text, $25::text, $26::text, $27::text, $28::text, $29::boolean
                 WHERE $24::text IS NOT NULL"""
        + _SAVE_CONTACT_CONFLICT
        + """),
           queued AS (
                INSERT INTO messages (message_id, order_id, template, language, channel, recipient,
                                      parameters, cause_event_id, status, error, occasion, subject,
                                      provider_template, dlt_template_id, body, buttons, url_suffix, urgent,
                                      transactional, fallback, fallback_of, next_attempt_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb,
                        $17, $18, $19, $20::jsonb, $21, $22)
                ON CONFLICT (message_id) DO NOTHING
             RETURNING message_id),
           noted AS (INSERT INTO message_events (message_id, status, detail)
                     SELECT message_id, $9, $23 FROM queued)
           SELECT EXISTS (SELECT 1 FROM queued)""",
        message.message_id,
        message.order_id,
        message.template,
        message.language,
        message.channel.value,
        message.recipient,
        list(message.parameters),
        cause_event_id,
        status,
        suppressed,
        message.occasion,
        message.subject,
        message.provider_template,
        message.dlt_template_id,
        message.text,
        list(message.buttons),
        message.url_suffix,
        message.urgent,
        message.transactional,
        _fallback_json(message),
        fallback_of,
        send_at,
        suppressed or f"caused by {cause_event_id}",
        *_contact_fields(contact),
    )
    return bool(inserted)


async def add_history(conn: Conn, message_id: str, status: str, detail: str | None = None) -> None:
    """One line of a message's history."""
    await conn.execute(
        "INSERT INTO message_events (message_id, status, detail) VALUES ($1, $2, $3)",
        message_id,
        status,
        detail,
    )


async def due_counts(conn: Conn, *, channels: list[str], limit: int) -> dict[str, int]:
    """Suppress queued non-transactional messages to customers who said STOP since they were
    planned, then count, per channel, the messages due and free to claim now (at most ``limit``
    each): a dispatcher round's look, idle or not, in one statement."""
    rows = await conn.fetch(
        """WITH suppressed AS (
                UPDATE messages m SET status = 'suppressed', error = 'customer opted out', updated_at = now()
                  FROM opt_outs o
                 WHERE m.status = 'queued' AND NOT m.transactional AND o.phone = m.recipient
             RETURNING m.message_id)
           SELECT c.channel,
                  (SELECT count(*) FROM (SELECT 1 FROM messages
                                          WHERE status = 'queued' AND channel = c.channel
                                            AND next_attempt_at <= now()
                                            AND (lease_until IS NULL OR lease_until < now())
                                            -- this statement's snapshot still sees them queued
                                            AND message_id NOT IN (SELECT message_id FROM suppressed)
                                          LIMIT $2) AS due) AS due
             FROM unnest($1::text[]) AS c(channel)""",
        channels,
        limit,
    )
    return {r["channel"]: int(r["due"]) for r in rows}


async def claim_due(
    conn: Conn, *, channel: str, limit: int, lease_s: float, mark_start: bool
) -> list[Message]:
    """Take up to ``limit`` due messages of one channel for ``lease_s`` seconds. A dispatcher that
    dies while sending leaves the lease to expire, and another round claims the message again.

    With ``mark_start`` each is also marked as sent from now on (``send_started_at``), in this
    statement, so before the provider is called; every outcome clears the mark. Each row comes with
    the mark it had before (``previous_start``): set, the previous try died without an outcome."""
    if limit <= 0:
        return []
    return _messages(
        await conn.fetch(
            """UPDATE messages m SET lease_until = now() + make_interval(secs => $3),
                                     attempts = m.attempts + 1, send_started_at = CASE WHEN $4 THEN now() END
                 FROM (SELECT message_id, send_started_at FROM messages
                        WHERE status = 'queued' AND channel = $1 AND next_attempt_at <= now()
                          AND (lease_until IS NULL OR lease_until < now())
                        ORDER BY next_attempt_at
                        LIMIT $2
                        FOR UPDATE SKIP LOCKED) AS due
                WHERE m.message_id = due.message_id
            RETURNING m.*, due.send_started_at AS previous_start""",
            channel,
            limit,
            lease_s,
            mark_start,
        )
    )


async def wait_for_status(conn: Conn, waits: list[tuple[str, datetime, datetime]]) -> None:
    """Put claimed (message id, previous start, until) back unsent: the previous try may have been
    accepted, and its status webhook gets until ``until`` to say so. The claim was no attempt, and
    the mark keeps the previous try's start."""
    if not waits:
        return
    await conn.execute(
        """WITH waiting AS (
                UPDATE messages m SET next_attempt_at = w.until, send_started_at = w.started,
                                      lease_until = NULL, attempts = m.attempts - 1, updated_at = now()
                  FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[])
                       AS w(message_id, started, until)
                 WHERE m.message_id = w.message_id AND m.status = 'queued'
             RETURNING m.message_id, w.until)
           INSERT INTO message_events (message_id, status, detail)
           SELECT message_id, 'uncertain',
                  'a try died without recording an outcome; waiting for its status webhook until ' || until
             FROM waiting""",
        [message_id for message_id, _, _ in waits],
        [started for _, started, _ in waits],
        [until for _, _, until in waits],
    )


async def unrecorded_send(conn: Conn, message_id: str) -> Message | None:
    """A WhatsApp message still queued (no send recorded) under this id, locked for recording."""
    return _message(
        await conn.fetchrow(
            """SELECT * FROM messages WHERE message_id = $1 AND channel = 'whatsapp' AND status = 'queued'
                 FOR UPDATE""",
            message_id,
        )
    )


async def mark_sent(conn: Conn, sends: list[tuple[str, str]]) -> tuple[set[str], list[StatusUpdate]]:
    """The provider accepted these (message id, provider message id) pairs: one statement for a
    dispatcher round. Returns the ids recorded now, and the statuses that arrived for them before
    this record, oldest first (taken: the caller applies them in its transaction). A message that
    was no longer queued (another try, or a status webhook naming it, won) is left alone."""
    if not sends:
        return set(), []
    rows = await conn.fetch(
        """WITH sent AS (
                UPDATE messages m SET status = 'sent', delivery = 'sent', provider_message_id = s.provider_id,
                                      lease_until = NULL, error = NULL, updated_at = now()
                  FROM unnest($1::text[], $2::text[]) AS s(message_id, provider_id)
                 WHERE m.message_id = s.message_id AND m.status = 'queued'
             RETURNING m.message_id, m.provider_message_id),
           noted AS (INSERT INTO message_events (message_id, status, detail)
                     SELECT message_id, 'sent', provider_message_id FROM sent),
           early AS (DELETE FROM early_statuses e USING sent
                      WHERE e.provider_message_id = sent.provider_message_id
                  RETURNING e.*)
           SELECT message_id, NULL::bigint AS id, NULL AS provider_message_id, NULL AS status,
                  NULL AS error, NULL::int AS error_code
             FROM sent
           UNION ALL
           SELECT NULL, id, provider_message_id, status, error, error_code FROM early""",
        [message_id for message_id, _ in sends],
        [provider_id for _, provider_id in sends],
    )
    recorded = {r["message_id"] for r in rows if r["message_id"] is not None}
    early = sorted((r for r in rows if r["message_id"] is None), key=lambda r: r["id"])
    return recorded, [
        StatusUpdate(r["provider_message_id"], Delivery(r["status"]), r["error"], r["error_code"])
        for r in early
    ]


async def retry_later(conn: Conn, *, message_id: str, at: datetime, error: str) -> None:
    """A transient failure: try again at ``at`` (the provider did not take it: no longer started)."""
    await conn.execute(
        """UPDATE messages SET next_attempt_at = $2, lease_until = NULL, send_started_at = NULL, error = $3,
                               updated_at = now()
            WHERE message_id = $1 AND status = 'queued'""",
        message_id,
        at,
        error,
    )
    await add_history(conn, message_id, "retrying", error)


async def mark_failed(conn: Conn, *, message_id: str, error: str) -> Message | None:
    """The message will not be delivered on this channel; None if it had failed already."""
    row = await conn.fetchrow(
        """UPDATE messages SET status = 'failed', delivery = 'failed', error = $2, lease_until = NULL,
                               updated_at = now()
            WHERE message_id = $1 AND delivery <> 'failed'
        RETURNING *""",
        message_id,
        error,
    )
    if row is not None:
        await add_history(conn, message_id, "failed", error)
    return _message(row)


async def by_provider_id(conn: Conn, provider_message_id: str) -> Message | None:
    """The message the provider knows under this id."""
    row = await conn.fetchrow(
        "SELECT * FROM messages WHERE provider_message_id = $1 FOR UPDATE", provider_message_id
    )
    return _message(row)


async def set_delivery(conn: Conn, *, message_id: str, delivery: str) -> None:
    """The provider reports the message delivered or read."""
    await conn.execute(
        "UPDATE messages SET delivery = $2, updated_at = now() WHERE message_id = $1", message_id, delivery
    )
    await add_history(conn, message_id, delivery)


async def advance_delivery(
    conn: Conn, *, provider_message_id: str, delivery: str, moves_from: frozenset[str]
) -> bool | None:
    """Move the message the provider knows under this id to ``delivery`` if it is in one of the
    states ``moves_from``, with its history line, in one statement. True when it moved, False when
    the message is known but the status changes nothing (late, repeated), None when no message of
    ours has this id (yet). The state is checked on the row as it is when updated, so two callbacks
    racing each other still only move it forward."""
    row = await conn.fetchrow(
        """WITH moved AS (
                UPDATE messages SET delivery = $2, updated_at = now()
                 WHERE provider_message_id = $1 AND delivery = ANY($3::text[])
             RETURNING message_id),
           noted AS (INSERT INTO message_events (message_id, status) SELECT message_id, $2 FROM moved)
           SELECT EXISTS (SELECT 1 FROM moved) AS moved,
                  EXISTS (SELECT 1 FROM messages WHERE provider_message_id = $1) AS known""",
        provider_message_id,
        delivery,
        sorted(moves_from),
    )
    assert row is not None
    if row["moved"]:
        return True
    return False if row["known"] else None


async def latest_about(conn: Conn, *, reference: str, phone: str) -> Message | None:
    """The last message to this phone about an order or shipment (what a button reply answers)."""
    return _message(
        await conn.fetchrow(
            """SELECT * FROM messages
                WHERE (order_id = $1 OR subject = $1) AND recipient = $2
                ORDER BY created_at DESC LIMIT 1""",
            reference,
            phone,
        )
    )


async def record_reply(
    conn: Conn, *, provider_message_id: str, order_id: str, choice: str, in_reply_to: str | None
) -> bool:
    """Remember a reply; False if this reply was already turned into an event."""
    return bool(
        await conn.fetchval(
            """INSERT INTO replies (provider_message_id, order_id, choice, in_reply_to)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
            provider_message_id,
            order_id,
            choice,
            in_reply_to,
        )
    )


async def opt_out(conn: Conn, *, phone: str, source: str) -> None:
    """The customer said STOP."""
    await conn.execute(
        "INSERT INTO opt_outs (phone, source) VALUES ($1, $2) ON CONFLICT DO NOTHING", phone, source
    )


async def opt_in(conn: Conn, *, phone: str) -> None:
    """The customer said START again."""
    await conn.execute("DELETE FROM opt_outs WHERE phone = $1", phone)


async def is_opted_out(conn: Conn, phone: str) -> bool:
    """Whether the customer said STOP."""
    return bool(await conn.fetchval("SELECT true FROM opt_outs WHERE phone = $1", phone))


async def save_contact(conn: Conn, facts: Facts) -> None:
    """Who to message about an order (the latest status change wins)."""
    await conn.execute(
        """INSERT INTO contacts (order_id, channel_order_id, name, phone, language, rehearsal)
           VALUES ($1, $2, $3, $4, $5, $6)"""
        + _SAVE_CONTACT_CONFLICT,
        *_contact_fields(facts),
    )


async def contact(conn: Conn, order_id: str) -> Facts | None:
    """The customer of an order, if notifications has heard of it."""
    row = await conn.fetchrow("SELECT * FROM contacts WHERE order_id = $1", order_id)
    if row is None:
        return None
    return Facts(
        order_id=order_id,
        customer_name=row["name"],
        phone=row["phone"],
        language=row["language"],
        channel_order_id=row["channel_order_id"],
        rehearsal=row["rehearsal"],
    )


async def dlq_watermarks(conn: Conn) -> dict[str, int]:
    """The dead-letter topics' end offsets last seen."""
    return {r["topic"]: r["end_offset"] for r in await conn.fetch("SELECT * FROM dlq_watermarks")}


async def save_dlq_watermark(conn: Conn, *, topic: str, end_offset: int) -> None:
    """Remember how far a dead-letter topic had grown."""
    await conn.execute(
        """INSERT INTO dlq_watermarks (topic, end_offset) VALUES ($1, $2)
           ON CONFLICT (topic) DO UPDATE SET end_offset = $2""",
        topic,
        end_offset,
    )


async def list_for_order(
    pool: asyncpg.Pool, order_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """A page of an order's messages, oldest first after the message `after` (created_at, id), each
    with its history."""
    rows = await pool.fetch(
        """SELECT m.message_id, m.order_id, m.subject, m.template, m.language, m.channel, m.recipient,
                  m.parameters, m.body, m.buttons, m.cause_event_id, m.status, m.delivery, m.attempts,
                  m.urgent, m.transactional, m.fallback_of, m.provider_message_id, m.error,
                  m.next_attempt_at, m.created_at, m.updated_at,
                  coalesce(jsonb_agg(jsonb_build_object('status', e.status, 'detail', e.detail, 'at', e.at)
                                     ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL), '[]') AS history
             FROM messages m LEFT JOIN message_events e USING (message_id)
            WHERE m.order_id = $1
              AND ($2::timestamptz IS NULL OR (m.created_at, m.message_id) > ($2, $3::text))
            GROUP BY m.message_id
            ORDER BY m.created_at, m.message_id
            LIMIT $4""",
        order_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [dict(r) for r in rows]


async def park_status(
    conn: Conn, *, provider_message_id: str, status: str, error: str | None, error_code: int | None
) -> None:
    """Keep a status for a provider id we have not recorded (yet)."""
    await conn.execute(
        """INSERT INTO early_statuses (provider_message_id, status, error, error_code)
           VALUES ($1, $2, $3, $4)""",
        provider_message_id,
        status,
        error,
        error_code,
    )


async def take_matched_early_statuses(conn: Conn) -> list[StatusUpdate]:
    """Take the parked statuses whose message is recorded by now, oldest first: one parked while
    the dispatcher's round recorded that send, each transaction blind to the other's uncommitted
    row. Deleting claims each one, so two replicas apply it once."""
    rows = await conn.fetch(
        """DELETE FROM early_statuses e USING messages m
            WHERE m.provider_message_id = e.provider_message_id
        RETURNING e.id, e.provider_message_id, e.status, e.error, e.error_code"""
    )
    return [
        StatusUpdate(r["provider_message_id"], Delivery(r["status"]), r["error"], r["error_code"])
        for r in sorted(rows, key=lambda r: r["id"])
    ]


async def forget_early_statuses(conn: Conn, *, older_than_s: float) -> None:
    """Statuses about messages that never became ours (another system on the same number)."""
    await conn.execute(
        "DELETE FROM early_statuses WHERE received_at < now() - make_interval(secs => $1)", older_than_s
    )
