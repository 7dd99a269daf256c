"""The MSG91 and Slack adapters against the sandbox's copies: DLT template id and sender header on
every SMS, 5xx retried, 4xx final, and no idempotency key (MSG91 has none)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_app
from services.notifications.providers.interface import MessageRejected, ProviderUnavailable, TemplateMessage
from services.notifications.providers.slack import SlackWebhook
from services.notifications.providers.sms_msg91 import Msg91Provider

HOOK = "/slack/services/T0DABBA/B0OPS/sandbox-alerts"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
        yield c


def sms(key: str = "MSG-1", **overrides) -> TemplateMessage:
    fields = {
        "idempotency_key": key,
        "recipient": "+919812345678",
        "template": "6650a1b2c3d4e5f600000105",
        "language": "en",
        "parameters": ("Asha Verma", "SHP-1001", "ORD-1"),
        "dlt_template_id": "1107170000000000105",
    }
    return TemplateMessage(**(fields | overrides))


async def arm(client: httpx.AsyncClient, provider: str, status_code: int) -> None:
    r = await client.post("/_sandbox/faults", json={"provider": provider, "status_code": status_code})
    r.raise_for_status()


async def test_an_sms_names_its_dlt_template_and_sender_header(client):
    receipt = await Msg91Provider(client, authkey="k", sender="DABBAS").send_template(sms())

    [sent] = (await client.get("/_sandbox/sms/messages")).json()
    assert receipt.provider_message_id == sent["request_id"]
    assert sent["to"] == "919812345678"
    assert sent["dlt_template_id"] == "1107170000000000105"
    assert sent["sender"] == "DABBAS"
    assert sent["variables"] == {"VAR1": "Asha Verma", "VAR2": "SHP-1001", "VAR3": "ORD-1"}


async def test_an_sms_without_a_dlt_template_id_is_never_sent(client):
    with pytest.raises(MessageRejected, match="no DLT template id"):
        await Msg91Provider(client, authkey="k", sender="DABBAS").send_template(sms(dlt_template_id=None))

    assert (await client.get("/_sandbox/sms/messages")).json() == []


async def test_msg91_has_no_idempotency_key_so_a_repeated_sms_is_a_second_sms(client):
    provider = Msg91Provider(client, authkey="k", sender="DABBAS")

    first = await provider.send_template(sms("MSG-SAME"))
    again = await provider.send_template(sms("MSG-SAME"))

    assert first != again
    assert len((await client.get("/_sandbox/sms/messages")).json()) == 2


async def test_msg91_5xx_is_retried_and_4xx_is_final(client):
    provider = Msg91Provider(client, authkey="k", sender="DABBAS")

    await arm(client, "sms", 503)
    with pytest.raises(ProviderUnavailable):
        await provider.send_template(sms())
    await arm(client, "sms", 400)
    with pytest.raises(MessageRejected):
        await provider.send_template(sms())


async def test_a_wrong_sender_header_is_refused_by_the_operator(client):
    with pytest.raises(MessageRejected, match="msg91 HTTP 400"):
        await Msg91Provider(client, authkey="k", sender="Dabba").send_template(sms())


async def test_an_alert_posts_its_text_to_the_incoming_webhook(client):
    alert = sms(text="Low stock: TEA at BOM1 has 2 left", dlt_template_id=None)

    receipt = await SlackWebhook(client, webhook_url=HOOK).send_template(alert)

    [posted] = (await client.get("/_sandbox/slack/messages")).json()
    assert posted["text"] == "Low stock: TEA at BOM1 has 2 left"
    assert receipt.provider_message_id == "slack:MSG-1"


async def test_a_slack_outage_is_retried_and_a_removed_webhook_is_final(client):
    slack = SlackWebhook(client, webhook_url=HOOK)

    await arm(client, "slack", 502)
    with pytest.raises(ProviderUnavailable):
        await slack.send_template(sms(text="x"))
    with pytest.raises(MessageRejected):
        await SlackWebhook(client, webhook_url="/slack/nowhere").send_template(sms(text="x"))
