"""MSG91-shaped SMS: POST /api/v5/flow (authkey header; template_id, sender, DLT_TE_ID, recipients
with VAR1…), answering {"message": <request id>, "type": "success"} or {"type": "error"}.

Each accepted SMS is followed by MSG91's delivery report (webhook v2: form-urlencoded
``data=<JSON array of {requestId, senderId, userId, campaignName, report: [{date, number, status,
desc, failedReason}]}>``) to $NOTIFICATIONS_URL/webhooks/msg91?token=$MSG91_WEBHOOK_TOKEN, tried
again with backoff while it fails; "delivered" (status 1) unless the number was told otherwise
(PUT /_sandbox/sms/numbers/{phone}). POST /_sandbox/sms/reports sends one now (a replay, a late one).

Like operators' DLT scrubbing, a request without a 19-digit DLT template id or a 6-letter sender
header is refused. MSG91 has no idempotency key, and neither has the sandbox: a repeated request
sends a second SMS, so tests see what a customer would.
"""

import asyncio
import json
import os
import re
import secrets
import time
from typing import Annotated, Any

import httpx
import httpx_aiohttp
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.control import State, fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider, SandboxState, utc_now

DEFAULT_WEBHOOK_TOKEN = "dev-msg91-webhook-token-local"
REPORT_DELAY_S = 0.3
REPORT_RETRY_FOR_S = 120.0
"""How long a refused report is tried again (MSG91 does not document its retries)."""
REPORT_BACKOFF_S = (1.0, 5.0)
DESCRIPTIONS = {
    "1": "DELIVERED",
    "2": "FAILED",
    "9": "NDNC",
    "16": "REJECTED",
    "17": "BLOCKED",
    "25": "REJECTED",
}
_tasks: set[asyncio.Task[None]] = set()


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
    for recipient in flow.recipients:
        after_accept(state, request_id, recipient.mobiles, sender=flow.sender)
    return {"message": request_id, "type": "success"}


def report_url() -> str | None:
    base = os.environ.get("NOTIFICATIONS_URL")
    if not base:
        return None
    token = os.environ.get("MSG91_WEBHOOK_TOKEN") or DEFAULT_WEBHOOK_TOKEN
    return f"{base.rstrip('/')}/webhooks/msg91?token={token}"


def report_body(request_id: str, number: str, code: str, *, sender: str = "DABBAS") -> dict[str, str]:
    """MSG91's v2 webhook form: one field, data, a JSON array of requests with their reports."""
    report = {
        "date": utc_now().strftime("%Y-%m-%d %H:%M:%S"),
        "number": number,
        "status": code,
        "desc": DESCRIPTIONS.get(code, "UNKNOWN"),
        "failedReason": "" if code == "1" else DESCRIPTIONS.get(code, "UNKNOWN").capitalize(),
    }
    request = {"senderId": sender, "requestId": request_id, "report": [report], "userId": "100001"}
    return {"data": json.dumps([request | {"campaignName": "API"}])}


async def post_report(
    state: SandboxState, form: dict[str, str], *, retry_for_s: float = REPORT_RETRY_FOR_S
) -> int | None:
    """POST one delivery report, tried again with backoff while refused or unreachable."""
    url = report_url()
    if url is None:
        return None
    if state.sms.webhook_client is None:
        state.sms.webhook_client = httpx_aiohttp.HttpxAiohttpClient(timeout=10)
    client: httpx.AsyncClient = state.sms.webhook_client
    status: int | None = None
    give_up_at, backoff = time.monotonic() + retry_for_s, REPORT_BACKOFF_S[0]
    while True:
        try:
            status = (await client.post(url, data=form)).status_code
        except (httpx.HTTPError, TimeoutError):
            status = None
        if (status is not None and 200 <= status < 300) or time.monotonic() + backoff > give_up_at:
            break
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, REPORT_BACKOFF_S[1])
    async with state.sms.lock:
        state.sms.reports.append({"at": utc_now().isoformat(), "status_code": status, "form": form})
    return status


async def _report_later(state: SandboxState, request_id: str, number: str, code: str, sender: str) -> None:
    await asyncio.sleep(REPORT_DELAY_S)
    await post_report(state, report_body(request_id, number, code, sender=sender))


def after_accept(state: SandboxState, request_id: str, number: str, *, sender: str) -> None:
    """Schedule the delivery report of an accepted SMS (none without a webhook URL, or for a number
    told to get none)."""
    code = state.sms.report_codes.get(number, "1")
    if report_url() is None or code is None:
        return
    task = asyncio.create_task(_report_later(state, request_id, number, code, sender))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class NumberReports(BaseModel):
    """The report status code this number's SMS get: "1" delivered, "2" failed, "17" blocked …;
    null: no report ever comes."""

    report: str | None = Field(default="1", pattern=r"^\d{1,3}$")


class ReportRequest(BaseModel):
    """Send one report now, for an SMS the sandbox accepted (a replay, or a late one)."""

    request_id: str
    status: str = Field(pattern=r"^\d{1,3}$")


@router.put("/_sandbox/sms/numbers/{phone}")
async def set_number(phone: str, body: NumberReports, state: State) -> dict[str, Any]:
    digits = "".join(ch for ch in phone if ch.isdigit())
    async with state.sms.lock:
        state.sms.report_codes[digits] = body.report
    return {"number": digits, "report": body.report}


@router.post("/_sandbox/sms/reports")
async def report_now(body: ReportRequest, state: State) -> dict[str, Any]:
    async with state.sms.lock:
        sent = next((m for m in state.sms.messages if m["request_id"] == body.request_id), None)
    if sent is None:
        raise HTTPException(status_code=404, detail="no such request id")
    form = report_body(body.request_id, sent["to"], body.status, sender=sent["sender"])
    return {"webhook_status": await post_report(state, form, retry_for_s=15.0)}


@router.get("/_sandbox/sms/reports")
async def list_reports(state: State) -> list[dict[str, Any]]:
    async with state.sms.lock:
        return list(state.sms.reports)


@router.get("/_sandbox/sms/messages")
async def list_sms(state: State, to: str | None = None) -> list[dict[str, Any]]:
    digits = "".join(ch for ch in to if ch.isdigit()) if to else None
    async with state.sms.lock:
        return [m for m in state.sms.messages if digits is None or m["to"] == digits]
