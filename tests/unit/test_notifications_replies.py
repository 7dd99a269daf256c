"""Meta's webhook read right: statuses, template button replies, interactive replies, STOP; and only
when X-Hub-Signature-256 is the app secret's HMAC of the exact body."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from contracts import ReplyChoice
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.replies import (
    ButtonReply,
    StatusUpdate,
    TextReply,
    notices,
    parse_payload,
    reattempt_on,
    signature_for,
    signature_ok,
)

SECRET = "app-secret"


def webhook(value: dict) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", **value}}],
            }
        ],
    }


def test_a_body_signed_with_the_app_secret_is_accepted():
    body = json.dumps(webhook({})).encode()

    assert signature_ok(body, signature_for(body, SECRET), SECRET)


def test_a_forged_or_missing_signature_is_refused():
    body = json.dumps(webhook({})).encode()

    assert not signature_ok(body, signature_for(body, "someone-elses-secret"), SECRET)
    assert not signature_ok(body, None, SECRET)
    assert not signature_ok(body, "", SECRET)


def test_a_body_changed_after_signing_is_refused():
    body = json.dumps(webhook({})).encode()
    signature = signature_for(body, SECRET)

    assert not signature_ok(body.replace(b"whatsapp", b"WhatsApp"), signature, SECRET)


def test_a_template_quick_reply_is_the_customer_confirming_cod():
    body = webhook(
        {
            "messages": [
                {
                    "context": {"from": "911140000000", "id": "wamid.OURS"},
                    "from": "919812345678",
                    "id": "wamid.REPLY",
                    "timestamp": "1771855045",
                    "type": "button",
                    "button": {"payload": "cod_confirm:ORD-1", "text": "Confirm"},
                }
            ]
        }
    )

    assert notices(body) == [
        ButtonReply(
            "wamid.REPLY",
            "+919812345678",
            ReplyChoice.COD_CONFIRM,
            "ORD-1",
            "wamid.OURS",
            sent_at=datetime.fromtimestamp(1771855045, UTC),
        )
    ]


def test_an_interactive_button_reply_reads_the_same():
    body = webhook(
        {
            "messages": [
                {
                    "from": "919812345678",
                    "id": "wamid.R2",
                    "type": "interactive",
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": "ndr_reattempt:SHP-9", "title": "Retry"},
                    },
                }
            ]
        }
    )

    assert notices(body) == [
        ButtonReply("wamid.R2", "+919812345678", ReplyChoice.NDR_REATTEMPT, "SHP-9", None)
    ]


def test_statuses_are_read_with_their_error():
    body = webhook(
        {
            "statuses": [
                {"id": "wamid.A", "status": "delivered", "timestamp": "1", "recipient_id": "919812345678"},
                {
                    "id": "wamid.B",
                    "status": "failed",
                    "errors": [{"code": 131026, "title": "Message undeliverable"}],
                },
                {"id": "wamid.C", "status": "deleted"},
            ]
        }
    )

    assert notices(body) == [
        StatusUpdate("wamid.A", Delivery.DELIVERED, recipient="+919812345678"),
        StatusUpdate("wamid.B", Delivery.FAILED, "Message undeliverable", 131026),
    ]


def test_a_status_names_our_message_id_as_meta_echoes_it():
    body = webhook(
        {
            "statuses": [
                {
                    "id": "wamid.A",
                    "status": "sent",
                    "recipient_id": "919812345678",
                    "biz_opaque_callback_data": "msg-0001",
                },
                {
                    "id": "wamid.B",
                    "status": "sent",
                    "recipient_id": "919812345678",
                    "biz_opaque_callback_data": "",
                },
            ]
        }
    )

    first, second = notices(body)
    assert isinstance(first, StatusUpdate) and isinstance(second, StatusUpdate)
    assert (first.message_id, first.recipient) == ("msg-0001", "+919812345678")
    assert second.message_id is None


def test_stop_in_any_case_opts_out_and_start_opts_back_in():
    def text(body: str) -> TextReply:
        found = notices(
            webhook({"messages": [{"from": "91981", "id": "w", "type": "text", "text": {"body": body}}]})
        )
        assert isinstance(found[0], TextReply)
        return found[0]

    assert text(" Stop ").opts_out
    assert text("बंद").opts_out
    assert text("START").opts_in
    assert not text("where is my order?").opts_out


def test_a_payload_that_is_not_ours_is_ignored():
    assert parse_payload("cod_confirm:ORD-1") == (ReplyChoice.COD_CONFIRM, "ORD-1")
    assert parse_payload("cod_confirm") is None
    assert parse_payload("cod_confirm:") is None
    assert parse_payload("buy_now:ORD-1") is None
    assert (
        notices(
            webhook({"messages": [{"from": "1", "id": "w", "type": "button", "button": {"payload": "x"}}]})
        )
        == []
    )


def test_a_re_attempt_reply_asks_for_tomorrow_in_india():
    late_evening_ist = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)  # 00:30 on the 27th in India

    assert reattempt_on(ReplyChoice.NDR_REATTEMPT, late_evening_ist) == date(2026, 11, 28)
    assert reattempt_on(ReplyChoice.NDR_REATTEMPT, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)) == date(
        2026, 11, 27
    )
    assert reattempt_on(ReplyChoice.COD_CONFIRM, late_evening_ist) is None
