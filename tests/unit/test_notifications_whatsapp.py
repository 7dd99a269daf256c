"""The WhatsApp adapter sends approved templates to the sandbox's copy of Meta's Cloud API."""

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_app
from services.notifications.providers.interface import (
    MessageRejected,
    ProviderUnavailable,
    TemplateMessage,
)
from services.notifications.providers.whatsapp import WhatsAppProvider, is_retryable


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
        yield c


def provider(client: httpx.AsyncClient) -> WhatsAppProvider:
    return WhatsAppProvider(client, phone_number_id="1234567890", token="sandbox-token")


def shipped(key: str = "MSG-0001", **overrides) -> TemplateMessage:
    fields = {
        "idempotency_key": key,
        "recipient": "+919812345678",
        "template": "order_shipped",
        "language": "hi",
        "parameters": ("Asha Verma", "SHP-1001"),
    }
    return TemplateMessage(**(fields | overrides))


async def sent_messages(client: httpx.AsyncClient) -> list[dict]:
    return (await client.get("/_sandbox/whatsapp/messages")).json()


async def test_customer_gets_the_shipped_template_in_hindi(client):
    receipt = await provider(client).send_template(shipped())

    assert receipt.provider_message_id.startswith("wamid.")
    (message,) = await sent_messages(client)
    assert message["template"] == "order_shipped"
    assert message["language"] == "hi"
    assert message["wa_id"] == "919812345678"
    assert message["biz_opaque_callback_data"] == "MSG-0001"
    assert message["body"]["biz_opaque_callback_data"] == "MSG-0001"
    body = message["body"]["template"]["components"][0]["parameters"]
    assert [p["text"] for p in body] == ["Asha Verma", "SHP-1001"]


async def test_meta_has_no_idempotency_key_so_a_repeated_send_is_a_second_message(client):
    first = await provider(client).send_template(shipped("MSG-CRASH"))
    again = await provider(client).send_template(shipped("MSG-CRASH"))

    assert again.provider_message_id != first.provider_message_id
    sent = await sent_messages(client)
    assert [m["biz_opaque_callback_data"] for m in sent] == ["MSG-CRASH", "MSG-CRASH"]


async def test_a_bad_number_is_refused_for_good(client):
    with pytest.raises(MessageRejected) as refused:
        await provider(client).send_template(shipped(recipient="not-a-number"))

    assert refused.value.status_code == 400
    assert "to" in str(refused.value)
    assert await sent_messages(client) == []


async def test_a_meta_outage_is_retried_not_marked_failed(client):
    await client.post("/_sandbox/faults", json={"provider": "whatsapp", "fail_next": 1, "status_code": 503})

    with pytest.raises(ProviderUnavailable) as outage:
        await provider(client).send_template(shipped("MSG-OUTAGE"))

    assert outage.value.status_code == 503
    await provider(client).send_template(shipped("MSG-OUTAGE"))
    assert len(await sent_messages(client)) == 1


async def test_a_rate_limit_is_retried(client):
    await client.post("/_sandbox/faults", json={"provider": "whatsapp", "fail_next": 1, "status_code": 429})

    with pytest.raises(ProviderUnavailable):
        await provider(client).send_template(shipped())


async def test_an_unreachable_meta_is_retried():
    def refuse(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://graph") as client:
        with pytest.raises(ProviderUnavailable, match="unreachable"):
            await provider(client).send_template(shipped())


def test_client_errors_are_final_and_server_errors_are_retried():
    assert not is_retryable(400)
    assert not is_retryable(404)
    assert is_retryable(429)
    assert is_retryable(401)
    assert is_retryable(500)
    assert is_retryable(503)
