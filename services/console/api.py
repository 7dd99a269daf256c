"""The console's pages: sign-in, the order queue, order detail with its actions, the desks, stock,
the pack station and the numbers. Pages read the read model; every action calls the owning service
(owners.py)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile as StarletteUpload

from chassis.http import upload
from contracts import Channel, OrderStatus, PaymentMethod
from services.console import fonts, sessions, store
from services.console.domain import desks, fix, inbox, metrics, stock
from services.console.domain.decisions import (
    BULK_ACTIONS,
    MAX_BULK,
    TABS,
    bulk_outcome,
    byline,
    decode_cursor,
    encode_cursor,
    order_actions,
    parse_day,
    parse_search,
    return_actions,
    shipment_actions,
    show_day,
)
from services.console.owners import Operator, Outcome, Owners
from services.console.sessions import COOKIE, LOGIN_CSRF_COOKIE, form_from_operator, signed_in

HERE = Path(__file__).parent
IST = ZoneInfo("Asia/Kolkata")
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["rupees"] = lambda paise: "—" if paise is None else f"₹{paise / 100:,.2f}"
templates.env.filters["hours"] = lambda h: (
    "—"
    if h is None
    else f"{round(h * 60)} min"
    if h < 1
    else f"{h:.1f} h"
    if h < 48
    else f"{h / 24:.1f} days"
)
templates.env.globals["byline"] = byline
templates.env.filters["day"] = show_day
templates.env.filters["ist"] = lambda at: "—" if at is None else at.astimezone(IST).strftime("%d %b %H:%M")

# Order actions: name → (owning service, path template, JSON body, label shown on the button).
ORDER_ACTIONS: dict[str, tuple[str, str, dict[str, Any] | None, str]] = {
    "cod_confirm": (
        "orders",
        "/orders/{id}/cod/confirm",
        {"note": "confirmed in the console"},
        "Confirm COD",
    ),
    "cod_decline": ("orders", "/orders/{id}/cod/decline", {"note": "declined in the console"}, "Decline COD"),
    "hold": ("orders", "/orders/{id}/hold", None, "Hold"),
    "release": ("orders", "/orders/{id}/release", None, "Release"),
    "cancel": ("orders", "/orders/{id}/cancel", None, "Cancel"),
}


def _page(request: Request, name: str, operator: Operator | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"operator": operator, "tabs": TABS, "q": request.query_params, **context}
    )


def _back(path: str, outcome: Outcome | None = None, /, **params: str) -> RedirectResponse:
    """Back to a page after a form, saying what happened (303: the browser GETs it)."""
    if outcome is not None:
        params["ok" if outcome.ok else "error"] = outcome.message
    query = f"?{urlencode(params)}" if params else ""
    return RedirectResponse(path + query, status_code=303)


def _owners(request: Request) -> Owners:
    owners: Owners = request.app.state.owners
    return owners


@router.get("/static/console.css")
async def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "console.css", media_type="text/css")


@router.get("/static/console.js")
async def script() -> FileResponse:
    return FileResponse(HERE / "static" / "console.js", media_type="text/javascript")


_FONT_CACHE = {"Cache-Control": "public, max-age=604800"}  # a locked package's files do not change


@router.get(f"{fonts.ROUTE}.css")
async def font_faces(request: Request) -> Response:
    """The @font-face rules of Noto Sans and India's scripts (read once, on first use)."""
    state = request.app.state
    if getattr(state, "font_faces", None) is None:
        state.font_faces = fonts.stylesheet()
    return Response(state.font_faces, media_type="text/css", headers=_FONT_CACHE)


@router.get(f"{fonts.ROUTE}/{{family}}/{{name}}")
async def font_file(family: str, name: str) -> Response:
    path = fonts.font_file(family, name)
    if path is None:
        return Response("no such font", status_code=404, media_type="text/plain")
    media = "font/woff2" if name.endswith(".woff2") else "font/woff"
    return FileResponse(path, media_type=media, headers=_FONT_CACHE)


# --- sign-in ------------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, error: str | None = None) -> HTMLResponse:
    token = sessions.new_token()
    response = _page(request, "login.html", None, csrf=token, error=error)
    _cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


def _cookie(request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.app.state.service.settings.cookie_secure,
        path="/",
    )


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    # Sign-in has no session yet: its form proves it came from our page by a double-submit cookie.
    if not sessions.same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _page(request, "login.html", None, csrf="", error="the form expired: reload the page")
    service = request.app.state.service
    try:
        token = await sessions.sign_in(
            service.pool,
            service.settings,
            name=username.strip().lower(),
            password=password,
            now=request.app.state.clock(),
        )
    except sessions.SignInRefused as exc:
        return _back("/login", error=str(exc))
    response = RedirectResponse("/orders", status_code=303)
    _cookie(request, response, COOKIE, token, max_age=int(service.settings.session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, operator: Operator = form_from_operator()) -> Response:
    await store.close_session(request.app.state.service.pool, sessions.digest(request.cookies[COOKIE]))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
async def home(operator: Operator = signed_in()) -> RedirectResponse:
    return RedirectResponse("/orders", status_code=303)


# --- the queue ----------------------------------------------------------------------------------


def _queue_filter(request: Request) -> tuple[store.QueueFilter, list[tuple[str, str]]]:
    """The queue's filter from its query string, and a problem for each day that is not one."""
    q = request.query_params
    problems: list[tuple[str, str]] = []

    def day(name: str, plus: int = 0) -> datetime | None:
        try:
            typed = parse_day(q.get(name) or "")
        except ValueError as exc:
            problems.append((name, str(exc)))
            return None
        if typed is None:
            return None
        try:
            start = datetime.combine(typed, time(), IST)
            return (start + timedelta(days=plus)).astimezone(UTC)
        except OverflowError:  # the calendar's last day (9999-12-31)
            return None

    tab = q.get("tab", "all")
    placed_from, placed_to = day("from"), day("to", plus=1)
    return store.QueueFilter(
        tab=tab if tab in TABS else "all",
        status=q.get("status") or None,
        channel=q.get("channel") or None,
        payment_method=q.get("payment_method") or None,
        warehouse=q.get("warehouse") or None,
        courier=q.get("courier") or None,
        placed_from=placed_from,
        placed_to=placed_to,
        search=parse_search(q.get("search", "")),
        now=request.app.state.clock(),
    ), problems


async def _queue_context(request: Request) -> dict[str, Any]:
    pool = request.app.state.service.pool
    after = None
    if cursor := request.query_params.get("after"):
        try:
            after = decode_cursor(cursor)
        except ValueError:
            after = None
    size = request.app.state.service.settings.page_size
    f, problems = _queue_filter(request)
    rows = [] if problems else await store.queue(pool, f, after=after, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    next_query = None
    if more:
        params = {k: v for k, v in request.query_params.items() if k != "after"}
        params["after"] = encode_cursor(rows[-1].sort_at, rows[-1].order_id)
        next_query = urlencode(params)
    return {
        "rows": rows,
        "next_query": next_query,
        "problems": problems,
        "seq": await store.latest_seq(pool),
    }


@router.get("/orders")
async def orders_page(request: Request, operator: Operator = signed_in()) -> HTMLResponse:
    context = await _queue_context(request)
    counts = await store.tab_counts(request.app.state.service.pool, now=request.app.state.clock())
    return _page(
        request,
        "orders.html",
        operator,
        counts=counts,
        statuses=[s.value for s in OrderStatus],
        channels=[c.value for c in Channel],
        methods=[m.value for m in PaymentMethod],
        bulk_actions=[(a, ORDER_ACTIONS[a][3]) for a in BULK_ACTIONS],
        **context,
    )


@router.get("/orders/rows")
async def orders_rows(request: Request, operator: Operator = signed_in()) -> HTMLResponse:
    """The queue's rows alone: the live queue swaps them in when the read model moves."""
    return _page(request, "_rows.html", operator, **await _queue_context(request))


@router.get("/events")
async def events(request: Request, operator: Operator = signed_in()) -> StreamingResponse:
    """Server-sent events: `changed` whenever the read model took a write."""
    pool = request.app.state.service.pool

    async def stream() -> AsyncIterator[str]:
        seq = await store.latest_seq(pool)
        yield f"event: hello\ndata: {seq}\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(1)
            latest = await store.latest_seq(pool)
            if latest != seq:
                seq = latest
                yield f"event: changed\ndata: {seq}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# --- one order ----------------------------------------------------------------------------------


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: str, operator: Operator = signed_in()) -> HTMLResponse:
    pool = request.app.state.service.pool
    view = await store.order(pool, order_id)
    if view is None:
        response = _page(request, "missing.html", operator, order_id=order_id)
        response.status_code = 404
        return response
    return _page(
        request,
        "order.html",
        operator,
        order=view,
        timeline=await store.timeline(pool, order_id),
        actions=[(a, ORDER_ACTIONS[a][3]) for a in order_actions(view)],
        shipment_actions=shipment_actions,
        return_actions=return_actions,
    )


async def _act(request: Request, operator: Operator, order_id: str, action: str, reason: str) -> Outcome:
    """One order action through orders, as the operator (the page's button and the bulk bar)."""
    service, path, body, _ = ORDER_ACTIONS[action]
    if action == "hold":
        body = {"reason": reason.strip() or "held in the console"}
    elif action == "cancel":
        body = {"reason_code": "operator", "note": reason.strip() or None}
    return await _owners(request).call(
        service, "POST", path.format(id=quote(order_id, safe="")), operator=operator, json=body
    )


@router.post("/orders/{order_id}/actions/{action}")
async def order_action(
    request: Request,
    order_id: str,
    action: str,
    reason: str = Form(""),
    operator: Operator = form_from_operator(),
) -> RedirectResponse:
    if action not in ORDER_ACTIONS:
        return _back(f"/orders/{order_id}", error=f"no action {action}")
    return _back(f"/orders/{order_id}", await _act(request, operator, order_id, action, reason))


@router.post("/orders/bulk")
async def bulk_action(request: Request, operator: Operator = form_from_operator()) -> RedirectResponse:
    """The queue's bulk bar: one action on the ticked orders, each through orders as the operator;
    one refused order does not stop the others, and the answer names each refusal."""
    form = await request.form()
    action, reason = str(form.get("action", "")), str(form.get("reason", ""))
    kept = {k: v for k, v in parse_qsl(str(form.get("back", ""))) if k not in ("ok", "error")}
    order_ids = list(dict.fromkeys(str(o) for o in form.getlist("order_id")))
    if action not in BULK_ACTIONS:
        return _back("/orders", error=f"no bulk action {action or '(none chosen)'}", **kept)
    if not order_ids or len(order_ids) > MAX_BULK:
        return _back("/orders", error=f"tick between 1 and {MAX_BULK} orders", **kept)
    limit = asyncio.Semaphore(8)  # the owning service serves others too

    async def one(order_id: str) -> Outcome:
        async with limit:
            return await _act(request, operator, order_id, action, reason)

    outcomes = await asyncio.gather(*(one(o) for o in order_ids))
    answer = Outcome(*bulk_outcome(ORDER_ACTIONS[action][3], list(zip(order_ids, outcomes, strict=True))))
    return _back("/orders", answer, **kept)


# --- fix and resubmit a rejected order ------------------------------------------------------------


def _fix_page(
    request: Request,
    operator: Operator,
    order_id: str,
    values: dict[str, str],
    line_rows: int,
    problems: list[tuple[str, str]],
    status: int = 200,
) -> HTMLResponse:
    named = (
        {"lines"}
        | {f.path for f in fix.FIELDS}
        | {f"lines.{i}.{f.path}" for i in range(line_rows) for f in fix.LINE_FIELDS}
    )
    by_field: dict[str, list[str]] = {}
    for field, problem in problems:
        by_field.setdefault(field if field in named else "", []).append(
            problem if field in named or not field else f"{field}: {problem}"
        )
    response = _page(
        request,
        "fix.html",
        operator,
        order_id=order_id,
        values=values,
        line_rows=line_rows,
        fields=fix.FIELDS,
        line_fields=fix.LINE_FIELDS,
        problems=by_field,
    )
    response.status_code = status
    return response


@router.get("/orders/{order_id}/fix")
async def fix_page(request: Request, order_id: str, operator: Operator = signed_in()) -> Response:
    """The rejected order as the channel sent it, in a form, with orders' reasons beside each field.

    The refusal event carries no content (ADR 81), so what was received is read from orders."""
    view = await store.order(request.app.state.service.pool, order_id)
    if view is None or view.status != "REJECTED":
        return _back(f"/orders/{order_id}", error="only a rejected order can be fixed and resubmitted")
    outcome = await _owners(request).call("orders", "GET", f"/orders/{order_id}", operator=operator)
    if not outcome.ok:
        return _back(f"/orders/{order_id}", outcome)
    values, line_rows = fix.form_values(outcome.body.get("received"))
    return _fix_page(request, operator, order_id, values, line_rows, list(view.problems))


@router.post("/orders/{order_id}/fix")
async def fix_and_resubmit(
    request: Request, order_id: str, operator: Operator = form_from_operator()
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        line_rows = max(1, min(int(form.get("line_rows", "1")), 200))
    except ValueError:
        line_rows = 1
    body, problems = fix.resubmission(form, line_rows)
    if not problems:
        outcome = await _owners(request).call(
            "orders", "POST", f"/orders/{order_id}/resubmit", operator=operator, json=body
        )
        if outcome.ok:
            return _back(f"/orders/{order_id}", Outcome(outcome.status, outcome.body, "resubmitted"))
        found = outcome.body.get("problems") if isinstance(outcome.body, dict) else None
        problems = (
            [(str(p.get("field")), str(p.get("problem"))) for p in found if isinstance(p, dict)]
            if isinstance(found, list) and found
            else [("", outcome.message)]
        )
    return _fix_page(request, operator, order_id, form, line_rows, problems, status=422)


# --- the NDR desk ---------------------------------------------------------------------------------


@router.get("/ndr")
async def ndr_page(request: Request, operator: Operator = signed_in()) -> HTMLResponse:
    """Parcels whose delivery failed and wait on the seller's answer, filtered, a page of orders at
    a time; each answered alone or ticked in bulk, through shipping as the operator."""
    pool = request.app.state.service.pool
    f, problems = desks.ndr_filter(request.query_params)
    after = None
    if cursor := request.query_params.get("after"):
        try:
            after = decode_cursor(cursor)
        except ValueError:
            problems.append(("after", "this page link is not one the console gave out"))
    size = request.app.state.service.settings.page_size
    rows = [] if problems else await store.ndr_desk(pool, f, after=after, limit=size + 1)
    more, rows = len(rows) > size, rows[:size]
    next_query = None
    if more:
        params = {k: v for k, v in request.query_params.items() if k not in ("after", "ok", "error")}
        params["after"] = encode_cursor(rows[-1].sort_at, rows[-1].order_id)
        next_query = urlencode(params)
    back = urlencode({k: v for k, v in request.query_params.items() if k not in ("ok", "error")})
    return _page(
        request,
        "ndr.html",
        operator,
        parcels=[p for row in rows for p in desks.ndr_parcels(row, f)],
        problems=problems,
        couriers=await store.ndr_couriers(pool),
        counts=desks.bucket_counts(await store.ndr_reasons(pool)),
        buckets={b: label for b, (label, _) in desks.NDR_BUCKETS.items()},
        attempts=desks.NDR_ATTEMPTS,
        modes=desks.PAYMENT_MODES,
        ndr_actions=desks.NDR_ACTIONS,
        bulk_actions=[(a, desks.NDR_ACTIONS[a]) for a in desks.NDR_BULK_ACTIONS],
        address_fields=desks.ADDRESS_FIELDS,
        back=back,
        next_query=next_query,
    )


async def _answer_ndr(
    request: Request, operator: Operator, shipment_id: str, body: dict[str, Any]
) -> Outcome:
    """One NDR answer through shipping, as the operator (shipping passes it to the courier)."""
    return await _owners(request).call(
        "shipping",
        "POST",
        f"/shipments/{quote(shipment_id, safe='')}/ndr-actions",
        operator=operator,
        json=body,
    )


def _ndr_back(form: Any, order_id: str) -> tuple[str, dict[str, str]]:
    """Where an NDR answer returns: the desk with its filters when it came from there, else the order."""
    if "back" in form:
        kept = {k: v for k, v in parse_qsl(str(form["back"])) if k not in ("ok", "error")}
        return "/ndr", kept
    return f"/orders/{order_id}", {}


@router.post("/shipments/{shipment_id}/ndr")
async def ndr_action(
    request: Request, shipment_id: str, operator: Operator = form_from_operator()
) -> RedirectResponse:
    """Answer one parcel's NDR (re-attempt, possibly on a day; a new address; RTO)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    path, kept = _ndr_back(form, form.get("order_id", ""))
    today = request.app.state.clock().astimezone(IST).date()
    body, problems = desks.ndr_instruction(form, today=today)
    if body is None:
        return _back(path, error="; ".join(f"{f}: {p}" for f, p in problems), **kept)
    outcome = await _answer_ndr(request, operator, shipment_id, body)
    if outcome.ok:
        outcome = Outcome(
            outcome.status, outcome.body, f"{shipment_id}: {desks.NDR_ACTIONS[body['action']]} sent"
        )
    return _back(path, outcome, **kept)


@router.post("/ndr/bulk")
async def ndr_bulk(request: Request, operator: Operator = form_from_operator()) -> RedirectResponse:
    """The desk's bulk bar: one answer (re-attempt or RTO) for the ticked parcels, each through
    shipping as the operator; one refused parcel does not stop the others."""
    form = await request.form()
    action = str(form.get("action", ""))
    kept = {k: v for k, v in parse_qsl(str(form.get("back", ""))) if k not in ("ok", "error")}
    shipment_ids = list(dict.fromkeys(str(s) for s in form.getlist("shipment_id")))
    if action not in desks.NDR_BULK_ACTIONS:
        return _back("/ndr", error=f"action: choose one of {', '.join(desks.NDR_BULK_ACTIONS)}", **kept)
    if not shipment_ids or len(shipment_ids) > MAX_BULK:
        return _back("/ndr", error=f"shipment_id: tick between 1 and {MAX_BULK} parcels", **kept)
    limit = asyncio.Semaphore(8)  # shipping serves others too

    async def one(shipment_id: str) -> Outcome:
        async with limit:
            return await _answer_ndr(request, operator, shipment_id, {"action": action})

    outcomes = await asyncio.gather(*(one(s) for s in shipment_ids))
    label = desks.NDR_ACTIONS[action]
    answer = Outcome(*bulk_outcome(label, list(zip(shipment_ids, outcomes, strict=True))))
    return _back("/ndr", answer, **kept)


@router.post("/shipments/{shipment_id}/book")
async def book_again(
    request: Request, shipment_id: str, order_id: str = Form(...), operator: Operator = form_from_operator()
) -> RedirectResponse:
    """Ask shipping to try the couriers again for a parcel none took (the "No courier" tab)."""
    outcome = await _owners(request).call(
        "shipping", "POST", f"/shipments/{quote(shipment_id, safe='')}/book", operator=operator
    )
    if outcome.ok and isinstance(outcome.body, dict) and outcome.body.get("awb"):
        outcome = Outcome(outcome.status, outcome.body, f"booked: AWB {outcome.body['awb']}")
    return _back(f"/orders/{order_id}", outcome)


# --- the returns desk -----------------------------------------------------------------------------


@router.get("/returns")
async def returns_page(request: Request, operator: Operator = signed_in()) -> HTMLResponse:
    """The warehouse's returns desk: parcels to receive, to QC line by line, and refunds with their
    SLA; receipt and QC go through returns as the operator."""
    pool = request.app.state.service.pool
    settings = request.app.state.service.settings
    problems: list[tuple[str, str]] = []
    after = None
    if cursor := request.query_params.get("after"):
        try:
            after = decode_cursor(cursor)
        except ValueError:
            problems.append(("after", "this page link is not one the console gave out"))
    search = parse_search(request.query_params.get("search", ""))
    views = (
        []
        if problems
        else await store.returns_desk(pool, search=search, after=after, limit=settings.page_size + 1)
    )
    more, views = len(views) > settings.page_size, views[: settings.page_size]
    next_query = None
    if more:
        params = {k: v for k, v in request.query_params.items() if k not in ("after", "ok", "error")}
        params["after"] = encode_cursor(views[-1].sort_at, views[-1].order_id)
        next_query = urlencode(params)
    desk = desks.returns_desk(
        [(v, r) for v in views for r in v.returns],
        now=request.app.state.clock(),
        sla_days=settings.refund_sla_days,
    )
    return _page(
        request,
        "returns.html",
        operator,
        desk=desk,
        problems=problems,
        sla_days=settings.refund_sla_days,
        back=urlencode({k: v for k, v in request.query_params.items() if k not in ("ok", "error")}),
        next_query=next_query,
    )


def _desk_back(form: Any, order_id: str) -> tuple[str, dict[str, str]]:
    """Where a returns form goes back to: the desk with its search when it came from there, else the order."""
    if "back" in form:
        return "/returns", {k: v for k, v in parse_qsl(str(form["back"])) if k not in ("ok", "error")}
    return f"/orders/{order_id}", {}


@router.post("/returns/{return_id}/receive")
async def receive_return(
    request: Request, return_id: str, operator: Operator = form_from_operator()
) -> RedirectResponse:
    form = await request.form()
    path, kept = _desk_back(form, str(form.get("order_id", "")))
    outcome = await _owners(request).call(
        "returns", "POST", f"/returns/{quote(return_id, safe='')}/receive", operator=operator
    )
    if outcome.ok and "back" in form:
        outcome = Outcome(outcome.status, outcome.body, f"{return_id} received: QC it below")
    return _back(path, outcome, **kept)


@router.post("/returns/{return_id}/qc")
async def qc_return(
    request: Request, return_id: str, operator: Operator = form_from_operator()
) -> RedirectResponse:
    """QC line by line: units passed and failed, a grade and a note per SKU, sent to returns."""
    form = await request.form()
    path, kept = _desk_back(form, str(form.get("order_id", "")))
    lines = []
    for sku in form.getlist("sku"):
        sku = str(sku)
        try:
            passed, failed = int(str(form.get(f"passed.{sku}", 0))), int(str(form.get(f"failed.{sku}", 0)))
        except ValueError:
            return _back(path, error=f"{sku}: passed and failed are whole numbers", **kept)
        line = {"sku": sku, "passed": passed, "failed": failed, "grade": str(form.get(f"grade.{sku}", "A"))}
        if note := str(form.get(f"note.{sku}", "")).strip():
            line["note"] = note
        lines.append(line)
    outcome = await _owners(request).call(
        "returns",
        "POST",
        f"/returns/{quote(return_id, safe='')}/qc",
        operator=operator,
        json={"lines": lines},
    )
    if outcome.ok and "back" in form:
        outcome = Outcome(
            outcome.status, outcome.body, f"{return_id} QC recorded: {outcome.body.get('status')}"
        )
    return _back(path, outcome, **kept)


@router.post("/returns/{return_id}/refund/retry")
async def retry_refund(
    request: Request, return_id: str, operator: Operator = form_from_operator()
) -> RedirectResponse:
    """Ask returns to send a refund the gateway refused once more (returns allows ops only)."""
    form = await request.form()
    path, kept = _desk_back(form, str(form.get("order_id", "")))
    outcome = await _owners(request).call(
        "returns", "POST", f"/returns/{quote(return_id, safe='')}/refund/retry", operator=operator
    )
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, f"{return_id}: refund sent again")
    return _back(path, outcome, **kept)


# --- stock (ADR 320) -----------------------------------------------------------------------------


@router.get("/stock")
async def stock_page(request: Request, operator: Operator = signed_in()) -> HTMLResponse:
    """Stock by SKU × warehouse from the read model (or the low-stock rows alone), a page at a
    time; with `sku`, that SKU's rows, its ledger read from inventory, and the forms that change it."""
    pool = request.app.state.service.pool
    q = request.query_params
    problems: list[tuple[str, str]] = []
    after = None
    if cursor := q.get("after"):
        try:
            after = stock.decode_cursor(cursor)
        except ValueError:
            problems.append(("after", "this page link is not one the console gave out"))
    sku = (q.get("sku") or "").strip()
    size = request.app.state.service.settings.page_size
    rows = (
        []
        if problems
        else await store.stock_page(
            pool,
            sku_prefix=(q.get("search") or "").strip() or None,
            warehouse=q.get("warehouse") or None,
            low=q.get("low") == "1",
            after=after,
            limit=size + 1,
        )
    )
    more, rows = len(rows) > size, rows[:size]
    next_query = None
    if more:
        params = {k: v for k, v in q.items() if k not in ("after", "ok", "error")}
        params["after"] = stock.encode_cursor(rows[-1].sku, rows[-1].warehouse_code)
        next_query = urlencode(params)
    ledger: dict[str, Any] = {}
    if sku:
        # The ledger is inventory's record of who moved what; no event carries it (ADR 320).
        asked = {"limit": "50"} | ({"cursor": q["ledger_after"]} if q.get("ledger_after") else {})
        path = f"/stock/{quote(sku, safe='')}/movements?{urlencode(asked)}"
        answer = await _owners(request).call("inventory", "GET", path, operator=operator)
        if answer.ok:
            ledger["rows"] = [m | {"at": datetime.fromisoformat(m["at"])} for m in answer.body["items"]]
            if answer.body.get("next_cursor"):
                ledger["next_query"] = urlencode({"sku": sku, "ledger_after": answer.body["next_cursor"]})
        else:
            ledger["error"] = answer.message
    return _page(
        request,
        "stock.html",
        operator,
        rows=rows,
        problems=problems,
        next_query=next_query,
        low_count=await store.low_stock_count(pool),
        warehouses=await store.stock_warehouses(pool),
        sku=sku,
        sku_rows=await store.stock_of(pool, sku) if sku else [],
        ledger=ledger,
        reasons=stock.ADJUST_REASONS,
    )


@router.post("/stock/items/import")
@upload
async def import_items(request: Request, operator: Operator = form_from_operator()) -> Response:
    """Create or replace items from a CSV file through inventory as the operator: inventory takes
    every row or none and names each bad one as `row N.column` (ops and admin may)."""
    chosen = (await request.form()).get("file")
    if not isinstance(chosen, StarletteUpload) or not chosen.filename:
        return _back("/stock", error="file: choose a CSV file of items to import")
    content = await chosen.read()
    outcome = await _owners(request).call(
        "inventory", "POST", "/items/import", operator=operator, csv=content
    )
    if outcome.ok:
        skus = outcome.body.get("skus", [])
        shown = ", ".join(skus[:5]) + (f" and {len(skus) - 5} more" if len(skus) > 5 else "")
        outcome = Outcome(outcome.status, outcome.body, f"imported {outcome.body['imported']} items: {shown}")
    return _back("/stock", outcome)


@router.post("/stock/{action}")
async def stock_action(request: Request, action: str, operator: Operator = form_from_operator()) -> Response:
    """Receive, adjust or transfer through inventory as the operator (inventory allows warehouse and
    ops, records the person in its ledger, and refuses what would take more than is unreserved); set
    a sale buffer or reorder point (inventory allows ops only)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    sku = form.get("sku", "").strip()
    back = {"sku": sku} if sku else {}
    levels = action == "levels"
    path, body, problems = stock.levels_request(form) if levels else stock.stock_request(action, form)
    if body is None:
        return _back("/stock", error="; ".join(f"{f}: {p}" for f, p in problems), **back)
    method = "PUT" if levels else "POST"
    outcome = await _owners(request).call("inventory", method, path, operator=operator, json=body)
    if outcome.ok:
        said = (
            stock.levels_answer(sku, body, outcome.body)
            if levels
            else stock.stock_answer(action, body, outcome.body)
        )
        outcome = Outcome(outcome.status, outcome.body, said)
    return _back("/stock", outcome, **back)


# --- the customer inbox (ADR 0351) -----------------------------------------------------------------


@router.get("/inbox")
async def inbox_page(request: Request, closed: str = "", operator: Operator = signed_in()) -> HTMLResponse:
    """Customers' tickets from the read model, open ones first: order, customer, last message and
    what is left of WhatsApp's 24-hour window for a free-form reply."""
    pool = request.app.state.service.pool
    size = request.app.state.service.settings.page_size
    return _page(
        request,
        "inbox.html",
        operator,
        tickets=await store.tickets(pool, open_=closed != "1", limit=size),
        open_count=await store.open_ticket_count(pool),
        closed=closed == "1",
        now=request.app.state.clock(),
        window_left=inbox.window_left,
    )


@router.get("/inbox/{ticket_id}")
async def ticket_page(request: Request, ticket_id: str, operator: Operator = signed_in()) -> HTMLResponse:
    found = await store.ticket(request.app.state.service.pool, ticket_id)
    if found is None:
        response = _page(request, "missing.html", operator, order_id=ticket_id, what="ticket")
        response.status_code = 404
        return response
    ticket, lines = found
    now = request.app.state.clock()
    return _page(
        request,
        "ticket.html",
        operator,
        ticket=ticket,
        lines=lines,
        window=inbox.window_left(ticket.window_closes_at, now),
    )


@router.post("/inbox/{ticket_id}/reply")
async def ticket_reply(
    request: Request, ticket_id: str, text: str = Form(""), operator: Operator = form_from_operator()
) -> RedirectResponse:
    """Answer through notifications as the operator: it sends a WhatsApp session message, or refuses
    (outside the 24-hour window, a closed ticket, a role that may not)."""
    path = f"/tickets/{quote(ticket_id, safe='')}/replies"
    outcome = await _owners(request).call(
        "notifications", "POST", path, operator=operator, json={"text": text}
    )
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, "reply sent on WhatsApp")
    return _back(f"/inbox/{quote(ticket_id, safe='')}", outcome)


@router.post("/inbox/{ticket_id}/close")
async def ticket_close(
    request: Request, ticket_id: str, operator: Operator = form_from_operator()
) -> RedirectResponse:
    path = f"/tickets/{quote(ticket_id, safe='')}/close"
    outcome = await _owners(request).call("notifications", "POST", path, operator=operator)
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, f"ticket {ticket_id} closed")
    return _back(f"/inbox/{quote(ticket_id, safe='')}", outcome)


# --- the pack station ---------------------------------------------------------------------------


@router.get("/pack")
async def pack_page(
    request: Request, shipment_id: str = "", operator: Operator = signed_in()
) -> HTMLResponse:
    shipment = None
    order = None
    if shipment_id:
        pool = request.app.state.service.pool
        row = await pool.fetchrow(
            "SELECT order_id FROM order_view WHERE shipments @> $1::jsonb",
            [{"shipment_id": shipment_id}],
        )
        if row is not None:
            order = await store.order(pool, row["order_id"])
            assert order is not None
            shipment = next(s for s in order.shipments if s.shipment_id == shipment_id)
    return _page(request, "pack.html", operator, shipment_id=shipment_id, shipment=shipment, order=order)


@router.post("/pack/{shipment_id}/scan")
async def pack_scan(
    request: Request, shipment_id: str, barcode: str = Form(""), operator: Operator = form_from_operator()
) -> RedirectResponse:
    outcome = await _owners(request).call(
        "shipping",
        "POST",
        f"/shipments/{quote(shipment_id, safe='')}/pack-scans",
        operator=operator,
        json={"barcode": barcode.strip()},
    )
    if outcome.ok:
        missing = outcome.body.get("missing") or {}
        left = ", ".join(f"{q}× {s}" for s, q in missing.items()) or "nothing: close the box"
        outcome = Outcome(
            outcome.status, outcome.body, f"{outcome.body['sku']} in the box; still to scan: {left}"
        )
    return _back("/pack", outcome, shipment_id=shipment_id)


@router.post("/pack/{shipment_id}/close")
async def pack_close(
    request: Request,
    shipment_id: str,
    weight_grams: str = Form(""),
    operator: Operator = form_from_operator(),
) -> RedirectResponse:
    try:
        grams = int(weight_grams)
    except ValueError:
        return _back("/pack", error="weight_grams: a whole number of grams", shipment_id=shipment_id)
    outcome = await _owners(request).call(
        "shipping",
        "POST",
        f"/shipments/{quote(shipment_id, safe='')}/pack",
        operator=operator,
        json={"weight_grams": grams},
    )
    if outcome.ok:
        outcome = Outcome(outcome.status, outcome.body, f"{shipment_id} packed at {grams} g")
    return _back("/pack", outcome, shipment_id=shipment_id)


# --- the numbers --------------------------------------------------------------------------------


async def _numbers(request: Request, days: int) -> dict[str, Any]:
    pool = request.app.state.service.pool
    days = max(1, min(days, 365))
    now = request.app.state.clock()
    since = now - timedelta(days=days)
    return {
        "days": days,
        "per_day": metrics.orders_by_channel_and_day(await store.orders_per_channel_day(pool, since=since)),
        "rates": metrics.return_rates(
            await store.units_sold(pool, since=since), await store.units_returned(pool, since=since)
        ),
        "summary": (summary := metrics.summarise(await store.metric_facts(pool, since=since), now=now)),
        "tickets_per_100": metrics.tickets_per_100_orders(
            await store.tickets_opened(pool, since=since), summary.orders
        ),
    }


@router.get("/analytics")
async def analytics_page(request: Request, days: int = 14, operator: Operator = signed_in()) -> HTMLResponse:
    return _page(request, "analytics.html", operator, **await _numbers(request, days))


@router.get("/analytics.csv")
async def analytics_csv(request: Request, days: int = 14, operator: Operator = signed_in()) -> Response:
    """The same numbers as the page, one metric per line, for a spreadsheet."""
    numbers = await _numbers(request, days)
    s: metrics.Summary = numbers["summary"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "key", "value"])
    for name, value in (
        ("orders", s.orders),
        ("fulfilment_rate_percent", s.fulfilment_rate),
        ("average_dispatch_hours", s.avg_dispatch_hours),
        ("cart_to_delivery_p50_hours", s.delivery_p50_hours),
        ("cart_to_delivery_p90_hours", s.delivery_p90_hours),
        ("order_error_rate_percent", s.order_error_rate),
        ("cod_share_percent", s.cod_share),
        ("ndr_rate_percent", s.ndr_rate),
        ("support_tickets_per_100_orders", numbers["tickets_per_100"]),
    ):
        writer.writerow([name, "", "" if value is None else value])
    for c in s.rto_by_courier:
        writer.writerow(["rto_rate_percent", c.courier, c.percent])
    for r in numbers["rates"]:
        writer.writerow(["return_rate_percent", r.sku, r.percent])
    days_, channels, counts = numbers["per_day"]
    for day in days_:
        for channel in channels:
            writer.writerow(["orders_placed", f"{day} {channel}", counts.get((day, channel), 0)])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="dabba-numbers-{numbers["days"]}d.csv"'},
    )
