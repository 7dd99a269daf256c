"""A Slack-compatible incoming webhook sink: POST /slack/services/{T}/{B}/{token} with {"text": …}
answers "ok" like Slack; every alert is kept (duplicates too) for tests to read."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from sandbox.control import State, fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider, utc_now


def render_fault(status_code: int) -> ProviderError:
    return ProviderError(status_code, {"ok": False, "error": "sandbox_injected_fault"})


router = APIRouter()


@router.post(
    "/slack/services/{team}/{bot}/{token}",
    response_class=PlainTextResponse,
    dependencies=[Depends(fault_gate(Provider.SLACK, render_fault))],
)
async def incoming_webhook(team: str, bot: str, token: str, request: Request, state: State) -> str:
    try:
        body = await request.json()
    except ValueError:
        raise ProviderError(400, {"ok": False, "error": "invalid_payload"}) from None
    if not isinstance(body, dict) or not str(body.get("text") or "").strip():
        raise ProviderError(400, {"ok": False, "error": "no_text"})
    async with state.slack.lock:
        state.slack.messages.append(
            {
                "webhook": f"{team}/{bot}/{token}",
                "text": body["text"],
                "idempotency_key": request.headers.get("idempotency-key"),
                "received_at": utc_now().isoformat(),
            }
        )
    return "ok"


@router.get("/_sandbox/slack/messages")
async def list_alerts(state: State) -> list[dict[str, Any]]:
    async with state.slack.lock:
        return list(state.slack.messages)
