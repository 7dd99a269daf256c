"""Flipkart (Marketplace Seller API v3): shipments polled with POST /sellers/v3/shipments/filter by
modified date, a page at a time (nextPageUrl), in phases (what Flipkart ships, what the seller ships,
each kind of cancellation); addresses from GET /sellers/v3/shipments/{ids}; stock out with
POST /listings/v3/update/inventory (10 SKUs a call, a status per SKU); dispatch back as Flipkart's
docs say for who carries the parcel. Calls carry an OAuth client-credentials token (about 60 days).

Shapes, from Flipkart's own documentation (seller.flipkart.com/api-docs and its newer copy at
flipkart.github.io/fk-api-platform-docs):
- token: order-api "Generating Access Tokens" / listing-api-docs/authTut: GET
  /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api with HTTP Basic
  (application id, secret); answers access_token, token_type, expires_in, scope.
- filter: order-api-docs/v3/PostShipmentSearch and mp-api_versioned/search-pre-dispatch-shipment-post
  (filter.type preDispatch|cancelled, states, shipmentTypes NORMAL|EXPRESS|SELF, modifiedDate
  {from,to}, cancellationType, pagination.pageSize, sort; answer hasMore, nextPageUrl, shipments[]
  with shipmentId, updatedAt, hold, locationId, orderItems[] {orderItemId, orderId, orderDate,
  paymentType COD|PREPAID, status, quantity, sku, fsn, title, cancellationReason, priceComponents
  {sellingPrice, totalPrice, shippingCharge, customerPrice, flipkartDiscount}, serviceProfile}).
- next page: mp-api_versioned/search-pre-dispatch-shipment-get (GET the nextPageUrl as given).
- addresses: order-api-docs/v3/GetShipmentDetails (deliveryAddress firstName, lastName, addressLine1,
  addressLine2, landmark, city, state, stateCode, pincode, contactNumber).
- stock: listing-api-docs/v3/UpdateListingsInventoryAPI (a map SKU → {product_id, locations[{id,
  inventory}]}, at most 10; 200 with a status per SKU) and v3/GetListingsDetailsAPI (POST
  /listings/v3/details {sku_ids}: available, unavailable, invalid).
- label (ADR 370): mp-api_versioned/pack and order-api-docs/v3/PackShipment (POST
  /v3/shipments/labels: shipments[] {shipmentId, locationId, taxItems[] {orderItemId, taxRate
  (required), quantity}, invoices[] {orderId, invoiceDate (required), invoiceNumber}}; answer
  shipments[] {shipmentId, status, errorCode, errorMessage}); the AWB then on GetShipmentDetails'
  subShipments[].courierDetails.deliveryDetails {vendorName, trackingId}.
- label PDF: order-api-docs/v3/GetLabelOnlyPdfByShipmentId (POST
  /v3/shipments/{shipmentIds}/labelOnly/pdf, reprint=true so it is never marked packed by it;
  application/pdf, else an error: INVALID_SHIPMENTS, OPERATION_NOT_ALLOWED, DEPENDENT_SYSTEM_CALL_FAILED).
- shipped (ADR 371): the filter's postDispatch type, states PICKUP_COMPLETE, SHIPPED, DELIVERED
  (OMAPIRef; the order item statuses of mp-api_versioned/get-shipment-details-by-internal-id).
- dispatch: order-api-docs/v3/ShipmentRTD (POST /v3/shipments/dispatch {shipmentIds, locationId};
  shipments[] processingStatus SUCCESS|FAILURE, errorCode, errorMessage) for shipments Flipkart's
  logistics carry; order-api-docs/SelfShipDispatch (POST /v3/shipments/selfShip/dispatch) for the
  seller's own courier, with the AWB as trackingId.

Not confirmed from any document: Flipkart publishes no rate limits (RATES below are our own
conservative numbers); the per-SKU answer's error list (read as ``errors[].description``); whether
priceComponents are per unit or per line (read as per line, like the order's total); the top-level
key of GET /v3/shipments/{ids} (read as ``shipments``); the self-ship answer (read like the RTD
one); the delivery partner codes of our couriers (CARRIER_CODES); the pack answer's ``status``
values (read as SUCCESS, else refused with its errorCode) and whether it needs ``subShipments``
dimensions for a single-box shipment (none are sent); whether postDispatch honours
``shipmentTypes``; whether ``modifiedDate`` also filters the ``cancelled`` type; whether
``deliveryAddress.contactNumber`` is given for shipments Flipkart carries (the docs give "buyer
contact number and email" for self-ship only). A shipment without a phone is kept but not sent on:
``channel.orders.v1`` requires the customer's phone, and intake records the shipment as unreadable
naming it. Seller cancellation through the API is not used (see ``cancel``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chassis.clock import IST
from chassis.ratelimit import Limit, RateLimiter
from contracts import CancelReason, Payment, PaymentMethod, PaymentStatus
from services.channels.stores.common import (
    check,
    full_name,
    polled_delivery_id,
    read_payload,
    state_name,
    to_paise,
)
from services.channels.stores.interface import (
    Account,
    Delivery,
    Listing,
    MarketplaceInvoice,
    MarketplaceLabel,
    PolledOrder,
    PolledPage,
    SkusRefused,
    StockLevel,
    StoreError,
    StoreLine,
    StoreOrder,
    Tracking,
    WebhookRefused,
)
from services.channels.stores.tokens import TokenCache

TOKEN_URL = "https://api.flipkart.net/oauth-service/oauth/token"

RATES = {
    "shipments/filter": Limit(rate=0.8, burst=4),
    "shipments/details": Limit(rate=0.8, burst=4),
    "listings/update/inventory": Limit(rate=0.8, burst=2),
    "listings/details": Limit(rate=0.8, burst=2),
    "shipments/dispatch": Limit(rate=0.8, burst=4),
    "shipments/labels": Limit(rate=0.8, burst=4),
}
"""Our own ceilings per seller (Flipkart documents none; we assume a call a second with small
bursts, as the sandbox enforces), kept a fifth under that and one call short of the burst: a token
is taken here before the request travels, and requests spaced by the limiter can arrive bunched
(a slow event loop, a retried connection), which a ceiling equal to the plan turns into a 429."""

PAGE_SIZE = 20
"""Shipments asked for per filter page; their addresses then fit one details call (25 at most)."""

PRE_DISPATCH = ["APPROVED", "PACKING_IN_PROGRESS", "PACKED", "FORM_FAILED", "READY_TO_DISPATCH"]

PHASES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "flipkart_ships",
        {"type": "preDispatch", "states": PRE_DISPATCH, "shipmentTypes": ["NORMAL", "EXPRESS"]},
    ),
    ("seller_ships", {"type": "preDispatch", "states": PRE_DISPATCH, "shipmentTypes": ["SELF"]}),
    (
        "cancelled",
        {"type": "cancelled", "states": ["CANCELLED"], "cancellationType": "marketplaceCancellation"},
    ),
    ("cancelled", {"type": "cancelled", "states": ["CANCELLED"], "cancellationType": "buyerCancellation"}),
    ("cancelled", {"type": "cancelled", "states": ["CANCELLED"], "cancellationType": "sellerCancellation"}),
    (
        "dispatched",
        {
            "type": "postDispatch",
            "states": ["PICKUP_COMPLETE", "SHIPPED", "DELIVERED"],
            "shipmentTypes": ["NORMAL", "EXPRESS"],
        },
    ),
)
"""One window of changed shipments is asked for in these phases, one after the other: the filter
takes one type and one cancellation type at a time, and the shipment type tells who carries it. The
last phase, after dispatch, is news of parcels Flipkart's courier collected or delivered (ADR 371);
it is last so a page token saved before it was added still names the same phase."""

NEWS = {"PICKUP_COMPLETE": "PICKED_UP", "SHIPPED": "PICKED_UP", "DELIVERED": "DELIVERED"}
"""Flipkart's states after dispatch as our shipment statuses: collected by its courier (or shipped
from its hub, which we may see first) is picked up; delivered is delivered."""

PACKED_ALREADY = frozenset({"PACKING_IN_PROGRESS", "PACKED", "FORM_FAILED", "READY_TO_DISPATCH"})
"""States of a shipment whose pack call was taken: its label is read, not asked for again."""

# Our couriers as Flipkart's self-ship delivery partner codes (the allowed vendor list API gives a
# seller's; these are not confirmed).
CARRIER_CODES = {"delhivery": "DELHIVERY", "xpressbees": "XPRESSBEES", "shiprocket": "SHIPROCKET"}

SELF_SHIP_SLA_DAYS = 5
"""The tentative delivery date self-ship dispatch asks for: this many days after dispatch."""


def _time(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def page_token(phase: int, url: str | None) -> str:
    """Where a window's paging is: the phase, and Flipkart's nextPageUrl within it (none: its start)."""
    return f"{phase}|{url or ''}"


def read_page_token(token: str) -> tuple[int, str | None]:
    """The phase and nextPageUrl a page token names; ValueError for one we did not write."""
    phase, _, url = token.partition("|")
    if not phase.isdigit() or int(phase) >= len(PHASES):
        raise ValueError(f"not a Flipkart page token: {token!r}")
    return int(phase), url or None


def next_page_path(url: str) -> str:
    """The path (under the account's base URL) of a nextPageUrl Flipkart gave, which may leave out
    the /sellers prefix. Never another host: the bearer token goes only to the account's base URL."""
    if not url.startswith("/"):
        raise StoreError(f"shipments/filter: nextPageUrl {url[:100]!r} is not a path", retryable=False)
    return url if url.startswith("/sellers/") else f"/sellers{url}"


def payment_of(item: Mapping[str, Any], shipment_id: str, total_paise: int) -> Payment:
    """COD is pending until delivered; PREPAID Flipkart has already taken from the buyer."""
    if str(item.get("paymentType", "")).upper() == "COD":
        return Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=total_paise)
    return Payment(
        method=PaymentMethod.CARD,
        status=PaymentStatus.CAPTURED,
        gateway="flipkart",
        gateway_payment_id=shipment_id,
        amount_paise=total_paise,
    )


def order_of(payload: Mapping[str, Any]) -> StoreOrder:
    """A shipment as the poll keeps it (``{"phase", "shipment", "details"}``) in our terms: one
    Flipkart shipment is one order of ours (it is what is packed, labelled and carried together)."""
    shipment = payload["shipment"]
    details = payload.get("details") or {}
    phase = payload.get("phase")
    items = shipment.get("orderItems") or []
    if not items:
        raise ValueError("shipment.orderItems: a shipment without order items")
    address = details.get("deliveryAddress") or {}
    lines = []
    shipping = total = 0
    for i, item in enumerate(items):
        quantity = int(item["quantity"])
        prices = item.get("priceComponents") or {}
        line_paise = to_paise(
            prices.get("customerPrice"), field=f"orderItems.{i}.priceComponents.customerPrice"
        )
        shipping += to_paise(
            prices.get("shippingCharge"), field=f"orderItems.{i}.priceComponents.shippingCharge"
        )
        total += to_paise(prices.get("totalPrice"), field=f"orderItems.{i}.priceComponents.totalPrice")
        lines.append(
            StoreLine(
                channel_sku=str(item.get("sku") or ""),
                quantity=quantity,
                unit_price_paise=line_paise // quantity if quantity else 0,
                variant_id=str(item["fsn"]) if item.get("fsn") else None,
                title=item.get("title"),
            )
        )
    first = items[0]
    shipment_id = str(shipment["shipmentId"])
    profiles = {str(i.get("serviceProfile") or "") for i in items}
    cancelled = all(str(i.get("status")) == "CANCELLED" for i in items)
    buyer_cancelled = cancelled and any(str(i.get("cancellationReason") or "") for i in items)
    name = full_name(address.get("firstName"), address.get("lastName"))
    return StoreOrder(
        store_order_id=shipment_id,
        name=str(first.get("orderId") or shipment_id),
        placed_at=_time(first.get("orderDate") or shipment.get("updatedAt"), "orderItems.0.orderDate"),
        customer={"name": name or "Flipkart buyer", "phone": address.get("contactNumber"), "email": None},
        shipping_address={
            "line1": address.get("addressLine1"),
            "line2": address.get("addressLine2") or None,
            "landmark": address.get("landmark") or None,
            "city": address.get("city"),
            "state": state_name(address.get("stateCode") or address.get("state") or address.get("stateName")),
            "pincode": str(address.get("pincode") or "").replace(" ", ""),
        },
        lines=tuple(lines),
        shipping_fee_paise=shipping,
        discount_paise=0,
        total_paise=total,
        payment=payment_of(first, shipment_id, total),
        cancelled=cancelled,
        # A shipment on hold (Flipkart's verification) may not be acted on; its release changes it.
        awaiting_payment=bool(shipment.get("hold")),
        shipped_by_marketplace=phase in ("flipkart_ships", "dispatched"),
        fulfilled_by_marketplace=bool(profiles & {"FBF", "FBF_LITE", "Flipkart_Fulfilment"}),
        buyer_cancel_reason=(
            "; ".join(
                sorted({str(i.get("cancellationReason")) for i in items if i.get("cancellationReason")})
            )
            if buyer_cancelled and payload.get("cancellation_type") == "buyerCancellation"
            else None
        ),
        news_status=NEWS.get(str(first.get("status"))) if phase == "dispatched" else None,
        news_code=str(first.get("status")) if phase == "dispatched" else None,
    )


def pack_request(shipment: Mapping[str, Any], invoice: MarketplaceInvoice, location: str) -> dict[str, Any]:
    """The pack (label) call for one shipment with our invoice: each order item's GST rate by its
    seller SKU (or FSN), the invoice's number and date per Flipkart order. ValueError naming the
    item when our invoice has no rate for it: a rate is never guessed (ADR 370)."""
    items = shipment.get("orderItems") or []
    tax_items = []
    for i, item in enumerate(items):
        rate = invoice.rates.get(str(item.get("sku") or "")) or invoice.rates.get(str(item.get("fsn") or ""))
        if rate is None:
            raise ValueError(
                f"orderItems.{i}: no GST rate on invoice {invoice.number} for Flipkart SKU "
                f"{item.get('sku')!r}: map it to the invoiced SKU"
            )
        tax_items.append(
            {
                "orderItemId": str(item["orderItemId"]),
                "taxRate": float(rate),
                "quantity": int(item["quantity"]),
            }
        )
    dated = invoice.issued_at.astimezone(IST).isoformat(timespec="seconds")
    orders = sorted({str(item["orderId"]) for item in items})
    return {
        "shipments": [
            {
                "shipmentId": str(shipment["shipmentId"]),
                "locationId": location,
                "taxItems": tax_items,
                "invoices": [
                    {"orderId": order, "invoiceDate": dated, "invoiceNumber": invoice.number}
                    for order in orders
                ],
            }
        ]
    }


def label_of(details: Mapping[str, Any]) -> MarketplaceLabel | None:
    """The AWB on a shipment's details once Flipkart generated its label (the first sub-shipment's
    delivery tracking id), or None while it has not."""
    for sub in details.get("subShipments") or []:
        delivery = (sub.get("courierDetails") or {}).get("deliveryDetails") or {}
        if delivery.get("trackingId"):
            return MarketplaceLabel(awb=str(delivery["trackingId"]), carrier=delivery.get("vendorName"))
    return None


def refused_skus(body: Mapping[str, Any], sent: list[StockLevel]) -> tuple[dict[str, int], dict[str, str]]:
    """Flipkart's per-SKU answer to an inventory update: those it took (SUCCESS, or WARNING — taken,
    with a remark) and those it refused, with its reason. A SKU it did not answer for is refused."""
    shown: dict[str, int] = {}
    refused: dict[str, str] = {}
    for level in sent:
        sku = level.listing.channel_sku
        answer = body.get(sku) or {}
        status = str(answer.get("status") or "no answer for this SKU")
        if status in ("SUCCESS", "WARNING"):
            shown[sku] = level.quantity
        else:
            errors = answer.get("errors") or []
            reasons = "; ".join(str(e.get("description") or e.get("message") or e) for e in errors)
            refused[sku] = f"{status}: {reasons or 'no reason given'}"
    return shown, refused


class FlipkartMarketplace:
    """Flipkart's seller API for one or more seller accounts; a shared pooled client."""

    platform = "flipkart"
    max_stock_batch = 10
    """POST /listings/v3/update/inventory: "Max batch size allowed is 10"."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        tokens: TokenCache | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._limiter = limiter
        self._clock = clock
        self.tokens = tokens or TokenCache()

    # --- the calls ---------------------------------------------------------------------------

    async def _fetch_token(self, account: Account) -> tuple[str, float]:
        try:
            response = await self._client.get(
                account.auth_url or TOKEN_URL,
                params={"grant_type": "client_credentials", "scope": "Seller_Api"},
                auth=(account.api_key, account.api_secret),
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"Flipkart token: {type(exc).__name__}: {exc}") from exc
        body = check(response, "Flipkart token")
        return str(body["access_token"]), float(body.get("expires_in") or 3600)

    async def _call(
        self, account: Account, operation: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """One call: a token from the operation's bucket, the bearer token, and one more try with a
        fresh token when Flipkart answers 401 (an expired token, the docs say)."""
        for attempt in (1, 2):
            await self._limiter.acquire(f"flipkart:{account.account}:{operation}", RATES[operation])
            token = await self.tokens.get(account.account, lambda: self._fetch_token(account))
            try:
                response = await self._client.request(
                    method,
                    f"{account.base_url}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                    **kwargs,
                )
            except httpx.HTTPError as exc:
                raise StoreError(f"{operation}: {type(exc).__name__}: {exc}") from exc
            if response.status_code == 401 and attempt == 1:
                self.tokens.drop(account.account)
                continue
            return response
        return response

    async def _json(self, account: Account, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        return check(await self._call(account, operation, method, path, **kwargs), operation)

    # --- the protocol ------------------------------------------------------------------------

    def verify_webhook(self, account: Account, headers: Mapping[str, str], body: bytes) -> Delivery:
        raise WebhookRefused("Flipkart orders are polled", status=404)

    def read_order(self, delivery: Delivery) -> StoreOrder | None:
        return read_payload(delivery.body, order_of, platform="flipkart")

    async def orders_page(
        self, account: Account, *, since: datetime, until: datetime | None, page: str | None
    ) -> PolledPage:
        # Flipkart does not fix a window's end: the first page does, and every phase uses it.
        end = until or self._clock()
        try:
            phase, url = read_page_token(page) if page is not None else (0, None)
        except ValueError as exc:
            raise StoreError(str(exc), retryable=False) from None
        kind, criteria = PHASES[phase]
        if url is not None:
            body = await self._json(account, "shipments/filter", "GET", next_page_path(url))
        else:
            window = {"from": _stamp(since), "to": _stamp(end)}
            body = await self._json(
                account,
                "shipments/filter",
                "POST",
                "/sellers/v3/shipments/filter",
                json={
                    "filter": {**criteria, "modifiedDate": window},
                    "pagination": {"pageSize": PAGE_SIZE},
                    "sort": {"field": "modifiedDate", "order": "asc"},
                },
            )
        shipments = body.get("shipments") or []
        details: dict[str, Any] = {}
        if kind not in ("cancelled", "dispatched") and shipments:
            details = await self._details(account, [str(s["shipmentId"]) for s in shipments])
        found = []
        for shipment in shipments:
            shipment_id = str(shipment["shipmentId"])
            updated = _time(shipment.get("updatedAt") or _stamp(end), "updatedAt")
            found.append(
                PolledOrder(
                    updated_at=updated,
                    delivery=Delivery(
                        delivery_id=polled_delivery_id(shipment_id, updated, kind),
                        topic=f"shipment.{kind}",
                        body=json.dumps(
                            {
                                "phase": kind,
                                "cancellation_type": criteria.get("cancellationType"),
                                "shipment": shipment,
                                "details": details.get(shipment_id),
                            }
                        ).encode(),
                    ),
                )
            )
        following = body.get("nextPageUrl") if body.get("hasMore") else None
        if following:
            next_page: str | None = page_token(phase, str(following))
        elif phase + 1 < len(PHASES):
            next_page = page_token(phase + 1, None)
        else:
            next_page = None
        return PolledPage(orders=found, until=end, next_page=next_page)

    async def _details(self, account: Account, shipment_ids: list[str]) -> dict[str, Any]:
        body = await self._json(
            account, "shipments/details", "GET", f"/sellers/v3/shipments/{','.join(shipment_ids)}"
        )
        return {str(s.get("shipmentId")): s for s in body.get("shipments") or []}

    async def orders_changed_since(self, account: Account, since: datetime) -> list[PolledOrder]:
        found: list[PolledOrder] = []
        page = await self.orders_page(account, since=since, until=None, page=None)
        found += page.orders
        while page.next_page:
            page = await self.orders_page(account, since=since, until=page.until, page=page.next_page)
            found += page.orders
        return found

    async def set_stock(self, account: Account, levels: list[StockLevel]) -> dict[str, int]:
        if account.location_id is None:
            raise StoreError("Flipkart stock needs the account's location_id", retryable=False)
        unlisted = {
            lv.listing.channel_sku: "no Flipkart product_id mapped"
            for lv in levels
            if not lv.listing.product_id
        }
        sent = [lv for lv in levels if lv.listing.product_id]
        shown: dict[str, int] = {}
        refused: dict[str, str] = dict(unlisted)
        if sent:
            body = await self._json(
                account,
                "listings/update/inventory",
                "POST",
                "/listings/v3/update/inventory",
                json={
                    lv.listing.channel_sku: {
                        "product_id": lv.listing.product_id,
                        "locations": [{"id": account.location_id, "inventory": lv.quantity}],
                    }
                    for lv in sent
                },
            )
            shown, taken_refused = refused_skus(body, sent)
            refused |= taken_refused
        if refused:
            raise SkusRefused(shown, refused)
        return shown

    async def read_stock(self, account: Account, listings: list[Listing]) -> dict[str, int]:
        body = await self._json(
            account,
            "listings/details",
            "POST",
            "/listings/v3/details",
            json={"sku_ids": [listing.channel_sku for listing in listings]},
        )
        shown: dict[str, int] = {}
        for sku, listing in (body.get("available") or {}).items():
            for location in listing.get("locations") or []:
                if account.location_id is None or location.get("id") == account.location_id:
                    shown[sku] = shown.get(sku, 0) + int(location.get("inventory") or 0)
        return shown

    async def fulfil(self, account: Account, store_order_id: str, tracking: Tracking) -> None:
        shipment = await self._shipment(account, store_order_id)
        location = shipment.get("locationId") or account.location_id
        if tracking.shipped_by_marketplace:
            # Flipkart's logistics carry it: ready to dispatch, and its courier collects with its label.
            answer = await self._json(
                account,
                "shipments/dispatch",
                "POST",
                "/sellers/v3/shipments/dispatch",
                json={"shipmentIds": [store_order_id], "locationId": location},
            )
        else:
            now = self._clock()
            answer = await self._json(
                account,
                "shipments/dispatch",
                "POST",
                "/sellers/v3/shipments/selfShip/dispatch",
                json={
                    "shipments": [
                        {
                            "shipmentId": store_order_id,
                            "dispatchDate": _stamp(now),
                            "tentativeDeliveryDate": _stamp(now + timedelta(days=SELF_SHIP_SLA_DAYS)),
                            "deliveryPartner": tracking.courier,
                            "deliveryPartnerCode": CARRIER_CODES.get(
                                tracking.courier.lower(), tracking.courier.upper()
                            ),
                            "trackingId": tracking.awb,
                            "locationId": location,
                            "invoice": {
                                "invoiceDate": _stamp(now),
                                "items": [
                                    {"orderItemId": str(i["orderItemId"]), "quantity": int(i["quantity"])}
                                    for i in shipment.get("orderItems") or []
                                ],
                            },
                            "dispatchLocation": {"locationId": location},
                        }
                    ]
                },
            )
        for result in answer.get("shipments") or []:
            if result.get("processingStatus") != "SUCCESS":
                code, message = result.get("errorCode"), result.get("errorMessage")
                raise StoreError(
                    f"Flipkart dispatch of {store_order_id}: {code}: {message}",
                    retryable=code == "DEPENDENT_SYSTEM_CALL_FAILED",
                )

    async def label(
        self, account: Account, store_order_id: str, invoice: MarketplaceInvoice
    ) -> MarketplaceLabel:
        shipment = await self._shipment(account, store_order_id)
        states = {str(i.get("status")) for i in shipment.get("orderItems") or []}
        if states == {"APPROVED"}:
            try:
                request = pack_request(
                    shipment, invoice, shipment.get("locationId") or account.location_id or ""
                )
            except ValueError as exc:
                raise StoreError(f"Flipkart label of {store_order_id}: {exc}", retryable=False) from None
            answer = await self._json(
                account, "shipments/labels", "POST", "/sellers/v3/shipments/labels", json=request
            )
            for result in answer.get("shipments") or []:
                if result.get("status") != "SUCCESS":
                    code, message = result.get("errorCode"), result.get("errorMessage")
                    raise StoreError(
                        f"Flipkart label of {store_order_id}: {code}: {message}",
                        retryable=code == "DEPENDENT_SYSTEM_CALL_FAILED",
                    )
        elif not states & PACKED_ALREADY:
            raise StoreError(
                f"Flipkart shipment {store_order_id} is {', '.join(sorted(states))}: not labelled",
                retryable=False,
            )
        details = await self._details(account, [store_order_id])
        found = label_of(details.get(store_order_id) or {})
        if found is None:
            raise StoreError(f"Flipkart has not generated the label of {store_order_id} yet", retry_after_s=5)
        return found

    async def label_pdf(self, account: Account, store_order_id: str) -> bytes:
        response = await self._call(
            account,
            "shipments/labels",
            "POST",
            f"/sellers/v3/shipments/{store_order_id}/labelOnly/pdf",
            params={"reprint": "true"},
        )
        if response.is_success and response.headers.get("content-type", "").startswith("application/pdf"):
            return response.content
        check(response, "Flipkart label PDF")  # raises StoreError with Flipkart's own error
        raise StoreError(f"Flipkart label PDF of {store_order_id}: not a PDF", retryable=False)

    async def _shipment(self, account: Account, store_order_id: str) -> dict[str, Any]:
        body = await self._json(
            account,
            "shipments/details",
            "GET",
            "/sellers/v3/shipments",
            params={"shipmentIds": store_order_id},
        )
        for shipment in body.get("shipments") or []:
            if str(shipment.get("shipmentId")) == store_order_id:
                return dict(shipment)
        raise StoreError(f"Flipkart shipment {store_order_id} not found", retryable=False)

    async def cancel(self, account: Account, store_order_id: str, *, reason: CancelReason, note: str) -> str:
        # A seller cancellation costs the seller's rating on Flipkart; an operator does it in Seller Hub.
        raise StoreError(
            f"cancel Flipkart shipment {store_order_id} in Seller Hub (not sent through the API)",
            retryable=False,
        )
