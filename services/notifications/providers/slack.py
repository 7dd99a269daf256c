"""Operator alerts through a Slack-compatible incoming webhook: POST {"text": …} to its URL.

Slack answers 200 "ok"; 4xx means the webhook is gone or the payload is wrong (final), 429/5xx retry.
"""

from __future__ import annotations

import httpx

from services.notifications.providers.interface import (
    MessageRejected,
    ProviderReceipt,
    ProviderUnavailable,
    TemplateMessage,
)
from services.notifications.providers.whatsapp import is_retryable


class SlackWebhook:
    """MessageProvider posting alert text to one incoming-webhook URL."""

    channel = "slack"
    echoes_message_id = False

    def __init__(self, client: httpx.AsyncClient, *, webhook_url: str) -> None:
        self._client = client
        self._url = webhook_url

    async def send_template(self, message: TemplateMessage) -> ProviderReceipt:
        """Post the alert's text; the receipt is our own key (Slack's webhook returns no id)."""
        try:
            response = await self._client.post(
                self._url,
                json={"text": message.text, "unfurl_links": False},
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"slack webhook unreachable: {exc!r}") from exc
        if response.status_code >= 400:
            error = f"slack HTTP {response.status_code}: {response.text[:200]}"
            if is_retryable(response.status_code):
                raise ProviderUnavailable(error, status_code=response.status_code)
            raise MessageRejected(error, status_code=response.status_code)
        return ProviderReceipt(provider_message_id=f"slack:{message.idempotency_key}")
