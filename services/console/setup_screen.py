"""The settings screen (ADR 381): warehouses and routing rules (routing), courier serviceability and
rate cards (shipping), priority rules with their preview (orders), template previews
(notifications) and who may call each service (each one's API keys, never a secret). Everything is
read from and written to its owner as the person who clicked; the owner decides who may change what."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from chassis.http import upload
from services.console.api import _back, _owners, _page
from services.console.domain import setup
from services.console.owners import Operator, Outcome
from services.console.sessions import form_from_operator, signed_in

router = APIRouter(include_in_schema=False)
UPLOADS = {"serviceability": "/couriers/serviceability", "rate-cards": "/couriers/rate-cards"}
MAX_CSV = 8 * 1024 * 1024  # a whole country's pincodes for a few couriers


def _problems(problems: setup.Problems) -> str:
    return "; ".join(f"{f}: {p}" for f, p in problems)


async def _settings(request: Request, operator: Operator, **extra: Any) -> HTMLResponse:
    owners = _owners(request)
    language = request.query_params.get("language") or "hi"
    warehouses, rules, couriers, priority, templates = await asyncio.gather(
        owners.call("routing", "GET", "/warehouses?limit=100", operator=operator),
        owners.call("routing", "GET", "/rules?limit=100", operator=operator),
        owners.call("shipping", "GET", "/couriers?limit=100", operator=operator),
        owners.call("orders", "GET", "/priority-rules", operator=operator),
        owners.call(
            "notifications", "GET", f"/templates?{urlencode({'language': language})}", operator=operator
        ),
    )

    # Who may call each service (its API_KEYS, never a key): each service shows an administrator
    # only, so anyone else reads its refusal here.
    keyed = await asyncio.gather(
        *(owners.call(name, "GET", "/api-keys", operator=operator) for name in owners.services)
    )
    api_keys = {
        name: outcome.body["keys"] if outcome.ok else outcome.message
        for name, outcome in zip(owners.services, keyed, strict=True)
    }

    def items(outcome: Outcome) -> list[dict[str, Any]] | str:
        return list(outcome.body["items"]) if outcome.ok else outcome.message

    weights = extra.pop("weights", None)
    if weights is None:
        weights = setup.shown_weights(priority.body["weights"]) if priority.ok else ""
    return _page(
        request,
        "settings.html",
        operator,
        warehouses=items(warehouses),
        rules=items(rules),
        couriers=items(couriers),
        priority=priority.body if priority.ok else priority.message,
        weights=weights,
        templates=templates.body if templates.ok else templates.message,
        language=language,
        api_keys=api_keys,
        rule_kinds=setup.RULE_KINDS,
        uploads=UPLOADS,
        **extra,
    )


@router.get("/settings")
async def settings_page(request: Request, operator: Operator = signed_in()) -> HTMLResponse:
    return await _settings(request, operator)


@router.post("/settings/warehouses")
async def put_warehouse(request: Request, operator: Operator = form_from_operator()) -> RedirectResponse:
    """Create or change a warehouse through routing (ops)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    code, body, problems = setup.warehouse_request(form)
    if body is None:
        return _back("/settings", error=_problems(problems))
    outcome = await _owners(request).call(
        "routing", "PUT", f"/warehouses/{quote(code, safe='')}", operator=operator, json=body
    )
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, f"warehouse {code} saved ({outcome.body['state']})")
    return _back("/settings", outcome)


@router.post("/settings/rules")
async def add_rule(request: Request, operator: Operator = form_from_operator()) -> RedirectResponse:
    """Add a routing rule through routing (ops); routing records the operator as its author."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    body, problems = setup.rule_request(form)
    if body is None:
        return _back("/settings", error=_problems(problems))
    outcome = await _owners(request).call("routing", "POST", "/rules", operator=operator, json=body)
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, f"rule {outcome.body['id']} added")
    return _back("/settings", outcome)


@router.post("/settings/rules/{rule_id}/delete")
async def delete_rule(
    request: Request, rule_id: int, operator: Operator = form_from_operator()
) -> RedirectResponse:
    outcome = await _owners(request).call("routing", "DELETE", f"/rules/{rule_id}", operator=operator)
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, f"rule {rule_id} removed")
    return _back("/settings", outcome)


@router.post("/settings/couriers/{kind}")
@upload
async def courier_upload(request: Request, kind: str, operator: Operator = form_from_operator()) -> Response:
    """Replace couriers' serviceability or rate cards with the chosen CSV, through shipping (ops);
    shipping names every bad row and replaces nothing when one is bad."""
    if kind not in UPLOADS:
        return _back("/settings", error=f"kind: choose one of {', '.join(UPLOADS)}")
    chosen = (await request.form()).get("file")
    if not isinstance(chosen, UploadFile):
        return _back("/settings", error="file: choose a CSV file")
    csv = await chosen.read(MAX_CSV + 1)
    if not csv or len(csv) > MAX_CSV:
        return _back("/settings", error=f"file: a CSV of 1 byte to {MAX_CSV // 1024 // 1024} MB")
    outcome = await _owners(request).call("shipping", "POST", UPLOADS[kind], operator=operator, csv=csv)
    if outcome.ok:
        said = f"{kind}: {outcome.body['loaded']} rows loaded for {', '.join(outcome.body['couriers'])}"
        outcome = Outcome(outcome.status, outcome.body, said)
    return _back("/settings", outcome)


@router.post("/settings/priority")
async def priority_rules(request: Request, operator: Operator = form_from_operator()) -> Response:
    """Preview, save or reset orders' priority weights (saving and resetting are ops's)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    action = form.get("action", "")
    owners = _owners(request)
    if action == "reset":
        outcome = await owners.call("orders", "DELETE", "/priority-rules", operator=operator)
        if outcome.ok:
            outcome = Outcome(outcome.status, outcome.body, "priority rules back to the settings' weights")
        return _back("/settings", outcome)
    weights, problems = setup.weights_request(form.get("weights", ""))
    if weights is None or action not in ("save", "preview"):
        return _back("/settings", error=_problems(problems or [("action", "save, preview or reset")]))
    if action == "save":
        outcome = await owners.call("orders", "PUT", "/priority-rules", operator=operator, json=weights)
        if outcome.ok:
            outcome = Outcome(outcome.status, outcome.body, "priority rules saved")
        return _back("/settings", outcome)
    outcome = await owners.call(
        "orders", "POST", "/priority-rules/preview?limit=20", operator=operator, json=weights
    )
    return await _settings(
        request,
        operator,
        weights=form.get("weights", ""),
        preview=outcome.body["queue"] if outcome.ok else outcome.message,
    )
