"""MSG91-shaped SMS: POST /api/v5/flow (authkey header; template_id, sender, DLT_TE_ID, recipients
with VAR1…), answering {"message": <request id>, "type": "success"} or {"type": "error"}.

Like operators' DLT scrubbing, a request without a 19-digit DLT template id or a 6-letter sender
header is refused. MSG91 has no idempotency key, and neither has the sandbox: a repeated request
sends a second SMS, so tests see what a customer would.
"""

import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.control import State, fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider, utc_now


def msg91_error(status_code: int, message: str) -> ProviderError:
    return ProviderError(status_code, {"message": message, "type": "error"})


def render_fault(status_code: int) -> ProviderError:
    return msg91_error(status_code, "Sandbox injected fault")


async def require_authkey(authkey: Annotated[str | None, Header()] = None) -> None:
    if not authkey:
        raise msg91_error(401, "Authentication failure: authkey header missing")


router = APIRouter()


class Recipient(BaseModel):
    model_config = ConfigDict(extra="allow")

    mobiles: str = Field(pattern=r"^\d{10,15}$")


class FlowRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    template_id: str = Field(min_length=1)
    sender: str = Field(pattern=r"^[A-Z]{6}$", description="DLT-registered header")
    DLT_TE_ID: str = Field(pattern=r"^\d{19}$")
    short_url: str = "0"
    recipients: list[Recipient] = Field(min_length=1)


@router.post(
    "/api/v5/flow", dependencies=[Depends(fault_gate(Provider.SMS, render_fault)), Depends(require_authkey)]
)
async def send_flow(request: Request, state: State) -> dict[str, Any]:
    try:
        flow = FlowRequest.model_validate(await request.json())
    except (ValueError, ValidationError) as exc:
        where = exc.errors()[0]["loc"] if isinstance(exc, ValidationError) else ("body",)
        raise msg91_error(400, f"Invalid {'.'.join(str(p) for p in where)}") from exc
    sms = state.sms
    request_id = secrets.token_hex(12)
    async with sms.lock:
        for recipient in flow.recipients:
            variables = {k: v for k, v in (recipient.model_extra or {}).items() if re.fullmatch(r"VAR\d+", k)}
            sms.messages.append(
                {
                    "request_id": request_id,
                    "to": recipient.mobiles,
                    "template_id": flow.template_id,
                    "dlt_template_id": flow.DLT_TE_ID,
                    "sender": flow.sender,
                    "variables": variables,
                    "received_at": utc_now().isoformat(),
                }
            )
    return {"message": request_id, "type": "success"}


@router.get("/_sandbox/sms/messages")
async def list_sms(state: State, to: str | None = None) -> list[dict[str, Any]]:
    digits = "".join(ch for ch in to if ch.isdigit()) if to else None
    async with state.sms.lock:
        return [m for m in state.sms.messages if digits is None or m["to"] == digits]
