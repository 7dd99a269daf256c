"""Amazon (Selling Partner API): orders polled with getOrders by LastUpdatedAfter, a page at a time
(NextToken), each order's items with getOrderItems; stock out with patchListingsItem (a merge on
fulfillment_availability); dispatch back with confirmShipment. Calls carry a Login with Amazon access
token (x-amz-access-token), refreshed before its hour is up, and take a token from the account's
shared bucket for each operation first (RATES, from the models' documented usage plans).

Shapes: amzn/selling-partner-api-models, models/orders-api-model/ordersV0.json (Order, OrderItem,
Address, BuyerRequestedCancel, EasyShipShipmentStatus, ConfirmShipmentRequest/PackageDetail) and
models/listings-items-api-model/listingsItems_2021-08-01.json (ListingsItemPatchRequest,
PatchOperation, ListingsItemSubmissionResponse, FulfillmentAvailability); the LWA token request
from "Connect to the SP-API" (grant_type=refresh_token, refresh_token, client_id, client_secret).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from chassis import aws
from chassis.ratelimit import Limit, RateLimiter
from contracts import CancelReason, Payment, PaymentMethod, PaymentStatus
from services.channels.stores import amazon_2026
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
    OrderNotice,
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

LWA_URL = "https://api.amazon.com/auth/o2/token"
AMAZON_IN = "A21TJRUUN4KGV"

PLANS = {
    "getOrders": Limit(rate=0.0167, burst=20),
    "getOrder": Limit(rate=0.5, burst=30),
    "searchOrders": Limit(rate=0.0056, burst=20),
    "getOrderItems": Limit(rate=0.5, burst=30),
    "confirmShipment": Limit(rate=2.0, burst=10),
    "patchListingsItem": Limit(rate=5.0, burst=5),
    "getListingsItem": Limit(rate=5.0, burst=10),
}
"""Each operation's documented usage plan (requests per second restored, burst), per seller and
application."""

RATES = {op: Limit(rate=plan.rate * 0.8, burst=max(1, plan.burst - 1)) for op, plan in PLANS.items()}
"""Our ceilings: a fifth under each plan and one call short of its burst. A token is taken here
before the request travels, and requests the limiter spaced can arrive bunched (a slow event loop, a
retried connection); a ceiling equal to the plan drew a 429 from the sandbox's patchListingsItem plan
in CI, as it did for Flipkart."""

WAITING = frozenset({"Pending", "PendingAvailability"})
"""Placed, payment not authorised: not ready to ship (ordersV0 OrderStatus)."""
TO_SHIP = frozenset({"Unshipped", "PartiallyShipped"})

# Our couriers as Amazon's carrier codes; any other goes as "Other" with its name.
CARRIER_CODES = {"delhivery": "Delhivery", "xpressbees": "Xpressbees", "bluedart": "Blue Dart"}


def _time(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _money(money: Mapping[str, Any] | None, field: str) -> int:
    return to_paise((money or {}).get("Amount"), field=field)


def payment_of(order: Mapping[str, Any], total_paise: int) -> Payment:
    """COD is COD, pending until delivered; anything else Amazon has taken from the buyer."""
    if order.get("PaymentMethod") == "COD" or "COD" in (order.get("PaymentMethodDetails") or []):
        return Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=total_paise)
    return Payment(
        method=PaymentMethod.CARD,
        status=PaymentStatus.CAPTURED,
        gateway="amazon",
        gateway_payment_id=str(order["AmazonOrderId"]),
        amount_paise=total_paise,
    )


def order_of(payload: Mapping[str, Any]) -> StoreOrder:
    """An order and its items (``{"Order": …, "OrderItems": […]}``) in our terms."""
    order = payload["Order"]
    items = payload.get("OrderItems") or []
    address = order.get("ShippingAddress") or {}
    buyer = order.get("BuyerInfo") or {}
    lines = []
    shipping = discount = 0
    cancel_reason = None
    for i, item in enumerate(items):
        quantity = int(item["QuantityOrdered"])
        # ItemPrice is the line's price: the item's selling price times the quantity ordered.
        line_paise = _money(item.get("ItemPrice"), f"OrderItems.{i}.ItemPrice")
        shipping += _money(item.get("ShippingPrice"), f"OrderItems.{i}.ShippingPrice")
        discount += _money(item.get("PromotionDiscount"), f"OrderItems.{i}.PromotionDiscount")
        lines.append(
            StoreLine(
                channel_sku=str(item.get("SellerSKU") or ""),
                quantity=quantity,
                unit_price_paise=line_paise // quantity if quantity else 0,
                variant_id=str(item["ASIN"]) if item.get("ASIN") else None,
                title=item.get("Title"),
            )
        )
        asked = item.get("BuyerRequestedCancel") or {}
        if str(asked.get("IsBuyerRequestedCancel", "")).lower() == "true":
            cancel_reason = str(asked.get("BuyerCancelReason") or "the buyer asked to cancel")
    total = _money(order.get("OrderTotal"), "Order.OrderTotal")
    return StoreOrder(
        store_order_id=str(order["AmazonOrderId"]),
        name=str(order["AmazonOrderId"]),
        placed_at=_time(order["PurchaseDate"], "Order.PurchaseDate"),
        customer={
            "name": address.get("Name") or buyer.get("BuyerName") or "Amazon buyer",
            "phone": address.get("Phone"),
            "email": buyer.get("BuyerEmail"),
        },
        shipping_address={
            "line1": address.get("AddressLine1"),
            "line2": full_name(address.get("AddressLine2"), address.get("AddressLine3")) or None,
            "landmark": None,
            "city": address.get("City"),
            "state": state_name(address.get("StateOrRegion")),
            "pincode": (address.get("PostalCode") or "").replace(" ", ""),
        },
        lines=tuple(lines),
        shipping_fee_paise=shipping,
        discount_paise=discount,
        total_paise=total,
        payment=payment_of(order, total),
        cancelled=order.get("OrderStatus") == "Canceled",
        awaiting_payment=order.get("OrderStatus") in WAITING,
        shipped_by_marketplace=bool(order.get("EasyShipShipmentStatus")),
        fulfilled_by_marketplace=order.get("FulfillmentChannel") == "AFN",
        buyer_cancel_reason=cancel_reason,
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _either_order(payload: Mapping[str, Any]) -> StoreOrder:
    """An order as kept from either Orders API: ordersV0's ``{"Order", "OrderItems"}`` or
    2026-01-01's ``{"order"}`` (ADR 421)."""
    return amazon_2026.order_of(payload["order"]) if "order" in payload else order_of(payload)


def _listed_2026(order: Mapping[str, Any]) -> PolledOrder:
    """A searchOrders or getOrder (2026-01-01) order as a poll lists it."""
    updated = _time(order.get("lastUpdatedTime") or order["createdTime"], "lastUpdatedTime")
    status = amazon_2026.status_of(order)
    return PolledOrder(
        updated_at=updated,
        delivery=Delivery(
            delivery_id=polled_delivery_id(order["orderId"], updated, status),
            topic=f"order.{status}",
            body=json.dumps({"order": order}).encode(),
        ),
    )


def notice_of(handle: str, body: str) -> OrderNotice:
    """An ORDER_CHANGE notification as its queue delivered it; one we cannot read says why."""
    try:
        notification = json.loads(body)
        kind = notification.get("NotificationType")
        change = (notification.get("Payload") or {}).get("OrderChangeNotification")
    except (ValueError, AttributeError):
        return OrderNotice(handle, None, problem="body: not a JSON notification")
    if kind != "ORDER_CHANGE":
        return OrderNotice(handle, None, problem=f"NotificationType: {kind!r} is not ORDER_CHANGE")
    if not isinstance(change, dict) or not change.get("AmazonOrderId"):
        return OrderNotice(handle, None, problem="Payload.OrderChangeNotification.AmazonOrderId: required")
    summary = change.get("Summary") or {}
    status = summary.get("OrderStatus")
    return OrderNotice(
        handle,
        str(change["AmazonOrderId"]),
        seller_id=change.get("SellerId"),
        marketplace_id=summary.get("MarketplaceId"),
        # Amazon's own fulfilment is never ours; an unpaid order's authorisation is another notice.
        worth_fetching=summary.get("FulfillmentType") != "AFN" and status not in WAITING,
        cancelled=status == "Canceled",
        buyer_request=change.get("OrderChangeType") == "BuyerRequestedChange",
    )


class AmazonMarketplace:
    """SP-API calls for any number of seller accounts, one pooled HTTP client, shared rate buckets."""

    platform = "amazon"
    max_stock_batch = 10  # one patchListingsItem per listing; a batch is how many one push sends

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
        self.tokens = tokens or TokenCache()
        self._clock = clock

    def _now(self) -> datetime:
        return self._clock()

    # --- the calls ---------------------------------------------------------------------------

    async def _fetch_token(self, account: Account) -> tuple[str, float]:
        try:
            response = await self._client.post(
                account.auth_url or LWA_URL,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": account.refresh_token,
                    "client_id": account.api_key,
                    "client_secret": account.api_secret,
                },
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"LWA token: {type(exc).__name__}: {exc}") from exc
        body = check(response, "LWA token")
        return str(body["access_token"]), float(body.get("expires_in") or 3600)

    async def _call(
        self, account: Account, operation: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """One SP-API call: a token from the operation's bucket, the access token, and one more try
        with a fresh access token when Amazon says the one we sent is no good (expired early)."""
        for attempt in (1, 2):
            await self._limiter.acquire(f"amazon:{account.account}:{operation}", RATES[operation])
            token = await self.tokens.get(account.account, lambda: self._fetch_token(account))
            try:
                response = await self._client.request(
                    method,
                    f"{account.base_url}{path}",
                    headers={"x-amz-access-token": token},
                    **kwargs,
                )
            except httpx.HTTPError as exc:
                raise StoreError(f"{operation}: {type(exc).__name__}: {exc}") from exc
            if response.status_code in (401, 403) and attempt == 1:
                self.tokens.drop(account.account)
                continue
            return response
        return response

    async def _json(self, account: Account, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        return check(await self._call(account, operation, method, path, **kwargs), operation)

    # --- the protocol ------------------------------------------------------------------------

    def verify_webhook(self, account: Account, headers: Mapping[str, str], body: bytes) -> Delivery:
        raise WebhookRefused(
            "Amazon orders are polled; ORDER_CHANGE arrives through its own queue", status=404
        )

    def read_order(self, delivery: Delivery) -> StoreOrder | None:
        return read_payload(delivery.body, _either_order, platform="amazon")

    async def orders_page(
        self, account: Account, *, since: datetime, until: datetime | None, page: str | None
    ) -> PolledPage:
        if account.orders_api == amazon_2026.VERSION:
            return await self._search_page(account, since=since, until=until, page=page)
        params: dict[str, Any] = {"MarketplaceIds": account.marketplace_id or AMAZON_IN}
        if page is not None:
            params["NextToken"] = page
        else:
            params["LastUpdatedAfter"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if until is not None:
                params["LastUpdatedBefore"] = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = await self._json(account, "getOrders", "GET", "/orders/v0/orders", params=params)
        listing = body.get("payload") or {}
        found = [await self._listed(account, order) for order in listing.get("Orders") or []]
        end = listing.get("LastUpdatedBefore")
        return PolledPage(
            orders=found,
            until=_time(end, "LastUpdatedBefore") if end else (until or since),
            next_page=listing.get("NextToken") or None,
        )

    async def _listed(self, account: Account, order: Mapping[str, Any]) -> PolledOrder:
        """An order as getOrders or getOrder gave it, with its items when it is ours to ship."""
        items: list[Any] = []
        if order.get("OrderStatus") in TO_SHIP and order.get("FulfillmentChannel") != "AFN":
            items = await self._items(account, str(order["AmazonOrderId"]))
        updated = _time(order.get("LastUpdateDate") or order["PurchaseDate"], "LastUpdateDate")
        return PolledOrder(
            updated_at=updated,
            delivery=Delivery(
                delivery_id=polled_delivery_id(order["AmazonOrderId"], updated, order.get("OrderStatus")),
                topic=f"order.{order.get('OrderStatus', '')}",
                body=json.dumps({"Order": order, "OrderItems": items}).encode(),
            ),
        )

    async def _search_page(
        self, account: Account, *, since: datetime, until: datetime | None, page: str | None
    ) -> PolledPage:
        """One page of searchOrders (Orders API 2026-01-01): the same window, its items inline."""
        params: dict[str, Any] = {
            "marketplaceIds": account.marketplace_id or AMAZON_IN,
            "includedData": amazon_2026.INCLUDED,
            "lastUpdatedAfter": _stamp(since),
        }
        if until is not None:
            params["lastUpdatedBefore"] = _stamp(until)
        if page is not None:
            params["paginationToken"] = page
        body = await self._json(
            account, "searchOrders", "GET", f"/orders/{amazon_2026.VERSION}/orders", params=params
        )
        end = body.get("lastUpdatedBefore")
        return PolledPage(
            orders=[_listed_2026(order) for order in body.get("orders") or []],
            until=_time(end, "lastUpdatedBefore") if end else (until or since),
            next_page=(body.get("pagination") or {}).get("nextToken") or None,
        )

    async def order(self, account: Account, store_order_id: str) -> PolledOrder:
        if account.orders_api == amazon_2026.VERSION:
            body = await self._json(
                account,
                "getOrder",
                "GET",
                f"/orders/{amazon_2026.VERSION}/orders/{store_order_id}",
                params={"includedData": amazon_2026.INCLUDED},
            )
            if not (body.get("order") or {}).get("orderId"):
                raise StoreError(f"getOrder {store_order_id}: the answer holds no order", retryable=False)
            return _listed_2026(body["order"])
        body = await self._json(account, "getOrder", "GET", f"/orders/v0/orders/{store_order_id}")
        order = body.get("payload") or {}
        if not order.get("AmazonOrderId"):
            raise StoreError(f"getOrder {store_order_id}: the answer holds no order", retryable=False)
        return await self._listed(account, order)

    async def notices(self, queue: aws.Queue, *, wait_s: int) -> list[OrderNotice]:
        try:
            messages = await aws.receive(self._client, queue, now=self._now(), wait_s=wait_s)
        except aws.SqsError as exc:
            raise StoreError(str(exc), retryable=exc.retryable) from exc
        return [notice_of(m.receipt_handle, m.body) for m in messages]

    async def settle(self, queue: aws.Queue, notice: OrderNotice) -> None:
        try:
            await aws.delete(self._client, queue, notice.handle, now=self._now())
        except aws.SqsError as exc:
            raise StoreError(str(exc), retryable=exc.retryable) from exc

    async def _items(self, account: Account, order_id: str) -> list[Any]:
        items: list[Any] = []
        token = None
        while True:
            params = {"NextToken": token} if token else None
            body = await self._json(
                account, "getOrderItems", "GET", f"/orders/v0/orders/{order_id}/orderItems", params=params
            )
            payload = body.get("payload") or {}
            items += payload.get("OrderItems") or []
            token = payload.get("NextToken")
            if not token:
                return items

    async def orders_changed_since(self, account: Account, since: datetime) -> list[PolledOrder]:
        found: list[PolledOrder] = []
        page = await self.orders_page(account, since=since, until=None, page=None)
        found += page.orders
        while page.next_page:
            page = await self.orders_page(account, since=since, until=page.until, page=page.next_page)
            found += page.orders
        return found

    async def set_stock(self, account: Account, levels: list[StockLevel]) -> dict[str, int]:
        shown: dict[str, int] = {}
        refused: dict[str, str] = {}
        for level in levels:
            sku = level.listing.channel_sku
            body = await self._json(
                account,
                "patchListingsItem",
                "PATCH",
                f"/listings/2021-08-01/items/{account.seller_id}/{sku}",
                params={"marketplaceIds": account.marketplace_id or AMAZON_IN},
                json={
                    "productType": "PRODUCT",
                    "patches": [
                        {
                            "op": "merge",
                            "path": "/attributes/fulfillment_availability",
                            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": level.quantity}],
                        }
                    ],
                },
            )
            if body.get("status") == "ACCEPTED":
                shown[sku] = level.quantity
            else:
                issues = (
                    "; ".join(str(i.get("message")) for i in body.get("issues") or []) or "no reason given"
                )
                refused[sku] = f"{body.get('status')}: {issues}"
        if refused:
            raise SkusRefused(shown, refused)
        return shown

    async def read_stock(self, account: Account, listings: list[Listing]) -> dict[str, int]:
        shown: dict[str, int] = {}
        for listing in listings:
            response = await self._call(
                account,
                "getListingsItem",
                "GET",
                f"/listings/2021-08-01/items/{account.seller_id}/{listing.channel_sku}",
                params={
                    "marketplaceIds": account.marketplace_id or AMAZON_IN,
                    "includedData": "fulfillmentAvailability",
                },
            )
            if response.status_code == 404:
                continue
            body = check(response, "getListingsItem")
            for availability in body.get("fulfillmentAvailability") or []:
                if availability.get("fulfillmentChannelCode") == "DEFAULT":
                    shown[listing.channel_sku] = int(availability.get("quantity") or 0)
        return shown

    async def fulfil(self, account: Account, store_order_id: str, tracking: Tracking) -> None:
        items = await self._items(account, store_order_id)
        carrier = CARRIER_CODES.get(tracking.courier.lower())
        detail: dict[str, Any] = {
            "packageReferenceId": tracking.awb,
            "carrierCode": carrier or "Other",
            "trackingNumber": tracking.awb,
            "shipDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "orderItems": [
                {"orderItemId": str(i["OrderItemId"]), "quantity": int(i["QuantityOrdered"])} for i in items
            ],
        }
        if carrier is None:
            detail["carrierName"] = tracking.courier
        response = await self._call(
            account,
            "confirmShipment",
            "POST",
            f"/orders/v0/orders/{store_order_id}/shipmentConfirmation",
            json={"marketplaceId": account.marketplace_id or AMAZON_IN, "packageDetail": detail},
        )
        if response.status_code != 204:
            check(response, "confirmShipment")

    async def cancel(self, account: Account, store_order_id: str, *, reason: CancelReason, note: str) -> str:
        # The Orders API has no seller cancellation; it is a feed (order acknowledgement) or Seller
        # Central. Refused for good, so the channel order shows an operator what to do.
        raise StoreError(
            f"cancel Amazon order {store_order_id} in Seller Central (the Orders API cannot)", retryable=False
        )
