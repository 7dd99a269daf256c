"""WhatsApp Cloud API (Meta Graph) shapes: POST /{version}/{phone_number_id}/messages.
Validates template, text and interactive messages, records each accepted one, answers a wamid. A text
or interactive message outside the customer's 24-hour window is accepted and then fails (131047).

Like Meta's Cloud API, the sandbox has no idempotency key: a repeated POST is a second message to
the customer. What Meta offers instead is `biz_opaque_callback_data` (a string of up to 512
characters, echoed in every status webhook of the message), which the sandbox keeps and echoes too.
"""

import asyncio
import base64
import re
import secrets
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sandbox.control import State, fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider, WhatsAppMessage, utc_now
from sandbox.whatsapp_callbacks import after_accept, outside_window

GRAPH_VERSION = re.compile(r"^v\d+\.\d+$")
# Meta error codes per HTTP status, so adapters can branch on `code` as Meta recommends.
FAULT_CODES: dict[int, tuple[int, str]] = {
    400: (131009, "(#131009) Parameter value is not valid"),
    429: (130429, "(#130429) Rate limit hit"),
    500: (131000, "(#131000) Something went wrong"),
    502: (131000, "(#131000) Something went wrong"),
    503: (2, "(#2) Service temporarily unavailable"),
    504: (2, "(#2) Service temporarily unavailable"),
}


def meta_error(
    status_code: int,
    code: int,
    message: str,
    details: str | None = None,
    headers: dict[str, str] | None = None,
) -> ProviderError:
    """An error in Graph API's shape: {"error": {message, type, code, error_data, fbtrace_id}}."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = secrets.token_urlsafe(12)
    return ProviderError(status_code, {"error": error}, headers)


def render_fault(status_code: int) -> ProviderError:
    code, message = FAULT_CODES[status_code]
    headers = {"Retry-After": "1"} if status_code == 429 else None
    return meta_error(status_code, code, message, "Sandbox injected fault", headers)


async def require_bearer(authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise meta_error(401, 190, "Invalid OAuth access token - Cannot parse access token")


router = APIRouter(
    dependencies=[Depends(fault_gate(Provider.WHATSAPP, render_fault)), Depends(require_bearer)]
)


class Parameter(BaseModel):
    """A template component parameter; text is the one Dabba uses, others pass through."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None

    @model_validator(mode="after")
    def text_has_text(self) -> Self:
        if self.type == "text" and not self.text:
            raise ValueError("a text parameter needs a non-empty text")
        return self


class Component(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["header", "body", "button", "footer"]
    parameters: list[Parameter] = []


class Language(BaseModel):
    code: str = Field(min_length=2)
    policy: str | None = None


class Template(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    language: Language
    components: list[Component] = []


class Text(BaseModel):
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


class OutgoingMessage(BaseModel):
    """The subset of Meta's message object the sandbox checks; unknown fields pass through."""

    model_config = ConfigDict(extra="allow")

    messaging_product: Literal["whatsapp"]
    recipient_type: Literal["individual"] = "individual"
    to: str = Field(pattern=r"^\+?\d{8,15}$")
    type: Literal["template", "text", "interactive"] = "text"
    template: Template | None = None
    text: Text | None = None
    interactive: dict[str, Any] | None = None
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)

    @model_validator(mode="after")
    def has_object_for_type(self) -> Self:
        if getattr(self, self.type) is None:
            raise ValueError(f"type is {self.type} but the {self.type} object is missing")
        return self


def invalid(details: str) -> ProviderError:
    return meta_error(400, 100, "(#100) Invalid parameter", details)


def first_problem(exc: ValidationError) -> str:
    """Meta names one offending parameter; so do we, with a dotted path."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"Param {where}: {error['msg']}" if where else error["msg"]


async def parse(request: Request) -> tuple[dict[str, Any], OutgoingMessage]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise invalid("Request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    try:
        return body, OutgoingMessage.model_validate(body)
    except ValidationError as exc:
        raise invalid(first_problem(exc)) from exc


def new_wamid() -> str:
    return "wamid." + base64.b64encode(secrets.token_bytes(36)).decode()


@router.post("/{version}/{phone_number_id}/messages")
async def send_message(version: str, phone_number_id: str, request: Request, state: State) -> dict[str, Any]:
    if not GRAPH_VERSION.match(version) or not phone_number_id.isdigit():
        raise meta_error(400, 2500, f"Unknown path components: /{phone_number_id}/messages")
    body, message = await parse(request)
    wa_id = message.to.lstrip("+")
    now = utc_now()
    async with state.whatsapp.lock:
        closed = outside_window(state, wa_id, message.type, now)
    accepted = WhatsAppMessage(
        wamid=new_wamid(),
        phone_number_id=phone_number_id,
        to=message.to,
        wa_id=wa_id,
        type=message.type,
        template_name=message.template.name if message.template else None,
        language=message.template.language.code if message.template else None,
        body=body,
        biz_opaque_callback_data=message.biz_opaque_callback_data,
        received_at=now,
        outside_window=closed,
    )
    async with state.whatsapp.lock:
        state.whatsapp.messages.append(accepted)
    after_accept(state, accepted)
    if delay := state.whatsapp.answer_delay_s.get(wa_id):
        await asyncio.sleep(delay)
    sent: dict[str, Any] = {"id": accepted.wamid}
    if message.type == "template":
        sent["message_status"] = "accepted"
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": message.to, "wa_id": wa_id}],
        "messages": [sent],
    }
