"""An Amazon seller account on the Selling Partner API: Login with Amazon tokens (an hour, or expired
on request), getOrders by LastUpdatedAfter with NextToken pages, getOrderItems, patchListingsItem
and getListingsItem on fulfillment_availability, confirmShipment — each operation behind its
documented usage plan (429 QuotaExceeded past it), and every call counted for tests to assert on.

The Orders API 2026-01-01 (searchOrders with paginationToken, getOrder) serves the same orders in
its own shape (orders_2026-01-01.json: fulfillment.fulfillmentStatus, items inline with proceeds and
cancellation requests, programs AMAZON_EASY_SHIP).

Control under /_sandbox/amazon/{seller}: set the catalogue up (with an SQS queue for its ORDER_CHANGE
notifications if asked), place an order (Pending, Easy Ship, late-arriving: last updated in the
past), change its status (Unshipped, Canceled, a buyer's cancellation request), expire every token,
hold a page of getOrders until released, read the state. Every change of an order (placed, its
status, a buyer's request, shipped) sends ORDER_CHANGE to the seller's queue when it has one, in the
shape of schemas/notifications/OrderChangeNotification.json.
"""

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from sandbox.errors import ProviderError
from sandbox.marketplace import PageHold, add_seller_controls
from sandbox.sqs import SqsState
from sandbox.store_webhooks import Buyer, LineIn, ProductIn, rupees
from sandbox.usage_plans import UsagePlans

RATES = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "searchOrders": (0.0056, 20),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "patchListingsItem": (5.0, 5),
    "getListingsItem": (5.0, 10),
}


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, code: str, message: str) -> ProviderError:
    return ProviderError(status, {"errors": [{"code": code, "message": message}]})


@dataclass
class Seller:
    """One selling partner: catalogue, orders, tokens, buckets and the calls it answered."""

    name: str
    stock: dict[str, int] = field(default_factory=dict)
    prices: dict[str, int] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_issued: int = 0
    plans: UsagePlans = field(default_factory=lambda: UsagePlans(RATES))
    page_size: int = 100
    next_tokens_used: int = 0
    pages: PageHold = field(default_factory=PageHold)
    refused_skus: set[str] = field(default_factory=set)
    queue: str | None = None
    """The SQS queue its ORDER_CHANGE notifications go to (None: none subscribed)."""
    notices_sent: int = 0

    @property
    def seller_id(self) -> str:
        return f"A{self.name.upper().replace('-', '')[:12]}"

    def take(self, operation: str) -> None:
        """Spend one request of the operation's usage plan, or answer 429 as SP-API does."""
        if not self.plans.spend(operation):
            raise _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")


@dataclass
class AmazonState:
    sellers: dict[str, Seller] = field(default_factory=dict)
    next_order: int = 4_000_000
    sqs: SqsState = field(default_factory=SqsState)

    def notify(self, account: Seller, order: dict[str, Any], *, buyer_asked: str | None = None) -> None:
        """ORDER_CHANGE for this order's change, to the seller's queue if it has one."""
        if account.queue is None:
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        items = account.items[order["AmazonOrderId"]]
        notification = {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": now,
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": account.seller_id,
                    "AmazonOrderId": order["AmazonOrderId"],
                    "OrderChangeType": "BuyerRequestedChange" if buyer_asked else "OrderStatusChange",
                    "OrderChangeTrigger": {
                        "TimeOfOrderChange": now,
                        "ChangeReason": "Buyer Requested Cancel" if buyer_asked else "Order status changed",
                    },
                    "Summary": {
                        "MarketplaceId": order["MarketplaceId"],
                        "OrderStatus": order["OrderStatus"],
                        "PurchaseDate": order["PurchaseDate"],
                        "DestinationPostalCode": order["ShippingAddress"]["PostalCode"],
                        "FulfillmentType": order["FulfillmentChannel"],
                        "OrderType": order["OrderType"],
                        "NumberOfItemsShipped": order["NumberOfItemsShipped"],
                        "NumberOfItemsUnshipped": order["NumberOfItemsUnshipped"],
                        "OrderItems": [
                            {
                                "OrderItemId": item["OrderItemId"],
                                "SellerSKU": item["SellerSKU"],
                                "OrderItemStatus": order["OrderStatus"],
                                "Quantity": item["QuantityOrdered"],
                                "QuantityShipped": item["QuantityShipped"],
                                "IsBuyerRequestedCancel": bool(buyer_asked),
                            }
                            for item in items
                        ],
                    },
                }
            },
            "NotificationMetadata": {
                "ApplicationId": "amzn1.sellerapps.app.dabba-sandbox",
                "SubscriptionId": f"subscription-{account.name}",
                "PublishTime": now,
                "NotificationId": str(uuid.uuid4()),
            },
        }
        self.sqs.send(account.queue, json.dumps(notification))
        account.notices_sent += 1

    def seller(self, name: str) -> Seller:
        if name not in self.sellers:
            self.sellers[name] = Seller(name=name)
        return self.sellers[name]

    def new_order_id(self) -> str:
        self.next_order += 1
        n = self.next_order
        return f"408-{n % 10_000_000:07d}-{(n * 7919) % 10_000_000:07d}"


async def get_amazon(request: Request) -> AmazonState:
    state: AmazonState = request.app.state.amazon
    return state


Amazon = Annotated[AmazonState, Depends(get_amazon)]
control = APIRouter(prefix="/_sandbox/amazon", tags=["sandbox: amazon"])
router = APIRouter(prefix="/amazon/{seller}", tags=["amazon sp-api"])


class SellerSetup(BaseModel):
    products: list[ProductIn] = Field(default_factory=list)
    page_size: int = Field(default=100, ge=1, le=100)
    refused_skus: list[str] = Field(
        default_factory=list, description="Listings patchListingsItem calls INVALID."
    )
    notifications: bool = Field(
        default=False, description="Subscribe the seller's ORDER_CHANGE notifications to an SQS queue."
    )


class PlaceAmazonOrder(BaseModel):
    buyer: Buyer = Field(default_factory=Buyer)
    lines: list[LineIn] = Field(min_length=1)
    cod: bool = False
    status: Literal["Pending", "Unshipped"] = "Unshipped"
    easy_ship: bool = False
    updated_seconds_ago: float = Field(
        default=0, ge=0, description="A late-arriving order: last updated this long ago."
    )


class StatusChange(BaseModel):
    status: Literal["Unshipped", "Canceled"] | None = None
    buyer_cancel_reason: str | None = None


@control.put("/{seller}")
async def setup(seller: str, body: SellerSetup, state: Amazon) -> dict[str, Any]:
    account = state.seller(seller)
    for product in body.products:
        account.stock[product.sku] = product.available
        account.prices[product.sku] = product.price_paise
    account.page_size = body.page_size
    account.refused_skus = set(body.refused_skus)
    queue_url = None
    if body.notifications:
        account.queue = f"{seller}-order-change"
        queue_url = state.sqs.create(account.queue)
    return {
        "seller_id": account.seller_id,
        "products": [p.model_dump() for p in body.products],
        "sqs_queue_path": queue_url,
    }


@control.get("/{seller}")
async def inspect(seller: str, state: Amazon) -> dict[str, Any]:
    account = state.seller(seller)
    return {
        "stock": account.stock,
        "orders": {
            oid: {"OrderStatus": o["OrderStatus"], "LastUpdateDate": o["LastUpdateDate"]}
            for oid, o in account.orders.items()
        },
        "shipments": account.shipments,
        "tokens_issued": account.tokens_issued,
        "calls": account.plans.calls,
        "throttled": account.plans.throttled,
        "next_tokens_used": account.next_tokens_used,
        "pages_served": account.pages.served,
        "notices_sent": account.notices_sent,
        "notices_deleted": state.sqs.queues[account.queue].deleted if account.queue else 0,
        "holding": account.pages.holding,
    }


@control.post("/{seller}/orders")
async def place(seller: str, body: PlaceAmazonOrder, state: Amazon) -> dict[str, Any]:
    account = state.seller(seller)
    order_id = state.new_order_id()
    now = datetime.now(UTC)
    updated = now - timedelta(seconds=body.updated_seconds_ago)
    items = []
    total = 0
    for i, line in enumerate(body.lines):
        if line.sku not in account.prices:
            raise HTTPException(422, detail=f"the seller does not list {line.sku}")
        price = account.prices[line.sku] * line.quantity
        total += price
        items.append(
            {
                "ASIN": f"B0{abs(hash(line.sku)) % 10**8:08d}",
                "SellerSKU": line.sku,
                "OrderItemId": f"{order_id.replace('-', '')}{i:02d}",
                "Title": line.sku,
                "QuantityOrdered": line.quantity,
                "QuantityShipped": 0,
                "ItemPrice": {"CurrencyCode": "INR", "Amount": rupees(price)},
                "ShippingPrice": {"CurrencyCode": "INR", "Amount": "0.00"},
                "PromotionDiscount": {"CurrencyCode": "INR", "Amount": "0.00"},
            }
        )
    b = body.buyer
    order: dict[str, Any] = {
        "AmazonOrderId": order_id,
        "PurchaseDate": _stamp(updated),
        "LastUpdateDate": _stamp(updated),
        "OrderStatus": body.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.in",
        "ShipServiceLevel": "Std IN Dom_1",
        "OrderTotal": {"CurrencyCode": "INR", "Amount": rupees(total)},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": sum(line.quantity for line in body.lines),
        "PaymentMethod": "COD" if body.cod else "Other",
        "PaymentMethodDetails": ["COD"] if body.cod else ["Standard"],
        "MarketplaceId": "A21TJRUUN4KGV",
        "OrderType": "StandardOrder",
        "IsPrime": False,
        "IsBusinessOrder": False,
        "ShippingAddress": {
            "Name": b.name,
            "AddressLine1": b.line1,
            "AddressLine2": b.line2,
            "City": b.city,
            "StateOrRegion": b.state,
            "PostalCode": b.pincode,
            "CountryCode": "IN",
            "Phone": b.phone,
        },
        "BuyerInfo": {"BuyerEmail": b.email, "BuyerName": b.name},
    }
    if body.easy_ship:
        order["EasyShipShipmentStatus"] = "PendingSchedule"
    account.orders[order_id] = order
    account.items[order_id] = items
    state.notify(account, order)
    return {"id": order_id, "order": order}


@control.post("/{seller}/orders/{order_id}")
async def change(seller: str, order_id: str, body: StatusChange, state: Amazon) -> dict[str, Any]:
    account = state.seller(seller)
    order = account.orders.get(order_id)
    if order is None:
        raise HTTPException(404, detail=f"no order {order_id}")
    if body.status:
        order["OrderStatus"] = body.status
    if body.buyer_cancel_reason:
        for item in account.items[order_id]:
            item["BuyerRequestedCancel"] = {
                "IsBuyerRequestedCancel": "true",
                "BuyerCancelReason": body.buyer_cancel_reason,
            }
    order["LastUpdateDate"] = _stamp(datetime.now(UTC))
    state.notify(account, order, buyer_asked=body.buyer_cancel_reason)
    return {"id": order_id, "order": order}


add_seller_controls(control, lambda request, name: request.app.state.amazon.seller(name), "getOrders")


# --- Login with Amazon ----------------------------------------------------------------------------


@router.post("/auth/o2/token")
async def lwa_token(
    seller: str,
    state: Amazon,
    grant_type: Annotated[str, Form()],
    refresh_token: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
) -> dict[str, Any]:
    if grant_type != "refresh_token" or not refresh_token or not client_id or not client_secret:
        raise ProviderError(
            400,
            {
                "error": "invalid_request",
                "error_description": "refresh_token grant needs refresh_token, client_id and client_secret",
            },
        )
    account = state.seller(seller)
    token = f"Atza|{secrets.token_urlsafe(24)}"
    account.tokens[token] = time.monotonic() + 3600
    account.tokens_issued += 1
    return {"access_token": token, "token_type": "bearer", "expires_in": 3600, "refresh_token": refresh_token}


def _authorised(account: Seller, token: str | None) -> None:
    expires = account.tokens.get(token or "")
    if expires is None or expires < time.monotonic():
        raise _error(403, "Unauthorized", "Access to requested resource is denied.")


Token = Annotated[str | None, Header(alias="x-amz-access-token")]


def _calling(operation: str) -> Any:
    """A route's dependency: the seller whose access token calls, once a request of the operation's
    usage plan is spent (403 for a token it did not issue or that expired, 429 past the plan)."""

    async def caller(seller: str, state: Amazon, token: Token = None) -> Seller:
        account = state.seller(seller)
        _authorised(account, token)
        account.take(operation)
        return account

    return Depends(caller)


# --- Orders API v0 --------------------------------------------------------------------------------


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _resume(
    account: Seller, page_token: str | None, name: str, after: str | None, before: str | None
) -> tuple[datetime, datetime, int]:
    """Where a listing of orders goes on: the window and offset its page token (named ``name`` in
    this API version) carries, or a first page's window from the query."""
    if page_token:
        try:
            cursor = json.loads(base64.urlsafe_b64decode(page_token))
        except ValueError:
            raise _error(400, "InvalidInput", f"Invalid {name}") from None
        account.next_tokens_used += 1
        return datetime.fromisoformat(cursor["a"]), datetime.fromisoformat(cursor["b"]), cursor["o"]
    if not after:
        raise _error(400, "InvalidInput", "LastUpdatedAfter, CreatedAfter or NextToken is required")
    return _parse(after), (_parse(before) if before else datetime.now(UTC)), 0


async def _orders_page(
    account: Seller, start: datetime, end: datetime, offset: int, size: int, *, from_start: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the orders last updated in the window (its start included when ``from_start``), held
    if a test asked; and the token of the next page, if there is one."""

    def in_window(order: dict[str, Any]) -> bool:
        at = _parse(order["LastUpdateDate"])
        return (start <= at if from_start else start < at) and at <= end

    changed = sorted(
        filter(in_window, account.orders.values()), key=lambda o: (o["LastUpdateDate"], o["AmazonOrderId"])
    )
    await account.pages.serve()
    if offset + size >= len(changed):
        return changed[offset : offset + size], None
    cursor = {"a": start.isoformat(), "b": end.isoformat(), "o": offset + size}
    return changed[offset : offset + size], base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()


@router.get("/orders/v0/orders")
async def get_orders(
    seller: str,
    state: Amazon,
    token: Token = None,
    MarketplaceIds: str = "",
    LastUpdatedAfter: str | None = None,
    LastUpdatedBefore: str | None = None,
    NextToken: str | None = None,
) -> dict[str, Any]:
    account = state.seller(seller)
    _authorised(account, token)
    if not MarketplaceIds:
        raise _error(400, "InvalidInput", "MarketplaceIds is required")
    account.take("getOrders")
    start, end, offset = _resume(account, NextToken, "NextToken", LastUpdatedAfter, LastUpdatedBefore)
    page, next_token = await _orders_page(account, start, end, offset, account.page_size, from_start=False)
    payload: dict[str, Any] = {"Orders": page, "LastUpdatedBefore": _stamp(end)}
    if next_token:
        payload["NextToken"] = next_token
    return {"payload": payload}


# --- Orders API 2026-01-01 ------------------------------------------------------------------------

STATUS_2026 = {
    "Pending": "PENDING",
    "PendingAvailability": "PENDING_AVAILABILITY",
    "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED",
    "Shipped": "SHIPPED",
    "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE",
}


def _money(amount: Any) -> dict[str, str]:
    return {"amount": str(amount), "currencyCode": "INR"}


def order_2026(order: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The order as the Orders API 2026-01-01 shows it."""
    address = order["ShippingAddress"]
    status = STATUS_2026[order["OrderStatus"]]
    return {
        "orderId": order["AmazonOrderId"],
        "createdTime": order["PurchaseDate"],
        "lastUpdatedTime": order["LastUpdateDate"],
        "programs": ["AMAZON_EASY_SHIP"] if order.get("EasyShipShipmentStatus") else [],
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order["MarketplaceId"],
            "marketplaceName": "Amazon.in",
        },
        "buyer": {
            "buyerName": order["BuyerInfo"]["BuyerName"],
            "buyerEmail": order["BuyerInfo"]["BuyerEmail"],
        },
        "recipient": {
            "deliveryAddress": {
                "name": address["Name"],
                "addressLine1": address["AddressLine1"],
                "addressLine2": address.get("AddressLine2"),
                "city": address["City"],
                "stateOrRegion": address["StateOrRegion"],
                "postalCode": address["PostalCode"],
                "countryCode": "IN",
                "phone": address["Phone"],
                "addressType": "RESIDENTIAL",
            }
        },
        "proceeds": {"grandTotal": _money(order["OrderTotal"]["Amount"])},
        "payment": {
            "paymentExecutions": [
                {
                    "paymentMethod": "CashOnDelivery" if order["PaymentMethod"] == "COD" else "Other",
                    "paymentAmount": _money(order["OrderTotal"]["Amount"]),
                }
            ]
        },
        "fulfillment": {
            "fulfillmentStatus": status,
            "fulfilledBy": "AMAZON" if order["FulfillmentChannel"] == "AFN" else "MERCHANT",
            "fulfillmentServiceLevel": "STANDARD",
        },
        "orderItems": [
            {
                "orderItemId": item["OrderItemId"],
                "quantityOrdered": item["QuantityOrdered"],
                "product": {
                    "asin": item["ASIN"],
                    "title": item["Title"],
                    "sellerSku": item["SellerSKU"],
                    "price": {
                        "unitPrice": _money(
                            f"{float(item['ItemPrice']['Amount']) / item['QuantityOrdered']:.2f}"
                        )
                    },
                },
                "proceeds": {
                    "proceedsTotal": _money(item["ItemPrice"]["Amount"]),
                    "breakdowns": [
                        {"type": "ITEM", "subtotal": _money(item["ItemPrice"]["Amount"])},
                        {"type": "SHIPPING", "subtotal": _money(item["ShippingPrice"]["Amount"])},
                    ],
                },
                **(
                    {
                        "cancellation": {
                            "cancellationRequest": {
                                "requester": "BUYER",
                                "cancelReason": item["BuyerRequestedCancel"]["BuyerCancelReason"],
                            }
                        }
                    }
                    if item.get("BuyerRequestedCancel")
                    else {}
                ),
                "fulfillment": {
                    "quantityFulfilled": item["QuantityShipped"],
                    "quantityUnfulfilled": item["QuantityOrdered"] - item["QuantityShipped"],
                },
            }
            for item in items
        ],
    }


@router.get("/orders/2026-01-01/orders")
async def search_orders(
    seller: str,
    state: Amazon,
    token: Token = None,
    marketplaceIds: str = "",
    createdAfter: str | None = None,
    lastUpdatedAfter: str | None = None,
    lastUpdatedBefore: str | None = None,
    paginationToken: str | None = None,
    maxResultsPerPage: int = Query(default=100, ge=1, le=100),
) -> dict[str, Any]:
    account = state.seller(seller)
    _authorised(account, token)
    if not marketplaceIds:
        raise _error(400, "InvalidInput", "marketplaceIds is required")
    if (createdAfter is None) == (lastUpdatedAfter is None):
        raise _error(400, "InvalidInput", "exactly one of createdAfter and lastUpdatedAfter is required")
    account.take("searchOrders")
    start, end, offset = _resume(
        account, paginationToken, "paginationToken", lastUpdatedAfter, lastUpdatedBefore
    )
    size = min(maxResultsPerPage, account.page_size)
    page, next_token = await _orders_page(account, start, end, offset, size, from_start=True)
    answer: dict[str, Any] = {
        "orders": [order_2026(o, account.items[o["AmazonOrderId"]]) for o in page],
        "lastUpdatedBefore": _stamp(end),
    }
    if next_token:
        answer["pagination"] = {"nextToken": next_token}
    return answer


@router.get("/orders/2026-01-01/orders/{order_id}")
async def get_order_2026(order_id: str, account: Annotated[Seller, _calling("getOrder")]) -> dict[str, Any]:
    if order_id not in account.orders:
        raise _error(404, "NotFound", f"Order {order_id} not found")
    return {"order": order_2026(account.orders[order_id], account.items[order_id])}


@router.get("/orders/v0/orders/{order_id}")
async def get_order(order_id: str, account: Annotated[Seller, _calling("getOrder")]) -> dict[str, Any]:
    if order_id not in account.orders:
        raise _error(404, "NotFound", f"Order {order_id} not found")
    return {"payload": account.orders[order_id]}


@router.get("/orders/v0/orders/{order_id}/orderItems")
async def get_order_items(
    order_id: str, account: Annotated[Seller, _calling("getOrderItems")]
) -> dict[str, Any]:
    if order_id not in account.orders:
        raise _error(404, "NotFound", f"Order {order_id} not found")
    return {"payload": {"AmazonOrderId": order_id, "OrderItems": account.items[order_id]}}


@router.post("/orders/v0/orders/{order_id}/shipmentConfirmation", status_code=204)
async def confirm_shipment(
    order_id: str, request: Request, state: Amazon, account: Annotated[Seller, _calling("confirmShipment")]
) -> Response:
    order = account.orders.get(order_id)
    if order is None:
        raise _error(404, "NotFound", f"Order {order_id} not found")
    body = await request.json()
    detail = body.get("packageDetail") or {}
    missing = [
        f
        for f in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems")
        if not detail.get(f)
    ]
    if missing or not body.get("marketplaceId"):
        raise _error(400, "InvalidInput", f"missing {', '.join(missing or ['marketplaceId'])}")
    if order["OrderStatus"] == "Canceled":
        raise _error(400, "InvalidInput", "The order is canceled")
    if not any(
        s["trackingNumber"] == detail["trackingNumber"] and s["order_id"] == order_id
        for s in account.shipments
    ):
        account.shipments.append({"order_id": order_id, **detail})
    order["OrderStatus"] = "Shipped"
    order["LastUpdateDate"] = _stamp(datetime.now(UTC))
    state.notify(account, order)
    return Response(status_code=204)


# --- Listings Items API 2021-08-01 ----------------------------------------------------------------


@router.patch("/listings/2021-08-01/items/{seller_id}/{sku}")
async def patch_listing(
    seller_id: str,
    sku: str,
    request: Request,
    account: Annotated[Seller, _calling("patchListingsItem")],
    marketplaceIds: str = "",
) -> dict[str, Any]:
    body = await request.json()
    if not marketplaceIds or not body.get("productType") or not body.get("patches"):
        raise _error(400, "InvalidInput", "marketplaceIds, productType and patches are required")
    submission = secrets.token_hex(16)
    if sku not in account.stock or sku in account.refused_skus:
        return {
            "sku": sku,
            "status": "INVALID",
            "submissionId": submission,
            "issues": [
                {
                    "code": "4000001",
                    "message": f"SKU {sku} is not a listing of this seller",
                    "severity": "ERROR",
                }
            ],
        }
    for patch in body["patches"]:
        if patch.get("path") == "/attributes/fulfillment_availability" and patch.get("op") in (
            "merge",
            "replace",
        ):
            for value in patch.get("value") or []:
                if value.get("fulfillment_channel_code") == "DEFAULT":
                    account.stock[sku] = int(value["quantity"])
    return {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}


@router.get("/listings/2021-08-01/items/{seller_id}/{sku}")
async def get_listing(
    seller_id: str, sku: str, account: Annotated[Seller, _calling("getListingsItem")]
) -> dict[str, Any]:
    if sku not in account.stock:
        raise _error(404, "NotFound", f"SKU {sku} not found")
    return {
        "sku": sku,
        "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": account.stock[sku]}],
    }
