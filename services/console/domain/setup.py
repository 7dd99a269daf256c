"""The settings screen's decisions: what a warehouse, routing-rule or priority form asks its owner
(routing, orders) to store, naming a field that is not one before anything is sent (ADR 381). The
owner then checks it all again and decides."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from chassis import text

Problems = list[tuple[str, str]]
RULE_KINDS: dict[str, str] = {
    "prefer_for_channel": "Prefer a warehouse for a channel",
    "exclude_pincodes": "Keep a warehouse away from a pincode range",
    "pin_sku": "Ship a SKU only from a warehouse",
}
_WHOLE = re.compile(r"^-?\d{1,7}$")
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def warehouse_request(form: Mapping[str, str]) -> tuple[str, dict[str, Any] | None, Problems]:
    """(code, routing's PUT /warehouses/{code} body, problems) from the warehouse form."""
    problems: Problems = []
    code = _text(form, "code")
    body: dict[str, Any] = {"code": code, "name": _text(form, "name"), "pincode": _text(form, "pincode")}
    for name in ("code", "name", "pincode"):
        if not body[name]:
            problems.append((name, "required"))
    body["active"] = form.get("active") in ("on", "true", "1")
    priority = _text(form, "priority") or "0"
    if _WHOLE.match(priority):
        body["priority"] = int(priority)
    else:
        problems.append(("priority", f"{priority!r} is not a whole number"))
    capacity = _text(form, "daily_capacity")
    if capacity and not _WHOLE.match(capacity):
        problems.append(("daily_capacity", f"{capacity!r} is not a whole number of orders"))
    body["daily_capacity"] = int(capacity) if capacity and _WHOLE.match(capacity) else None
    cutoff = _text(form, "cutoff_time")
    if cutoff and not _CUTOFF.match(cutoff):
        problems.append(("cutoff_time", f"{cutoff!r} is not a time of day: write it HH:MM, e.g. 14:00"))
    body["cutoff_time"] = cutoff or None
    return code, (None if problems else body), problems


def rule_request(form: Mapping[str, str]) -> tuple[dict[str, Any] | None, Problems]:
    """Routing's POST /rules body from the rule form: its kind, warehouse and the fields it filled."""
    kind = _text(form, "kind")
    if kind not in RULE_KINDS:
        return None, [("kind", f"choose one of {', '.join(RULE_KINDS)}")]
    body: dict[str, Any] = {"kind": kind, "warehouse_code": _text(form, "warehouse_code")}
    if not body["warehouse_code"]:
        return None, [("warehouse_code", "required")]
    for name in ("channel", "pincode_from", "pincode_to", "sku"):
        if value := _text(form, name):
            body[name] = value
    return body, []


def weights_request(raw: str) -> tuple[dict[str, Any] | None, Problems]:
    """Orders' priority weights from the form's JSON text (orders checks every weight)."""
    try:
        weights = text.parsed(raw)
    except text.MalformedJson as exc:
        return None, [("weights", str(exc))]
    if not isinstance(weights, dict):
        return None, [("weights", "must be a JSON object of weights")]
    return weights, []


def shown_weights(weights: Any) -> str:
    """The weights as the form shows them: indented JSON, keys in a stable order."""
    return json.dumps(weights, indent=2, sort_keys=True, ensure_ascii=False)
