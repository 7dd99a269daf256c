"""A Flipkart seller on the Marketplace Seller API v3: client-credentials tokens (expired on request),
POST /sellers/v3/shipments/filter by modified date with nextPageUrl pages, shipment details, listing
inventory updates (10 SKUs a call, a status per SKU) and details, the pack (label) call with the
seller's invoice and tax rates (refused as Flipkart documents without them; an Ekart AWB on the
shipment's details once taken), ready-to-dispatch and self-ship dispatch. Every operation is behind
a usage plan (429 past it, like the adapter's assumed RATES) and every call is counted for tests to
assert on.

Control under /_sandbox/flipkart/{seller}: set the catalogue up, place an order (COD, self-ship, on
hold, late-arriving: last updated in the past), cancel it (buyer, marketplace or seller), move it on
after dispatch (collected by Flipkart's courier, shipped, delivered), lift a hold, expire every
token, hold a page of the filter until released, read the state.
"""

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from pydantic import BaseModel, Field

from sandbox.errors import ProviderError
from sandbox.marketplace import PageHold, add_seller_controls
from sandbox.store_webhooks import Buyer, LineIn, ProductIn
from sandbox.usage_plans import UsagePlans

RATES = {
    "shipments/filter": (1.0, 5),
    "shipments/details": (1.0, 5),
    "listings/update/inventory": (1.0, 3),
    "listings/details": (1.0, 3),
    "shipments/dispatch": (1.0, 5),
    "shipments/labels": (1.0, 5),
}

PRE_DISPATCH = {"APPROVED", "PACKING_IN_PROGRESS", "PACKED", "FORM_FAILED", "READY_TO_DISPATCH"}
POST_DISPATCH = {"PICKUP_COMPLETE", "SHIPPED", "DELIVERED"}


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _error(status: int, code: str, message: str) -> ProviderError:
    return ProviderError(status, {"errors": [{"errorCode": code, "message": message}]})


@dataclass
class Seller:
    """One Flipkart seller: listings, shipments, tokens, buckets and the calls it answered."""

    name: str
    location_id: str = "LOC0000000000000000000000000001"
    stock: dict[str, int] = field(default_factory=dict)
    prices: dict[str, int] = field(default_factory=dict)
    product_ids: dict[str, str] = field(default_factory=dict)
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)
    self_ship: set[str] = field(default_factory=set)
    cancellation_types: dict[str, str] = field(default_factory=dict)
    dispatched: list[dict[str, Any]] = field(default_factory=list)
    packed: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    plans: UsagePlans = field(default_factory=lambda: UsagePlans(RATES))
    page_size_cap: int = 20
    next_pages_used: int = 0
    pages: PageHold = field(default_factory=PageHold)
    refused_skus: set[str] = field(default_factory=set)
    inventory_batches: list[list[str]] = field(default_factory=list)

    def take(self, operation: str) -> None:
        """Spend one request of the operation's plan, or answer 429."""
        if not self.plans.spend(operation):
            raise _error(429, "TOO_MANY_REQUESTS", "Request rate exceeded")


@dataclass
class FlipkartState:
    sellers: dict[str, Seller] = field(default_factory=dict)
    next_order: int = 7_000_000

    def seller(self, name: str) -> Seller:
        if name not in self.sellers:
            self.sellers[name] = Seller(name=name)
        return self.sellers[name]

    def new_ids(self) -> tuple[str, str]:
        self.next_order += 1
        n = self.next_order
        return (
            f"OD4{n:015d}",
            f"{secrets.token_hex(4)}-{n:04x}-4{n % 1000:03d}-a{n % 999:03d}-{secrets.token_hex(6)}",
        )


async def get_flipkart(request: Request) -> FlipkartState:
    state: FlipkartState = request.app.state.flipkart
    return state


Flipkart = Annotated[FlipkartState, Depends(get_flipkart)]
control = APIRouter(prefix="/_sandbox/flipkart", tags=["sandbox: flipkart"])
router = APIRouter(prefix="/flipkart/{seller}", tags=["flipkart seller api"])


class SellerSetup(BaseModel):
    products: list[ProductIn] = Field(default_factory=list)
    page_size_cap: int = Field(default=20, ge=1, le=20, description="The most shipments a filter page holds.")
    refused_skus: list[str] = Field(
        default_factory=list, description="SKUs the inventory update answers FAILURE."
    )


class PlaceFlipkartOrder(BaseModel):
    buyer: Buyer = Field(default_factory=Buyer)
    lines: list[LineIn] = Field(min_length=1)
    cod: bool = False
    self_ship: bool = False
    hold: bool = False
    updated_seconds_ago: float = Field(
        default=0, ge=0, description="A late-arriving order: last updated this long ago."
    )


class Progress(BaseModel):
    state: Literal["PICKUP_COMPLETE", "SHIPPED", "DELIVERED"]
    updated_seconds_ago: float = Field(default=0, ge=0, description="When it happened: this long ago.")


class Cancel(BaseModel):
    by: Literal["buyerCancellation", "marketplaceCancellation", "sellerCancellation"] = "buyerCancellation"
    reason: str = "order_cancelled_by_buyer"


@control.put("/{seller}")
async def setup(seller: str, body: SellerSetup, state: Flipkart) -> dict[str, Any]:
    account = state.seller(seller)
    for product in body.products:
        account.stock[product.sku] = product.available
        account.prices[product.sku] = product.price_paise
        account.product_ids.setdefault(product.sku, f"TEAF{secrets.token_hex(6).upper()}")
    account.page_size_cap = body.page_size_cap
    account.refused_skus = set(body.refused_skus)
    return {"location_id": account.location_id, "product_ids": account.product_ids}


@control.get("/{seller}")
async def inspect(seller: str, state: Flipkart) -> dict[str, Any]:
    account = state.seller(seller)
    return {
        "stock": account.stock,
        "shipments": {
            sid: {"status": s["orderItems"][0]["status"], "updatedAt": s["updatedAt"], "hold": s["hold"]}
            for sid, s in account.shipments.items()
        },
        "dispatched": account.dispatched,
        "packed": account.packed,
        "tokens_issued": account.tokens_issued,
        "calls": account.plans.calls,
        "throttled": account.plans.throttled,
        "next_pages_used": account.next_pages_used,
        "pages_served": account.pages.served,
        "inventory_batches": account.inventory_batches,
        "holding": account.pages.holding,
    }


@control.post("/{seller}/orders")
async def place(seller: str, body: PlaceFlipkartOrder, state: Flipkart) -> dict[str, Any]:
    account = state.seller(seller)
    order_id, shipment_id = state.new_ids()
    updated = datetime.now(UTC) - timedelta(seconds=body.updated_seconds_ago)
    items = []
    for i, line in enumerate(body.lines):
        if line.sku not in account.prices:
            raise HTTPException(422, detail=f"the seller does not list {line.sku}")
        price = account.prices[line.sku] * line.quantity / 100
        items.append(
            {
                "orderItemId": f"{order_id[2:]}{i:02d}",
                "orderId": order_id,
                "cancellationGroupId": f"grp{order_id[2:]}",
                "orderDate": _stamp(updated),
                "paymentType": "COD" if body.cod else "PREPAID",
                "status": "APPROVED",
                "quantity": line.quantity,
                "fsn": account.product_ids[line.sku],
                "sku": line.sku,
                "listingId": f"LST{account.product_ids[line.sku]}",
                "title": line.sku,
                "priceComponents": {
                    "sellingPrice": price,
                    "totalPrice": price,
                    "shippingCharge": 0.0,
                    "customerPrice": price,
                    "flipkartDiscount": 0.0,
                },
                "serviceProfile": "NON_FBF",
                "is_replacement": False,
            }
        )
    account.shipments[shipment_id] = {
        "shipmentId": shipment_id,
        "dispatchByDate": _stamp(updated + timedelta(days=2)),
        "dispatchAfterDate": _stamp(updated),
        "updatedAt": _stamp(updated),
        "locationId": account.location_id,
        "hold": body.hold,
        "mps": False,
        "packagingPolicy": "DEFAULT",
        "subShipments": [],
        "orderItems": items,
    }
    b = body.buyer
    first, _, last = b.name.partition(" ")
    account.addresses[shipment_id] = {
        "firstName": first,
        "lastName": last,
        "addressLine1": b.line1,
        "addressLine2": b.line2 or "",
        "landmark": "",
        "city": b.city,
        "state": b.state,
        "stateCode": f"IN-{b.state_code}",
        "pincode": b.pincode,
        # GetShipmentDetails lists deliveryAddress.contactNumber without a condition (it names only
        # the buyer's own number and email as self-ship only): every shipment here carries it.
        "contactNumber": b.phone,
    }
    if body.self_ship:
        account.self_ship.add(shipment_id)
    return {"shipment_id": shipment_id, "order_id": order_id, "shipment": account.shipments[shipment_id]}


def _shipment(account: Seller, shipment_id: str) -> dict[str, Any]:
    shipment = account.shipments.get(shipment_id)
    if shipment is None:
        raise HTTPException(404, detail=f"no shipment {shipment_id}")
    return shipment


@control.post("/{seller}/orders/{shipment_id}/cancel")
async def cancel(seller: str, shipment_id: str, body: Cancel, state: Flipkart) -> dict[str, Any]:
    account = state.seller(seller)
    shipment = _shipment(account, shipment_id)
    now = _stamp(datetime.now(UTC))
    for item in shipment["orderItems"]:
        item.update(status="CANCELLED", cancellationDate=now, cancellationReason=body.reason)
    shipment["updatedAt"] = now
    account.cancellation_types[shipment_id] = body.by
    return {"shipment_id": shipment_id, "shipment": shipment}


@control.post("/{seller}/orders/{shipment_id}/progress")
async def progress(seller: str, shipment_id: str, body: Progress, state: Flipkart) -> dict[str, Any]:
    """After dispatch: Flipkart's courier collected the parcel, it shipped, or it was delivered."""
    account = state.seller(seller)
    shipment = _shipment(account, shipment_id)
    for item in shipment["orderItems"]:
        item["status"] = body.state
    shipment["updatedAt"] = _stamp(datetime.now(UTC) - timedelta(seconds=body.updated_seconds_ago))
    return {"shipment_id": shipment_id, "shipment": shipment}


@control.post("/{seller}/orders/{shipment_id}/release-hold")
async def release_hold(seller: str, shipment_id: str, state: Flipkart) -> dict[str, Any]:
    account = state.seller(seller)
    shipment = _shipment(account, shipment_id)
    shipment["hold"] = False
    shipment["updatedAt"] = _stamp(datetime.now(UTC))
    return {"shipment_id": shipment_id, "shipment": shipment}


add_seller_controls(control, lambda request, name: request.app.state.flipkart.seller(name), "the filter")


# --- OAuth ----------------------------------------------------------------------------------------


@router.get("/oauth-service/oauth/token")
async def token(
    seller: str,
    state: Flipkart,
    grant_type: str = "",
    scope: str = "",
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        app_id, _, app_secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        app_id = app_secret = ""
    if scheme.lower() != "basic" or not app_id or not app_secret:
        raise ProviderError(401, {"error": "unauthorized", "error_description": "Bad credentials"})
    if grant_type != "client_credentials":
        raise ProviderError(400, {"error": "invalid_request", "error_description": "grant_type"})
    account = state.seller(seller)
    value = secrets.token_hex(16)
    account.tokens.add(value)
    account.tokens_issued += 1
    return {
        "access_token": value,
        "token_type": "bearer",
        "expires_in": 5183999,
        "scope": scope or "Seller_Api",
    }


Authorization = Annotated[str | None, Header()]


def _calling(operation: str) -> Any:
    """A route's dependency: the seller whose bearer token calls, once a request of the operation's
    plan is spent (401 for a token it did not issue, 429 past the plan)."""

    async def caller(seller: str, state: Flipkart, authorization: Authorization = None) -> Seller:
        account = state.seller(seller)
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or value not in account.tokens:
            raise ProviderError(401, {"error": "invalid_token", "error_description": "Invalid access token"})
        account.take(operation)
        return account

    return Depends(caller)


# --- Orders: shipments ----------------------------------------------------------------------------


def _matches(account: Seller, shipment: dict[str, Any], criteria: dict[str, Any]) -> bool:
    status = shipment["orderItems"][0]["status"]
    kind = criteria.get("type")
    if kind == "preDispatch":
        wanted_hold = bool(criteria.get("hold", False))
        types = set(criteria.get("shipmentTypes") or ["NORMAL", "EXPRESS", "SELF"])
        own = "SELF" if shipment["shipmentId"] in account.self_ship else "NORMAL"
        states = set(criteria.get("states") or PRE_DISPATCH)
        return status in states and shipment["hold"] == wanted_hold and own in types
    if kind == "postDispatch":
        types = set(criteria.get("shipmentTypes") or ["NORMAL", "EXPRESS", "SELF"])
        own = "SELF" if shipment["shipmentId"] in account.self_ship else "NORMAL"
        return status in set(criteria.get("states") or POST_DISPATCH) and own in types
    if kind == "cancelled":
        return status == "CANCELLED" and account.cancellation_types.get(
            shipment["shipmentId"]
        ) == criteria.get("cancellationType")
    return False


async def _page(account: Seller, criteria: dict[str, Any], offset: int, size: int) -> dict[str, Any]:
    window = criteria.get("modifiedDate") or {}
    start = _parse(window["from"]) if window.get("from") else datetime.min.replace(tzinfo=UTC)
    end = _parse(window["to"]) if window.get("to") else datetime.now(UTC)
    changed = sorted(
        (
            s
            for s in account.shipments.values()
            if start < _parse(s["updatedAt"]) <= end and _matches(account, s, criteria)
        ),
        key=lambda s: (s["updatedAt"], s["shipmentId"]),
    )
    page = changed[offset : offset + size]
    await account.pages.serve()
    more = offset + size < len(changed)
    answer: dict[str, Any] = {"hasMore": more, "shipments": page}
    if more:
        token = base64.urlsafe_b64encode(json.dumps({"f": criteria, "o": offset + size, "s": size}).encode())
        answer["nextPageUrl"] = f"/v3/shipments/filter?next_token={token.decode()}"
    return answer


@router.post("/sellers/v3/shipments/filter")
async def filter_shipments(
    request: Request, account: Annotated[Seller, _calling("shipments/filter")]
) -> dict[str, Any]:
    body = await request.json()
    criteria = body.get("filter") or {}
    if criteria.get("type") not in ("preDispatch", "postDispatch", "cancelled"):
        raise _error(400, "INVALID_REQUEST", "filter.type must be preDispatch, postDispatch or cancelled")
    if criteria.get("type") == "cancelled" and not criteria.get("cancellationType"):
        raise _error(400, "INVALID_REQUEST", "filter.cancellationType is mandatory for type cancelled")
    size = min(int((body.get("pagination") or {}).get("pageSize") or 20), account.page_size_cap)
    return await _page(account, criteria, 0, size)


@router.get("/sellers/v3/shipments/filter")
async def next_shipments(
    account: Annotated[Seller, _calling("shipments/filter")], next_token: str = ""
) -> dict[str, Any]:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(next_token))
    except ValueError:
        raise _error(400, "INVALID_REQUEST", "invalid next_token") from None
    account.next_pages_used += 1
    return await _page(account, cursor["f"], cursor["o"], cursor["s"])


@router.get("/sellers/v3/shipments")
async def shipments_by_id(
    account: Annotated[Seller, _calling("shipments/details")], shipmentIds: str = ""
) -> dict[str, Any]:
    ids = [i for i in shipmentIds.split(",") if i]
    return {"shipments": [account.shipments[i] for i in ids if i in account.shipments]}


@router.get("/sellers/v3/shipments/{shipment_ids}")
async def shipment_details(
    shipment_ids: str, account: Annotated[Seller, _calling("shipments/details")]
) -> dict[str, Any]:
    ids = shipment_ids.split(",")
    if len(ids) > 25:
        raise _error(400, "INVALID_REQUEST", "at most 25 shipmentIds")
    return {
        "shipments": [
            {
                "orderId": account.shipments[i]["orderItems"][0]["orderId"],
                "shipmentId": i,
                "locationId": account.location_id,
                "deliveryAddress": account.addresses[i],
                "billingAddress": account.addresses[i],
                "buyerDetails": {
                    "firstName": account.addresses[i]["firstName"],
                    "lastName": account.addresses[i]["lastName"],
                },
                "subShipments": account.shipments[i]["subShipments"],
            }
            for i in ids
            if i in account.shipments
        ]
    }


def _dispatch(account: Seller, shipment_id: str, record: dict[str, Any]) -> dict[str, Any]:
    shipment = account.shipments.get(shipment_id)
    if shipment is None:
        return {"shipmentId": shipment_id, "processingStatus": "FAILURE", "errorCode": "INVALID_SHIPMENT_ID"}
    if shipment["orderItems"][0]["status"] == "CANCELLED":
        return {
            "shipmentId": shipment_id,
            "processingStatus": "FAILURE",
            "errorCode": "ORDER_ITEM_ALREADY_CANCELLED",
        }
    for item in shipment["orderItems"]:
        item["status"] = record["status"]
    shipment["updatedAt"] = _stamp(datetime.now(UTC))
    if not any(d["shipmentId"] == shipment_id for d in account.dispatched):
        account.dispatched.append({"shipmentId": shipment_id, **record})
    return {"shipmentId": shipment_id, "processingStatus": "SUCCESS"}


@router.post("/sellers/v3/shipments/dispatch")
async def ready_to_dispatch(
    request: Request, account: Annotated[Seller, _calling("shipments/dispatch")]
) -> dict[str, Any]:
    body = await request.json()
    if not body.get("shipmentIds") or not body.get("locationId"):
        raise _error(400, "INVALID_REQUEST", "shipmentIds and locationId are mandatory")
    results = []
    for sid in body["shipmentIds"]:
        if sid in account.self_ship:
            results.append(
                {"shipmentId": sid, "processingStatus": "FAILURE", "errorCode": "SELF_SHIP_SHIPMENT"}
            )
        else:
            results.append(_dispatch(account, sid, {"status": "READY_TO_DISPATCH", "kind": "rtd"}))
    return {"shipments": results}


def _pack_problem(account: Seller, entry: dict[str, Any]) -> tuple[str, str] | None:
    """Why Flipkart refuses one shipment of a pack call (error code, message), or None. The rules of
    PackShipment: a location, every order item's tax rate (0 to 100) and quantity, an invoice date
    per order; the v2 label API's codes for the tax (INVALID_REQUEST_TAX) and the state."""
    sid = str(entry.get("shipmentId"))
    shipment = account.shipments.get(sid)
    if shipment is None:
        return "INVALID_SHIPMENT_ID", f"no shipment {sid}"
    if sid in account.self_ship:
        return "SELF_SHIP_SHIPMENT", "a self-ship shipment is not packed through Flipkart's label"
    if any(i["status"] != "APPROVED" for i in shipment["orderItems"]):
        return "INVALID_ITEM_STATE", "order item is not ready to be packed"
    if entry.get("locationId") != account.location_id:
        return "UNPROCESSABLE_ENTITY", "locationId is mandatory and must be the seller's dispatch location"
    taxed = {str(t.get("orderItemId")): t for t in entry.get("taxItems") or []}
    for item in shipment["orderItems"]:
        tax = taxed.get(item["orderItemId"])
        if tax is None:
            return "UNPROCESSABLE_ENTITY", f"taxItems: orderItemId {item['orderItemId']} is missing"
        rate = tax.get("taxRate")
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 100:
            return "INVALID_REQUEST_TAX", f"taxItems.taxRate of {item['orderItemId']} must be 0 to 100"
        if tax.get("quantity") != item["quantity"]:
            return (
                "UNPROCESSABLE_ENTITY",
                f"taxItems.quantity of {item['orderItemId']} must be {item['quantity']}",
            )
    invoiced = {str(i.get("orderId")): i for i in entry.get("invoices") or []}
    for order_id in {i["orderId"] for i in shipment["orderItems"]}:
        invoice = invoiced.get(order_id)
        if invoice is None or not invoice.get("invoiceDate"):
            return "UNPROCESSABLE_ENTITY", f"invoices: invoiceDate of order {order_id} is mandatory"
        try:
            _parse(str(invoice["invoiceDate"]))
        except ValueError:
            return "INVALID_REQUEST_DATE_FORMAT", "invoices.invoiceDate is not an ISO date"
    return None


@router.post("/sellers/v3/shipments/labels")
async def pack(request: Request, account: Annotated[Seller, _calling("shipments/labels")]) -> dict[str, Any]:
    body = await request.json()
    entries = body.get("shipments") if isinstance(body, dict) else None
    if not entries or len(entries) > 25:
        raise _error(400, "INVALID_REQUEST", "shipments: 1 to 25 a request")
    results = []
    for entry in entries:
        sid = str(entry.get("shipmentId"))
        problem = _pack_problem(account, entry)
        if problem is not None:
            code, message = problem
            results.append(
                {"shipmentId": sid, "status": "FAILURE", "errorCode": code, "errorMessage": message}
            )
            continue
        shipment = account.shipments[sid]
        for item in shipment["orderItems"]:
            item["status"] = "PACKED"
        awb = f"FMPC{secrets.randbelow(10**10):010d}"
        details = {"vendorName": "Ekart Logistics", "trackingId": awb}
        shipment["subShipments"] = [
            {
                "subShipmentId": f"{sid}-1",
                "courierDetails": {"pickupDetails": details, "deliveryDetails": details},
            }
        ]
        shipment["updatedAt"] = _stamp(datetime.now(UTC))
        account.packed.append({"shipmentId": sid, "awb": awb, "request": entry})
        results.append({"shipmentId": sid, "status": "SUCCESS"})
    return {"shipments": results}


@router.post("/sellers/v3/shipments/{shipment_ids}/labelOnly/pdf")
async def label_pdf(
    shipment_ids: str, account: Annotated[Seller, _calling("shipments/labels")], reprint: bool = False
) -> Response:
    ids = shipment_ids.split(",")
    if len(ids) > 50 or any(i not in account.shipments for i in ids):
        raise _error(400, "INVALID_SHIPMENTS", "Invalid shipment Ids passed")
    awbs = []
    for i in ids:
        subs = account.shipments[i]["subShipments"]
        if not subs:
            raise _error(400, "INVALID_SHIPMENTS", f"no label for shipment {i}: not packed")
        awbs.append(subs[0]["courierDetails"]["deliveryDetails"]["trackingId"])
    text = " ".join(f"Ekart Logistics AWB {awb}" for awb in awbs)
    return Response(_pdf(text), media_type="application/pdf")


def _pdf(text: str) -> bytes:
    """A one-page PDF saying ``text``: enough for a label a test opens."""
    stream = f"BT /F1 12 Tf 20 200 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>stream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@router.post("/sellers/v3/shipments/selfShip/dispatch")
async def self_ship_dispatch(
    request: Request, account: Annotated[Seller, _calling("shipments/dispatch")]
) -> dict[str, Any]:
    body = await request.json()
    results = []
    for entry in body.get("shipments") or []:
        sid = str(entry.get("shipmentId"))
        missing = [
            f
            for f in ("shipmentId", "dispatchDate", "tentativeDeliveryDate", "deliveryPartnerCode")
            if not entry.get(f)
        ]
        invoice = entry.get("invoice") or {}
        if not invoice.get("items") or not invoice.get("invoiceDate"):
            missing.append("invoice")
        if missing:
            results.append(
                {
                    "shipmentId": sid,
                    "processingStatus": "FAILURE",
                    "errorCode": "UNPROCESSABLE_ENTITY",
                    "errorMessage": f"missing {', '.join(missing)}",
                }
            )
        elif sid not in account.self_ship:
            results.append({"shipmentId": sid, "processingStatus": "FAILURE", "errorCode": "NOT_SELF_SHIP"})
        else:
            record = {
                "status": "SHIPPED",
                "kind": "self_ship",
                "trackingId": entry.get("trackingId"),
                "deliveryPartnerCode": entry["deliveryPartnerCode"],
            }
            results.append(_dispatch(account, sid, record))
    return {"shipments": results}


# --- Listings ------------------------------------------------------------------------------------


@router.post("/listings/v3/update/inventory")
async def update_inventory(
    request: Request, account: Annotated[Seller, _calling("listings/update/inventory")]
) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict) or not body or len(body) > 10:
        raise _error(400, "INVALID_REQUEST", "1 to 10 SKUs a request")
    account.inventory_batches.append(sorted(body))
    answer: dict[str, Any] = {}
    for sku, update in body.items():
        locations = update.get("locations") or []
        if sku not in account.stock or sku in account.refused_skus:
            answer[sku] = {
                "status": "FAILURE",
                "errors": [
                    {"severity": "ERROR", "code": "INVALID_SKU", "description": f"SKU {sku} is not listed"}
                ],
            }
        elif update.get("product_id") != account.product_ids.get(sku):
            answer[sku] = {
                "status": "FAILURE",
                "errors": [
                    {"severity": "ERROR", "code": "INVALID_PRODUCT_ID", "description": "product_id mismatch"}
                ],
            }
        elif not locations or any(loc.get("id") != account.location_id for loc in locations):
            answer[sku] = {
                "status": "FAILURE",
                "errors": [
                    {"severity": "ERROR", "code": "INVALID_LOCATION", "description": "unknown location"}
                ],
            }
        else:
            account.stock[sku] = int(locations[0]["inventory"])
            answer[sku] = {"status": "SUCCESS"}
    return answer


@router.post("/listings/v3/details")
async def listing_details(
    request: Request, account: Annotated[Seller, _calling("listings/details")]
) -> dict[str, Any]:
    skus = (await request.json()).get("sku_ids") or []
    return {
        "available": {
            s: {
                "product_id": account.product_ids[s],
                "locations": [
                    {"id": account.location_id, "status": "ENABLED", "inventory": account.stock[s]}
                ],
            }
            for s in skus
            if s in account.stock
        },
        "unavailable": [s for s in skus if s not in account.stock],
        "invalid": [],
    }
