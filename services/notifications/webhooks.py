"""Providers' callbacks to the notifications service: Meta's WhatsApp webhook (its verification
handshake, then signed status and reply notifications) and MSG91's SMS delivery reports (ADR 0310).
Each is verified before its body is read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from chassis import text
from chassis.auth import by_signature
from chassis.http import LightRequest, errors, light
from chassis.refusal import Refusal
from chassis.signatures import same_secret
from services.notifications import inbound
from services.notifications.domain.replies import notices, signature_ok
from services.notifications.domain.reports import delivery_reports

router = APIRouter(tags=["webhooks"])


class Applied(BaseModel):
    """How many of each kind of notice changed something."""

    applied: dict[str, int] = Field(examples=[{"statuses": 1, "replies": 0, "opt_outs": 0}])


async def _verify_token_matches(request: Request) -> None:
    """Meta's subscription handshake: hub.verify_token must be ours (constant-time compare)."""
    query = request.query_params
    ours = request.app.state.service.settings.whatsapp_verify_token
    if query.get("hub.mode") != "subscribe" or not same_secret(ours, query.get("hub.verify_token")):
        raise Refusal("hub.verify_token", "does not match this service's verify token", status=403)


def _meta_verified(raw: bytes, signature: str | None, secret: str) -> bytes:
    """The raw body, when ``signature`` (X-Hub-Signature-256) is Meta's signature of it under the
    app secret; 401 otherwise, before anything reads it."""
    if not signature_ok(raw, signature, secret):
        raise Refusal(
            "X-Hub-Signature-256",
            "missing, or not the HMAC-SHA256 of this body with the app secret",
            status=401,
            error="unauthorized",
        )
    return raw


async def _meta_signed(request: Request) -> bytes:
    """The raw body, when X-Hub-Signature-256 is Meta's signature of it under the app secret."""
    secret = request.app.state.service.settings.whatsapp_app_secret
    return _meta_verified(await request.body(), request.headers.get("X-Hub-Signature-256"), secret)


async def _msg91_token(request: Request) -> bytes:
    """The raw body, when the URL carries this deployment's MSG91 webhook token. MSG91 signs no
    delivery report, and its panel takes only a URL, so the token rides in the query (ADR 0310)."""
    ours = request.app.state.service.settings.msg91_webhook_token
    if not same_secret(ours, request.query_params.get("token")):
        raise Refusal(
            "token",
            "missing, or not this deployment's MSG91 webhook token",
            status=401,
            error="unauthorized",
        )
    return await request.body()


@router.post(
    "/webhooks/msg91",
    summary="MSG91's SMS delivery reports (webhook v2: data=<JSON array>), with our token in the URL",
    response_model=Applied,
    responses=errors(400, 401),
)
async def msg91_webhook(
    request: Request,
    raw: Annotated[bytes, by_signature("msg91", _msg91_token)],
    token: Annotated[str | None, Query(max_length=256, description="This deployment's webhook token")] = None,
) -> dict[str, Any]:
    # token was checked by the route's declaration; declared here for the docs.
    service = request.app.state.service
    return {"applied": await inbound.apply(service, delivery_reports(raw), sending=service.sending)}


@router.get(
    "/webhooks/whatsapp",
    summary="Meta's webhook verification: echo hub.challenge when the verify token matches",
    dependencies=[by_signature("meta", _verify_token_matches)],
    response_class=PlainTextResponse,
    responses=errors(403),
)
async def verify_whatsapp_webhook(
    mode: Annotated[str, Query(alias="hub.mode", max_length=32)],
    verify_token: Annotated[str, Query(alias="hub.verify_token", max_length=256)],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)],
) -> str:
    # mode and verify_token were checked by the route's declaration; declared here for the docs.
    return challenge


@router.post(
    "/webhooks/whatsapp",
    summary="Meta's message statuses and customer replies, signed with X-Hub-Signature-256",
    response_model=Applied,
)
async def whatsapp_webhook(
    request: Request,
    raw: Annotated[bytes, by_signature("meta", _meta_signed)],
    x_hub_signature_256: Annotated[str | None, Header(description="sha256=<hex HMAC of the body>")] = None,
) -> dict[str, Any]:
    return await _apply_whatsapp(request.app, raw)


async def _apply_whatsapp(app: Any, raw: bytes) -> dict[str, Any]:
    """Apply a verified WhatsApp notification: what the route and its light twin answer."""
    try:
        body = text.parsed(raw)
    except text.MalformedJson as exc:
        raise Refusal("body", str(exc)) from None
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        raise Refusal("object", "expected a whatsapp_business_account notification")
    service = app.state.service
    return {
        "applied": await inbound.apply(service, notices(body), now=app.state.clock(), sending=service.sending)
    }


async def _whatsapp_light(request: LightRequest) -> tuple[int, dict[str, Any]]:
    """What serves POST /webhooks/whatsapp: Meta posts every message's sent, delivered and read
    statuses here, several per order, so the route is served light (chassis.http.light, ADR 430)
    with the same verifier and the same answer as the FastAPI route that documents it."""
    secret = request.app.state.service.settings.whatsapp_app_secret
    raw = _meta_verified(request.body, request.headers.get("x-hub-signature-256"), secret)
    return 200, await _apply_whatsapp(request.app, raw)


light(whatsapp_webhook, _whatsapp_light)
