"""WhatsApp Cloud API (Meta Graph) adapter: POST /{version}/{phone_number_id}/messages.

Sends approved templates with body parameters, and an operator's free-form text inside the customer's
24-hour window (a session message, ``type: text``), with a Bearer token. Meta has no idempotency key; each
message carries our message id as `biz_opaque_callback_data`, which Meta echoes in every status
webhook of that message, so a send whose answer a crash lost can be recognised (ADR 0040).
"""

from __future__ import annotations

from typing import Any

import httpx

from services.notifications.providers.interface import (
    MessageRejected,
    ProviderReceipt,
    ProviderUnavailable,
    SessionMessage,
    TemplateMessage,
)

GRAPH_VERSION = "v21.0"
# Worth retrying although 4xx: a timeout, a rate limit, and a token that an operator will fix.
_RETRYABLE_4XX = frozenset({401, 403, 408, 429})


def is_retryable(status_code: int) -> bool:
    """Whether an HTTP error status from Meta may succeed on a later try."""
    return status_code >= 500 or status_code in _RETRYABLE_4XX


def template_body(message: TemplateMessage) -> dict[str, Any]:
    """Meta's message object for one template with text body parameters, naming our message id."""
    components: list[dict[str, Any]] = (
        [{"type": "body", "parameters": [{"type": "text", "text": p} for p in message.parameters]}]
        if message.parameters
        else []
    )
    for index, payload in enumerate(message.buttons):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    if message.url_suffix:
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": str(len(message.buttons)),
                "parameters": [{"type": "text", "text": message.url_suffix}],
            }
        )
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
        "type": "template",
        "template": {
            "name": message.template,
            "language": {"code": message.language},
            "components": components,
        },
        "biz_opaque_callback_data": message.idempotency_key,
    }


def text_body(message: SessionMessage) -> dict[str, Any]:
    """Meta's message object for a free-form text (no link preview), naming our message id."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
        "type": "text",
        "text": {"preview_url": False, "body": message.text},
        "biz_opaque_callback_data": message.idempotency_key,
    }


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.text[:300]
    details = (error.get("error_data") or {}).get("details")
    text = f"{error.get('message', '')} (code {error.get('code')})"
    return f"{text}: {details}" if details else text


class WhatsAppProvider:
    """MessageProvider over an httpx client whose base_url is graph.facebook.com (or the sandbox)."""

    channel = "whatsapp"
    echoes_message_id = True

    def __init__(self, client: httpx.AsyncClient, *, phone_number_id: str, token: str) -> None:
        self._client = client
        self._path = f"/{GRAPH_VERSION}/{phone_number_id}/messages"
        self._token = token

    async def send_template(self, message: TemplateMessage) -> ProviderReceipt:
        """Send one template; see MessageProvider.send_template."""
        return await self._send(template_body(message))

    async def send_text(self, message: SessionMessage) -> ProviderReceipt:
        """Send one free-form text; see SessionSender.send_text."""
        return await self._send(text_body(message))

    async def _send(self, body: dict[str, Any]) -> ProviderReceipt:
        try:
            response = await self._client.post(
                self._path, json=body, headers={"Authorization": f"Bearer {self._token}"}
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"whatsapp unreachable: {exc!r}") from exc
        if response.status_code >= 400:
            error = f"whatsapp HTTP {response.status_code}: {_error_text(response)}"
            if is_retryable(response.status_code):
                raise ProviderUnavailable(error, status_code=response.status_code)
            raise MessageRejected(error, status_code=response.status_code)
        try:
            return ProviderReceipt(provider_message_id=str(response.json()["messages"][0]["id"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderUnavailable(
                f"whatsapp answered without a message id: {response.text[:300]}"
            ) from exc
