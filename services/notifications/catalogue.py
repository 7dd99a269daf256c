"""HTTP route of notifications' approved templates (ADR 381): each template in a language with a
preview rendered from sample values by the same functions that render real messages, so the console
shows what a customer would read without ever sending one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from chassis.auth import STAFF, require
from chassis.pages import Cursor, Limit, Page, after_key, next_key
from services.notifications.domain.policy import TEMPLATES
from services.notifications.domain.templates import Template, clip, render, render_sms

router = APIRouter(tags=["templates"])

SAMPLES: dict[str, dict[str, str]] = {
    "en": {
        "customer_name": "Asha Verma",
        "ndr_reason": "customer not available",
        "return_status": "approved",
    },
    "hi": {
        "customer_name": "आशा वर्मा",
        "ndr_reason": "ग्राहक उपलब्ध नहीं",
        "return_status": "मंज़ूर",
    },
}
"""Sample values a preview fills in, per language (ids and amounts read the same in every language)."""
SAMPLE_IDS = {
    "order_id": "ORD-01JDABBA",
    "channel_order_id": "SHP-1001",
    "shipment_id": "SHP-4F2A9C",
    "awb": "14961128800000",
    "return_id": "RET-7Q2K",
    "refund_amount": "₹698.00",
    "sku": "TEA-ASSAM-250",
    "warehouse_code": "BOM1",
}


class TemplatePreview(BaseModel):
    """One approved template in one language, and what a customer would read with sample values."""

    name: str
    language: str
    body: str
    parameters: list[str]
    buttons: list[str]
    preview: str = Field(description="The WhatsApp text with the sample values.")
    sms_body: str | None
    sms_preview: str | None = Field(description="The DLT SMS text with the sample values.")
    dlt_template_id: str | None


class Templates(Page[TemplatePreview]):
    """A page of templates by name and language, and every language there is."""

    languages: list[str]


def sample(name: str, language: str) -> str:
    """A parameter's sample value in a language, clipped as a real one would be."""
    value = SAMPLES.get(language, SAMPLES["en"]).get(name) or SAMPLE_IDS.get(name) or f"<{name}>"
    return clip(name, value)


def previewed(template: Template) -> dict[str, Any]:
    """The template with its WhatsApp and SMS texts rendered from sample values."""
    sms = template.sms
    return {
        "name": template.name,
        "language": template.language,
        "body": template.body,
        "parameters": list(template.parameters),
        "buttons": [b.value for b in template.buttons],
        "preview": render(template, [sample(p, template.language) for p in template.parameters]),
        "sms_body": sms.body if sms else None,
        "sms_preview": render_sms(sms, [sample(v, template.language) for v in sms.variables])
        if sms
        else None,
        "dlt_template_id": sms.dlt_template_id if sms else None,
    }


@router.get(
    "/templates",
    summary="The approved message templates, each with a preview from sample values",
    dependencies=[require(*STAFF)],
    response_model=Templates,
)
async def templates(
    language: Annotated[str | None, Query(min_length=2, max_length=8, description="en, hi, …")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    after = after_key(cursor)
    chosen = [
        t
        for (name, lang), t in sorted(TEMPLATES.items())
        if (language is None or lang == language) and (after is None or f"{name}:{lang}" > after)
    ][:limit]
    return {
        "languages": sorted({lang for _, lang in TEMPLATES}),
        "items": [previewed(t) for t in chosen],
        "next_cursor": next_key(chosen, limit, lambda t: f"{t.name}:{t.language}"),
    }
