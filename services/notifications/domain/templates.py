"""Approved templates as data: loaded from templates.toml, checked against Meta's and DLT's rules.

A template that DLT would reject (a variable longer than 30 characters, a variable as the last word,
no brand name) is refused when the file loads, naming the template and the rule.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import ReplyChoice

DLT_VARIABLE = "{#var#}"
DLT_VARIABLE_MAX = 30
"""DLT scrubbing rejects an SMS whose {#var#} value is longer than this."""

PARAMETER_MAX_LENGTH: dict[str, int] = {
    "customer_name": 30,
    "order_id": 30,
    "channel_order_id": 30,
    "shipment_id": 20,
    "awb": 20,
    "ndr_reason": 30,
    "return_id": 12,
    "return_status": 20,
    "refund_amount": 14,
    "sku": 30,
    "warehouse_code": 10,
}
"""The longest value each parameter can take (names are clipped to it, ids fit by construction)."""

DEFAULT_FILE = Path(__file__).parent.parent / "templates.toml"


class TemplateError(ValueError):
    """A template file that must not be used, with every problem named by template and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("refusing message templates:\n  " + "\n  ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class SmsTemplate:
    """A DLT-registered SMS body; ``{#var#}`` is filled from ``variables`` in order."""

    dlt_template_id: str
    msg91_template_id: str
    body: str
    variables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Template:
    """One approved message in one language: WhatsApp (``{{n}}`` is the n-th parameter) and SMS."""

    name: str
    language: str
    body: str
    parameters: tuple[str, ...]
    buttons: tuple[ReplyChoice, ...] = ()
    url_button: str | None = None
    urgent: bool = False
    """Urgent messages ignore quiet hours (the customer must act, or the courier is at the door)."""
    transactional: bool = True
    """Transactional messages go out even to customers who sent STOP."""
    sms: SmsTemplate | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every template by (name, language), and the sender header SMS go out under."""

    brand: str
    sender: str
    templates: Mapping[tuple[str, str], Template]


def dlt_problems(name: str, sms: SmsTemplate, *, brand: str) -> list[str]:
    """Why DLT would reject this SMS template (empty when it would pass)."""
    where = f"{name}.sms_body"
    problems = []
    if brand.lower() not in sms.body.lower():
        problems.append(f"{where}: the brand name {brand!r} must appear in every SMS")
    words = sms.body.split()
    if words and DLT_VARIABLE in words[-1]:
        problems.append(f"{where}: a variable may not be the last word (DLT rejects it)")
    count = sms.body.count(DLT_VARIABLE)
    if count != len(sms.variables):
        problems.append(
            f"{where}: {count} {DLT_VARIABLE} placeholders but {len(sms.variables)} sms_variables"
        )
    for variable in sms.variables:
        longest = PARAMETER_MAX_LENGTH.get(variable)
        if longest is None:
            problems.append(f"{name}.sms_variables: unknown variable {variable!r}")
        elif longest > DLT_VARIABLE_MAX:
            problems.append(
                f"{name}.sms_variables: {variable!r} can be {longest} characters, "
                f"DLT allows {DLT_VARIABLE_MAX} per variable"
            )
    if not re.fullmatch(r"\d{19}", sms.dlt_template_id):
        problems.append(
            f"{name}.dlt_template_id: a DLT template id has 19 digits, got {sms.dlt_template_id!r}"
        )
    return problems


def _whatsapp_problems(template: Template) -> list[str]:
    where = f"{template.name}/{template.language}"
    problems = []
    placeholders = {int(n) for n in re.findall(r"\{\{(\d+)\}\}", template.body)}
    if placeholders != set(range(1, len(template.parameters) + 1)):
        problems.append(f"{where}.body: needs placeholders 1..{len(template.parameters)}, one per parameter")
    for parameter in (*template.parameters, *([template.url_button] if template.url_button else [])):
        if parameter not in PARAMETER_MAX_LENGTH:
            problems.append(f"{where}.parameters: unknown parameter {parameter!r}")
    if len(template.buttons) > 3:
        problems.append(f"{where}.buttons: WhatsApp allows at most 3 quick replies")
    return problems


def parse(raw: Mapping[str, Any]) -> Catalogue:
    """A catalogue from the TOML's data; raises TemplateError listing every problem."""
    brand, sender = str(raw.get("brand", "")), str(raw.get("sender", ""))
    problems = []
    if not brand:
        problems.append("brand: the brand name SMS must carry is missing")
    if not re.fullmatch(r"[A-Z]{6}", sender):
        problems.append(f"sender: a DLT sender header is 6 capital letters, got {sender!r}")
    templates: dict[tuple[str, str], Template] = {}
    for position, entry in enumerate(raw.get("template", []), start=1):
        name = str(entry.get("name") or f"template #{position}")
        try:
            sms = None
            if "sms_body" in entry:
                sms = SmsTemplate(
                    dlt_template_id=str(entry["dlt_template_id"]),
                    msg91_template_id=str(entry["msg91_template_id"]),
                    body=str(entry["sms_body"]),
                    variables=tuple(entry.get("sms_variables", ())),
                )
            template = Template(
                name=name,
                language=str(entry["language"]),
                body=str(entry["body"]),
                parameters=tuple(entry.get("parameters", ())),
                buttons=tuple(ReplyChoice(b) for b in entry.get("buttons", ())),
                url_button=entry.get("url_button"),
                urgent=bool(entry.get("urgent", False)),
                transactional=bool(entry.get("transactional", True)),
                sms=sms,
            )
        except KeyError as exc:
            problems.append(f"{name}: missing {exc.args[0]}")
            continue
        except ValueError as exc:
            problems.append(f"{name}.buttons: {exc}")
            continue
        key = (template.name, template.language)
        if key in templates:
            problems.append(f"{name}/{template.language}: defined twice")
        problems += _whatsapp_problems(template)
        if sms is not None:
            problems += dlt_problems(f"{name}/{template.language}", sms, brand=brand)
        templates[key] = template
    if problems:
        raise TemplateError(problems)
    return Catalogue(brand=brand, sender=sender, templates=templates)


def load(path: Path = DEFAULT_FILE) -> Catalogue:
    """The catalogue in a TOML file; raises TemplateError (or tomllib's error) if it is unusable."""
    with path.open("rb") as f:
        return parse(tomllib.load(f))


def render(template: Template, parameters: Sequence[str]) -> str:
    """The WhatsApp text the customer reads, for previews and the audit."""
    text = template.body
    for n, value in enumerate(parameters, start=1):
        text = text.replace(f"{{{{{n}}}}}", value)
    return text


def render_sms(sms: SmsTemplate, values: Sequence[str]) -> str:
    """The SMS text as DLT will match it: each {#var#} in turn."""
    text = sms.body
    for value in values:
        text = text.replace(DLT_VARIABLE, value, 1)
    return text


def clip(name: str, value: str) -> str:
    """A parameter value cut to the longest its template allows (names can be longer than DLT's 30)."""
    longest = PARAMETER_MAX_LENGTH.get(name, DLT_VARIABLE_MAX)
    return value if len(value) <= longest else value[: longest - 1] + "…"
