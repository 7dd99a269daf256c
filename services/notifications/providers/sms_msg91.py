"""MSG91 SMS adapter (Flow API): POST /api/v5/flow with the `authkey` header.

Every message names its DLT template id and the DLT-registered sender header, so operators'
scrubbing accepts it; template variables go as VAR1, VAR2 … in the order of the DLT body.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.notifications.providers.interface import (
    MessageRejected,
    ProviderReceipt,
    ProviderUnavailable,
    TemplateMessage,
)
from services.notifications.providers.whatsapp import is_retryable


def flow_body(message: TemplateMessage, *, sender: str) -> dict[str, Any]:
    """MSG91's flow request for one recipient (mobiles without the plus sign)."""
    recipient: dict[str, str] = {"mobiles": message.recipient.lstrip("+")}
    recipient |= {f"VAR{n}": value for n, value in enumerate(message.parameters, start=1)}
    return {
        "template_id": message.template,
        "sender": sender,
        "short_url": "0",
        "DLT_TE_ID": message.dlt_template_id,
        "recipients": [recipient],
    }


class Msg91Provider:
    """MessageProvider over an httpx client whose base_url is control.msg91.com (or the sandbox)."""

    channel = "sms"
    echoes_message_id = False

    def __init__(self, client: httpx.AsyncClient, *, authkey: str, sender: str) -> None:
        self._client = client
        self._authkey = authkey
        self._sender = sender

    async def send_template(self, message: TemplateMessage) -> ProviderReceipt:
        """Send one DLT template SMS; see MessageProvider.send_template.

        MSG91 has no idempotency key and nothing that names our message in its reports: the
        service's message table keeps a redelivered event from becoming a second SMS, but a crash
        between MSG91's answer and our record of it sends the SMS again (ADR 0040)."""
        if not message.dlt_template_id:
            raise MessageRejected(f"sms {message.template}: no DLT template id, operators would drop it")
        try:
            response = await self._client.post(
                "/api/v5/flow",
                json=flow_body(message, sender=self._sender),
                headers={"authkey": self._authkey},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"msg91 unreachable: {exc!r}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {"type": "error", "message": response.text[:300]}
        if response.status_code >= 400 or answer.get("type") != "success":
            error = f"msg91 HTTP {response.status_code}: {answer.get('message', '')}"
            if response.status_code >= 400 and is_retryable(response.status_code):
                raise ProviderUnavailable(error, status_code=response.status_code)
            raise MessageRejected(error, status_code=response.status_code)
        return ProviderReceipt(provider_message_id=str(answer.get("message") or ""))
