"""A customer's free text becomes a ticket; an operator may answer it in free form only inside
WhatsApp's 24-hour customer-service window, counted from the customer's last message (ADR 0350).
The sandbox enforces the window as Meta does: accepted, then failed with 131047."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.notifications.domain.replies import TextReply, notices
from services.notifications.domain.tickets import TicketFacts, reply_refusal, window_closes_at, window_open
from services.notifications.providers.interface import SessionMessage
from services.notifications.providers.whatsapp import WhatsAppProvider, text_body

WROTE_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def ticket(*, open_: bool = True, last: datetime | None = WROTE_AT) -> TicketFacts:
    return TicketFacts(ticket_id="TKT-1", open=open_, last_inbound_at=last)


def test_a_reply_within_24_hours_of_the_customers_last_message_may_be_sent() -> None:
    assert window_open(WROTE_AT, WROTE_AT + timedelta(hours=23, minutes=59))
    assert reply_refusal(ticket(), "We will deliver after 6 pm.", WROTE_AT + timedelta(hours=23)) is None


def test_a_reply_at_or_after_24_hours_is_refused_naming_the_window_and_when_it_closed() -> None:
    assert not window_open(WROTE_AT, WROTE_AT + timedelta(hours=24))

    refused = reply_refusal(ticket(), "Sorry for the wait", WROTE_AT + timedelta(hours=24, seconds=1))

    assert refused is not None and refused.status == 409
    field, problem = refused.problems[0]
    assert field == "text"
    assert "24-hour customer-service window is closed" in problem
    assert window_closes_at(WROTE_AT).isoformat(timespec="minutes") in problem


def test_a_closed_ticket_or_an_empty_reply_is_refused_before_the_window_is_looked_at() -> None:
    closed = reply_refusal(ticket(open_=False), "hello", WROTE_AT)
    empty = reply_refusal(ticket(), "   ", WROTE_AT)
    assert closed is not None and closed.problems[0][0] == "ticket_id" and closed.status == 409
    assert empty is not None and empty.problems[0] == ("text", "is empty")


def test_a_customer_who_never_wrote_has_no_window() -> None:
    refused = reply_refusal(ticket(last=None), "hello", WROTE_AT)
    assert refused is not None and "the customer has not written" in refused.problems[0][1]


def test_free_text_is_for_a_person_but_stop_and_start_are_not() -> None:
    assert TextReply("w1", "+919812345678", "Can you deliver after 6 pm?").is_free_text
    assert not TextReply("w2", "+919812345678", " STOP ").is_free_text
    assert not TextReply("w3", "+919812345678", "start").is_free_text
    assert not TextReply("w4", "+919812345678", "  ").is_free_text


def test_a_customer_message_carries_metas_timestamp_as_when_it_was_sent() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "changes": [
                    {
                        "value": {
                            "messages": [
                                {
                                    "from": "919812345678",
                                    "id": "wamid.X",
                                    "timestamp": str(int(WROTE_AT.timestamp())),
                                    "type": "text",
                                    "text": {"body": "Where is my parcel?"},
                                }
                            ]
                        }
                    }
                ]
            }
        ],
    }
    (notice,) = notices(body)
    assert isinstance(notice, TextReply)
    assert notice.sent_at == WROTE_AT and notice.phone == "+919812345678"


def test_a_session_message_is_metas_text_object_naming_our_id() -> None:
    body = text_body(SessionMessage(idempotency_key="TKM-1", recipient="+919812345678", text="On its way"))
    assert body["type"] == "text" and body["text"] == {"preview_url": False, "body": "On its way"}
    assert body["biz_opaque_callback_data"] == "TKM-1"


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(SandboxSettings(http_port=8010, courier_token=None)))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def test_the_sandbox_marks_free_text_outside_the_window_as_meta_would_fail_it(
    sandbox: httpx.AsyncClient,
) -> None:
    whatsapp = WhatsAppProvider(sandbox, phone_number_id="1234567890", token="sandbox-token")

    before = await whatsapp.send_text(SessionMessage("TKM-1", "+919800000001", "Hello?"))
    wrote = await sandbox.post("/_sandbox/whatsapp/inbound", json={"from": "+919800000001", "text": "Hi"})
    after = await whatsapp.send_text(SessionMessage("TKM-2", "+919800000001", "Hello!"))

    assert wrote.status_code == 200 and "context" not in wrote.json()["message"]
    recorded = {m["wamid"]: m for m in (await sandbox.get("/_sandbox/whatsapp/messages")).json()}
    assert recorded[before.provider_message_id]["outside_window"] is True
    assert recorded[after.provider_message_id]["outside_window"] is False
