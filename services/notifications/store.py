"""SQL for outbound messages; plain asyncpg, one function per question or change."""

from __future__ import annotations

import json

import asyncpg

from services.notifications.domain import PlannedMessage


async def insert_queued(conn: asyncpg.Connection, *, message: PlannedMessage, cause_event_id: str) -> bool:
    """Queue a message; False if it was already sent (or queued) for this order and recipient."""
    status = await conn.execute(
        """INSERT INTO messages (message_id, order_id, template, language, channel, recipient,
                                 parameters, cause_event_id, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, 'queued')
           ON CONFLICT (order_id, template, recipient, channel) DO NOTHING""",
        message.message_id,
        message.order_id,
        message.template,
        message.language,
        message.channel.value,
        message.recipient,
        json.dumps(list(message.parameters)),
        cause_event_id,
    )
    return bool(status == "INSERT 0 1")


async def mark_sent(conn: asyncpg.Connection, *, message_id: str, provider_message_id: str) -> None:
    """The provider accepted the message."""
    await conn.execute(
        """UPDATE messages SET status = 'sent', provider_message_id = $2, updated_at = now()
            WHERE message_id = $1""",
        message_id,
        provider_message_id,
    )


async def mark_failed(conn: asyncpg.Connection, *, message_id: str, error: str) -> None:
    """The provider refused the message for good."""
    await conn.execute(
        "UPDATE messages SET status = 'failed', error = $2, updated_at = now() WHERE message_id = $1",
        message_id,
        error,
    )


async def list_for_order(pool: asyncpg.Pool, order_id: str) -> list[asyncpg.Record]:
    """An order's messages, oldest first."""
    return await pool.fetch(
        """SELECT message_id, order_id, template, language, channel, recipient, parameters,
                  cause_event_id, status, provider_message_id, error, created_at, updated_at
             FROM messages WHERE order_id = $1 ORDER BY created_at, message_id""",
        order_id,
    )
