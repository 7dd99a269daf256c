"""HTTP routes of the returns service: request a return, the warehouse desk (receive, QC), refund
retries, eligibility rules and analytics (Razorpay's webhooks are in webhooks.py)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, HttpUrl, ValidationError, model_validator

from chassis import text
from chassis.auth import STAFF, Principal, Role, by_signature, require
from chassis.db import Conn
from chassis.http import created, errors, follow
from chassis.logging import get_logger, mask_vpa
from chassis.pages import Cursor, Limit, Page, next_cursor, position
from chassis.refusal import Refusal
from chassis.sealed import Sealer, sealer
from contracts import FieldProblem, OrderStatus, PaymentMethod, ReturnLine, ReturnResolution
from contracts._base import utcnow
from contracts.values import Sku
from services.returns import desk, domain, records, refunds, store
from services.returns.records import Return as ReturnRecord

log = get_logger(__name__)

router = APIRouter(prefix="/returns", tags=["returns"])

_ID_ATTEMPTS = 5
_IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
_VPA = re.compile(r"^[\w.\-]{2,256}@[A-Za-z][A-Za-z0-9]{1,64}$")
OrderId = Annotated[str, Field(min_length=1, max_length=64)]
ReturnId = Annotated[str, Path(min_length=1, max_length=64)]
Category = Annotated[str, Field(min_length=1, max_length=80, examples=["apparel"])]
MAX_LINES = 200
MAX_UNITS = 10_000


class RequestedLine(ReturnLine):
    """A line to send back; an exchange names the SKU to send instead (e.g. the next size)."""

    quantity: int = Field(ge=1, le=MAX_UNITS)
    replacement_sku: Sku | None = None


class RefundTo(BaseModel):
    """Where a COD order's refund goes: a UPI id, a bank account, or store credit."""

    kind: Literal["upi", "bank_account", "store_credit"]
    vpa: str | None = Field(default=None, max_length=330, examples=["asha@okicici"])
    name: str | None = Field(default=None, max_length=200)
    ifsc: str | None = Field(default=None, max_length=11, examples=["HDFC0001234"])
    account_number: str | None = Field(default=None, max_length=18)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "upi" and not (self.vpa and _VPA.match(self.vpa)):
            raise ValueError("a UPI refund needs a vpa like name@bank")
        if self.kind == "bank_account":
            if not self.name or not self.ifsc or not _IFSC.match(self.ifsc):
                raise ValueError("a bank refund needs the holder's name and an 11-character IFSC")
            if not (
                self.account_number and self.account_number.isdigit() and 9 <= len(self.account_number) <= 18
            ):
                raise ValueError("a bank account number has 9 to 18 digits")
        return self


class ReturnRequest(BaseModel):
    """What a customer (or an operator for them) asks to send back."""

    order_id: OrderId
    lines: list[RequestedLine] = Field(min_length=1, max_length=MAX_LINES)
    resolution: ReturnResolution = ReturnResolution.REFUND
    pickup_mode: Literal["reverse_pickup", "drop_off"] = "reverse_pickup"
    refund_to: RefundTo | None = None
    photo_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)


class Receipt(BaseModel):
    """The parcel is at the desk; the warehouse defaults to the one the return was routed to."""

    warehouse_code: str | None = Field(default=None, min_length=1, max_length=32)


class QcLine(BaseModel):
    """The desk's verdict on one line: units that passed and failed, a grade, a note."""

    sku: Sku
    passed: int = Field(ge=0, le=MAX_UNITS)
    failed: int = Field(ge=0, le=MAX_UNITS)
    grade: Literal["A", "B", "C", "D"] = Field(description="A as new, B light wear, C damaged, D unusable.")
    note: str | None = Field(default=None, max_length=500)


class QcReport(BaseModel):
    lines: list[QcLine] = Field(min_length=1, max_length=MAX_LINES)


class CategoryRule(BaseModel):
    window_days: int = Field(ge=0, le=365)


class SkuRuleIn(BaseModel):
    category: Category | None = None
    returnable: bool = True
    product: str | None = Field(
        default=None,
        max_length=100,
        description="The product this SKU is a size or colour of; exchanges stay within it. "
        "Unset: the SKU without its last `-` part.",
    )


def stored_refund_to(refund_to: RefundTo | None, keys: Sealer) -> dict[str, Any] | None:
    """Where a refund goes, as it is stored: a bank account number sealed (encrypted at rest), its
    last four digits kept in clear for answers."""
    if refund_to is None:
        return None
    stored = refund_to.model_dump(exclude_none=True)
    return refunds.sealed_bank_account(stored, keys) if "account_number" in stored else stored


def masked_refund_to(refund_to: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where a refund goes, as every answer shows it: a bank account by its last four digits, a UPI
    id without the person's part (the full values are only ever sent to the gateway)."""
    if not refund_to:
        return refund_to
    shown = {k: v for k, v in refund_to.items() if k not in ("account_number_sealed", "account_last4")}
    last4 = refund_to.get("account_last4") or str(refund_to.get("account_number") or "")[-4:]
    if last4:
        shown["account_number"] = "XXXX" + last4
    if shown.get("vpa"):
        shown["vpa"] = mask_vpa(shown["vpa"])
    return shown


Shown = TypeVar("Shown", bound=records.ReturnView)


def _shown(view: Shown) -> Shown:
    """A return as every answer shows it: where its refund goes masked."""
    return replace(view, refund_to=masked_refund_to(view.refund_to))


class HistoryEntry(BaseModel):
    """One step of a return's timeline."""

    status: str
    actor: str
    note: str | None
    at: datetime


class QcRecord(BaseModel):
    """The desk's verdict on one line, as recorded."""

    sku: str
    passed: int
    failed: int
    grade: str
    note: str | None
    actor: str
    at: datetime


class RefundView(BaseModel):
    """A return's refund: how, how much, and where it stands with the gateway."""

    refund_id: str
    mode: str
    amount_paise: int
    shipping_fee_paise: int
    status: str
    attempt: int
    calls: int
    gateway_refund_id: str | None
    failure_reason: str | None
    processed_at: datetime | None


class Return(BaseModel):
    """A return (RMA), or an RTO parcel received back; refund_to masked."""

    return_id: str
    order_id: str
    status: str
    resolution: str
    lines: list[dict[str, Any]] = Field(description="Each line: sku, quantity, reason, replacement_sku.")
    kind: Literal["return", "rto"]
    pickup_mode: str
    warehouse_code: str | None
    shipment_id: str | None
    pickup_awb: str | None
    refund_to: dict[str, Any] | None
    photo_urls: list[str]
    requested_by: str
    received_at: datetime | None
    qc_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ReturnDetail(Return):
    """A return with its timeline, QC verdicts and refund."""

    timeline: list[HistoryEntry]
    qc: list[QcRecord]
    refund: RefundView | None


class ReturnLink(BaseModel):
    """A signed link for the customer, valid until expires_at."""

    order_id: str
    token: str
    path: str
    expires_at: datetime


class SkuReturnRate(BaseModel):
    """Units of a SKU sold and returned in the window."""

    sku: str
    sold: int
    returned: int
    return_rate: float | None


class SkuReason(BaseModel):
    """Units of a SKU returned for one reason."""

    sku: str
    reason: str
    units: int


class SkuQc(BaseModel):
    """Units of a SKU that passed and failed QC."""

    sku: str
    passed: int
    failed: int
    failure_rate: float | None


class Analytics(BaseModel):
    """Return rate by SKU and reason, time to refund, QC failure rate, over [since, until)."""

    since: datetime
    until: datetime
    return_rate_by_sku: list[SkuReturnRate]
    returns_by_sku_and_reason: list[SkuReason]
    request_to_refund_hours: dict[str, float | None] = Field(
        description="refunded (how many), avg_hours, median_hours, max_hours"
    )
    qc_failure_rate: float | None
    qc_by_sku: list[SkuQc]
    rto_parcels: int


class CategoryWindow(BaseModel):
    """A category's return window."""

    category: str
    window_days: int


class SkuRule(BaseModel):
    """A SKU's return rule."""

    sku: str
    category: str | None
    returnable: bool
    product: str | None


@router.post(
    "",
    status_code=201,
    summary="Request a return of a delivered order",
    response_model=Return,
    responses={
        **errors(409),
        201: created(
            "The return, approved",
            GetReturn=follow("GET", "/returns/{return_id}", return_id="$response.body#/return_id"),
            Receive=follow("POST", "/returns/{return_id}/receive", return_id="$response.body#/return_id"),
            Inspect=follow("POST", "/returns/{return_id}/qc", return_id="$response.body#/return_id"),
        ),
    },
)
async def request_return(
    request: Request, body: ReturnRequest, principal: Principal = require(Role.OPS)
) -> Any:
    return await _open(request, body, actor=principal.actor)


class LinkRequest(BaseModel):
    order_id: OrderId


class CustomerReturnRequest(BaseModel):
    """What the customer fills in behind their return link (the link names the order)."""

    lines: list[RequestedLine] = Field(min_length=1, max_length=MAX_LINES)
    resolution: ReturnResolution = ReturnResolution.REFUND
    pickup_mode: Literal["reverse_pickup", "drop_off"] = "reverse_pickup"
    refund_to: RefundTo | None = None
    photo_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)


def _link_signature(secret: str, order_id: str, expires: int) -> str:
    # "return-link:" keeps the signature single-purpose: no other token of ours verifies as one.
    message = f"return-link:{order_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def link_token(secret: str, order_id: str, *, expires: datetime) -> str:
    """`<order_id>.<expiry, epoch seconds>.<signature>`: the order and the expiry are signed."""
    stamp = int(expires.timestamp())
    return f"{order_id}.{stamp}.{_link_signature(secret, order_id, stamp)}"


@dataclass(frozen=True, slots=True)
class Link:
    """A return link we signed: the order it is for, until when, and its signature (its identity)."""

    order_id: str
    expires_at: datetime
    signature: str


def signed_link(secret: str, token: str) -> Link | None:
    """The link a token is if we signed it, expired or not; None when forged or malformed."""
    rest, _, signature = token.rpartition(".")
    order_id, _, stamp = rest.rpartition(".")
    if not order_id or not stamp.isdigit() or len(stamp) > 12 or not signature.isascii():
        return None
    if not hmac.compare_digest(_link_signature(secret, order_id, int(stamp)), signature):
        return None
    return Link(order_id, datetime.fromtimestamp(int(stamp), UTC), signature)


def link_order(secret: str, token: str, *, now: datetime) -> str | None:
    """The order a link token names, or None when it is forged, malformed or expired."""
    link = signed_link(secret, token)
    return link.order_id if link is not None and now < link.expires_at else None


@router.post(
    "/links",
    summary="A link the customer opens to request a return of one order",
    response_model=ReturnLink,
    responses={
        200: created(
            "The link",
            UseLink=follow("POST", "/returns/by-link/{token}", token="$response.body#/token"),
        )
    },
)
async def create_link(
    request: Request, body: LinkRequest, _: Principal = require(Role.OPS)
) -> dict[str, str]:
    settings = request.app.state.service.settings
    expires = utcnow() + timedelta(days=settings.return_link_ttl_days)
    token = link_token(settings.return_link_secret, body.order_id, expires=expires)
    return {
        "order_id": body.order_id,
        "token": token,
        "path": f"/returns/by-link/{token}",
        "expires_at": expires.isoformat(),
    }


class RevokedLink(BaseModel):
    """A return link that is refused from now on."""

    order_id: str
    expires_at: datetime
    revoked: bool


class LinkRevocation(BaseModel):
    token: str = Field(min_length=3, max_length=200, pattern=r"^[\x21-\x7e]+$")


@router.post(
    "/links/revoke",
    summary="Revoke a return link: from now on it is refused",
    description="For a link sent to the wrong number or no longer wanted. Only that link stops "
    "working; a new one can be made for the same order.",
    response_model=RevokedLink,
)
async def revoke_link(
    request: Request, body: LinkRevocation, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    service = request.app.state.service
    link = signed_link(service.settings.return_link_secret, body.token)
    if link is None:
        raise Refusal("token", "this is not a return link of ours")
    async with service.pool.acquire() as conn:
        await store.revoke_link(
            conn,
            signature=link.signature,
            order_id=link.order_id,
            expires_at=link.expires_at,
            revoked_at=utcnow(),
            revoked_by=principal.actor,
        )
    log.info("return link revoked", order_id=link.order_id, actor=principal.actor)
    return {"order_id": link.order_id, "expires_at": link.expires_at.isoformat(), "revoked": True}


def _documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself; the models it refers to are
    components already (POST /returns uses them)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _customer_request(raw: bytes) -> CustomerReturnRequest:
    """The body behind a verified link, refused with every problem like any other request body."""
    try:
        parsed = text.parsed(raw)
    except text.MalformedJson as exc:
        raise Refusal("body", str(exc)) from None
    if problems := text.json_problems(parsed):
        raise Refusal.of(problems)
    try:
        return CustomerReturnRequest.model_validate(parsed)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


async def _link_signed(request: Request) -> str:
    """The order a return link was signed for, while it has not expired; 401 otherwise. Reads
    nothing of the body."""
    secret = request.app.state.service.settings.return_link_secret
    order_id = link_order(secret, str(request.path_params.get("token", "")), now=utcnow())
    if order_id is None:
        raise Refusal("token", "this return link is not valid", status=401, error="unauthorized")
    return order_id


@router.post(
    "/by-link/{token}",
    status_code=201,
    summary="The customer requests a return through their link",
    description="The link's token is checked before the body is read: a forged or expired link is "
    "refused (401) without parsing anything.",
    openapi_extra=_documented_body(CustomerReturnRequest),
    response_model=Return,
)
async def request_return_by_link(
    request: Request,
    token: Annotated[str, Path(min_length=3, max_length=200, pattern=r"^[\x21-\x7e]+$")],
    order_id: Annotated[str, by_signature("return-link", _link_signed)],
) -> Any:
    service = request.app.state.service
    body = _customer_request(await request.body())
    # Revocation is looked up after the (bounded) body: the token is one we signed, so reading
    # its body costs nothing a forger can multiply, and a bad body is refused without a query.
    async with service.pool.acquire() as conn:
        revoked = await store.link_revoked(conn, token.rpartition(".")[2])
    if revoked:
        raise Refusal("token", "this return link was revoked", status=401, error="unauthorized")
    return await _open(request, ReturnRequest(order_id=order_id, **body.model_dump()), actor="customer")


def _skus_named(lines: list[RequestedLine]) -> list[str]:
    return sorted(
        {line.sku for line in lines} | {line.replacement_sku for line in lines if line.replacement_sku}
    )


async def _open(request: Request, body: ReturnRequest, *, actor: str) -> Any:
    """Check eligibility and open the return, or refuse with every reason and write nothing."""
    service = request.app.state.service
    settings = service.settings
    async with service.pool.acquire() as conn, conn.transaction():
        status = await store.lock_order_status(conn, body.order_id)
        order = await store.get_order(conn, body.order_id)
        delivered_at = status.delivered_at if status else None
        order_status = OrderStatus(status.status) if status else None
        lines = [ReturnLine.model_validate(line.model_dump()) for line in body.lines]
        ordered: dict[str, int] = {}
        for line in order["lines"] if order else []:
            ordered[line["sku"]] = ordered.get(line["sku"], 0) + line["quantity"]
        delivered = ordered
        if delivered_at is not None:
            order_status = OrderStatus.DELIVERED  # later statuses (RETURN_REQUESTED…) were delivered first
        else:
            # A split order: the parcels that have arrived can come back while the rest travel.
            arrived, last_arrival = await store.delivered_so_far(conn, body.order_id)
            if arrived:
                order_status, delivered, delivered_at = OrderStatus.PARTIALLY_DELIVERED, arrived, last_arrival
        problems = domain.eligibility_problems(
            order_id=body.order_id,
            order_status=order_status,
            delivered_at=delivered_at or (status.updated_at if status else None),
            now=utcnow(),
            window_days=settings.return_window_days,
            lines=lines,
            already_requested=await store.skus_in_returns(
                conn, order_id=body.order_id, statuses=domain.OPEN_STATUSES
            ),
            delivered=delivered if order else None,
            returned=await store.units_returned(conn, body.order_id),
            rules=(rules := await store.sku_rules(conn, _skus_named(body.lines))),
            ordered=ordered if order else None,
        )
        problems += domain.exchange_problems([(line.sku, line.replacement_sku) for line in body.lines], rules)
        if order is None and order_status in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED):
            problems.append(
                FieldProblem(field="order_id", problem=f"order {body.order_id}'s lines are not known yet")
            )
        if order is not None:
            problems += domain.request_problems(
                resolution=body.resolution,
                replacements=[line.replacement_sku for line in body.lines],
                payment_method=PaymentMethod(order["payment"]["method"]),
                has_refund_to=body.refund_to is not None,
            )
        if problems:
            raise Refusal.of(problems, error="not eligible for return")
        assert order is not None
        stored = [line.model_dump(mode="json", exclude_none=True) for line in body.lines]
        for _ in range(_ID_ATTEMPTS):
            row = await desk.approve(
                conn,
                lambda event: service.emit(conn, event),
                return_id=domain.new_return_id(),
                order=order,
                lines=stored,
                resolution=body.resolution,
                pickup_mode=body.pickup_mode,
                refund_to=stored_refund_to(body.refund_to, sealer(settings.refund_bank_key)),
                photo_urls=[str(u) for u in body.photo_urls],
                actor=actor,
            )
            if row is not None:
                break
        else:
            raise Refusal("return_id", "could not allocate a return id; try again", status=503)
        opened = await store.get_return(conn, row.return_id)
    assert opened is not None
    return _shown(opened)


@router.get(
    "",
    summary="Returns, newest first, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Return],
)
async def list_returns(
    request: Request,
    order_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    rows = await store.list_returns(
        request.app.state.service.pool, order_id=order_id, status=status, before=position(cursor), limit=limit
    )
    return {
        "items": [_shown(r) for r in rows],
        "next_cursor": next_cursor(rows, limit, lambda r: (r.created_at, r.return_id)),
    }


@router.get(
    "/analytics",
    summary="Return rate by SKU and reason, time to refund, QC failure rate",
    dependencies=[require(*STAFF)],
    response_model=Analytics,
)
async def analytics(
    request: Request, days: Annotated[int, Query(ge=1, le=3650, description="The last N days.")] = 30
) -> dict[str, Any]:
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    data = await store.analytics(request.app.state.service.pool, since=since, until=until)
    for row in data["by_sku"]:
        row["return_rate"] = round(row["returned"] / row["sold"], 4) if row["sold"] else None
    for row in data["qc"]:
        inspected = row["passed"] + row["failed"]
        row["failure_rate"] = round(row["failed"] / inspected, 4) if inspected else None
    overall = next((r for r in data["qc"] if r["sku"] is None), None)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "return_rate_by_sku": data["by_sku"],
        "returns_by_sku_and_reason": data["by_reason"],
        "request_to_refund_hours": {
            k: float(v) if v is not None else None for k, v in data["timing"].items()
        },
        "qc_failure_rate": overall["failure_rate"] if overall else None,
        "qc_by_sku": [r for r in data["qc"] if r["sku"] is not None],
        "rto_parcels": data["rto_parcels"],
    }


@router.get(
    "/{return_id}",
    summary="One return with its timeline, QC and refund",
    dependencies=[require(*STAFF)],
    response_model=ReturnDetail,
    responses=errors(404),
)
async def get_return(request: Request, return_id: ReturnId) -> records.ReturnDetail:
    found = await store.return_detail(request.app.state.service.pool, return_id)
    if found is None:
        raise Refusal("return_id", f"no return {return_id}", status=404)
    return _shown(found)


async def _locked(conn: Conn, return_id: str) -> ReturnRecord:
    ret = await store.lock_return(conn, return_id)
    if ret is None:
        raise Refusal("return_id", f"no return {return_id}", status=404)
    return ret


@router.post(
    "/{return_id}/receive",
    summary="The parcel is at the warehouse desk",
    response_model=ReturnDetail,
    responses=errors(404, 409),
)
async def receive(
    request: Request,
    return_id: ReturnId,
    body: Receipt | None = None,
    principal: Principal = require(Role.WAREHOUSE, Role.OPS),
) -> records.ReturnDetail:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        ret = await _locked(conn, return_id)
        await desk.receive(
            conn,
            lambda e: service.emit(conn, e),
            ret=ret,
            warehouse_code=body.warehouse_code if body else None,
            actor=principal.actor,
        )
    return await get_return(request, return_id)


@router.post(
    "/{return_id}/qc",
    summary="QC verdict per line: restock, quarantine, then refund or exchange",
    response_model=ReturnDetail,
    responses=errors(404, 409),
)
async def quality_check(
    request: Request,
    return_id: ReturnId,
    body: QcReport,
    principal: Principal = require(Role.WAREHOUSE, Role.OPS),
) -> records.ReturnDetail:
    service = request.app.state.service
    verdicts = [
        domain.QcVerdict(
            sku=line.sku, passed=line.passed, failed=line.failed, grade=line.grade, note=line.note
        )
        for line in body.lines
    ]
    async with service.pool.acquire() as conn, conn.transaction():
        ret = await _locked(conn, return_id)
        problems = desk.verdict_problems(list(ret.lines), verdicts)
        if problems:
            raise Refusal.of(problems, error="QC does not match the parcel")
        await desk.inspect(
            conn,
            lambda e: service.emit(conn, e),
            ret=ret,
            verdicts=verdicts,
            actor=principal.actor,
            settings=service.settings,
        )
    return await get_return(request, return_id)


@router.post(
    "/{return_id}/refund/retry",
    summary="Retry a refund the gateway finally refused",
    response_model=ReturnDetail,
    responses=errors(404, 409),
)
async def retry_refund(
    request: Request, return_id: ReturnId, principal: Principal = require(Role.OPS)
) -> records.ReturnDetail:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        refund = await store.lock_refund_of_return(conn, return_id)
        if refund is None:
            raise Refusal("return_id", f"return {return_id} has no refund", status=404)
        if refund.status != "failed":
            raise Refusal(
                "return_id",
                f"refund {refund.refund_id} is {refund.status}; only a failed one is retried",
                status=409,
            )
        await store.update_refund(
            conn,
            refund.refund_id,
            status="pending",
            attempt=refund.attempt + 1,
            failure_reason=None,
            lease_until=None,
            gateway_refund_id=None,
        )
        await store.add_history(
            conn,
            return_id=return_id,
            status=desk.R.REFUND_PENDING,
            actor=principal.actor,
            note=f"refund retried (attempt {refund.attempt + 1})",
        )
    return await get_return(request, return_id)


@router.put(
    "/rules/categories/{category}",
    summary="A category's return window in days",
    response_model=CategoryWindow,
)
async def put_category(
    request: Request,
    category: Annotated[str, Path(min_length=1, max_length=80)],
    body: CategoryRule,
    _: Principal = require(Role.OPS),
) -> dict[str, Any]:
    async with request.app.state.service.pool.acquire() as conn:
        await store.put_category(conn, category=category, window_days=body.window_days)
    return {"category": category, "window_days": body.window_days}


@router.put(
    "/rules/skus/{sku}",
    summary="Put a SKU in a category, or mark it non-returnable",
    response_model=SkuRule,
)
async def put_sku_rule(
    request: Request,
    sku: Annotated[str, Path(min_length=1, max_length=64)],
    body: SkuRuleIn,
    _: Principal = require(Role.OPS),
) -> dict[str, Any]:
    async with request.app.state.service.pool.acquire() as conn:
        if body.category is not None and not await store.category_exists(conn, body.category):
            raise Refusal(
                "category",
                f"no category {body.category}; PUT /returns/rules/categories/{body.category} first",
            )
        await store.put_sku_rule(
            conn, sku=sku, category=body.category, returnable=body.returnable, product=body.product
        )
    return {"sku": sku, "category": body.category, "returnable": body.returnable, "product": body.product}
