"""Notifications previews every approved template with sample values by the functions that render
real messages (ADR 381): every placeholder filled, the Hindi ones in Devanagari with a Hindi name."""

from __future__ import annotations

import re

from services.notifications.catalogue import previewed, sample
from services.notifications.domain.policy import TEMPLATES

DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def test_every_template_previews_with_no_placeholder_left_in_whatsapp_or_sms() -> None:
    for template in TEMPLATES.values():
        shown = previewed(template)
        assert "{{" not in shown["preview"], shown
        assert "{#var#}" not in (shown["sms_preview"] or ""), shown
        assert "<" not in shown["preview"], f"a parameter without a sample value: {shown}"


def test_hindi_templates_preview_in_devanagari_with_a_hindi_name() -> None:
    hindi = [previewed(t) for (_, lang), t in TEMPLATES.items() if lang == "hi"]
    assert hindi
    for shown in hindi:
        assert DEVANAGARI.search(shown["preview"]), shown
    named = [s for s in hindi if "customer_name" in s["parameters"]]
    assert named and all("आशा वर्मा" in s["preview"] for s in named)
    assert sample("customer_name", "en") == "Asha Verma"
