"""Amazon's Orders API 2026-01-01 (searchOrders, getOrder) in our terms: one order carries its items,
buyer, address, proceeds and cancellation requests inline (``includedData``), so no getOrderItems.
An account chooses it (``orders_api``, ADR 421); the adapter asks and pages the same way as getOrders.

Shapes: amzn/selling-partner-api-models, models/orders-api-model/orders_2026-01-01.json
(SearchOrdersResponse {orders, pagination.nextToken, lastUpdatedBefore}, GetOrderResponse {order},
Order, OrderItem, ItemProduct.price.unitPrice, ItemProceedsBreakdown types ITEM/SHIPPING/DISCOUNT,
ItemCancellationRequest, OrderFulfillment.fulfillmentStatus/fulfilledBy, programs AMAZON_EASY_SHIP,
PaymentExecution.paymentMethod, CustomerAddress, Money {amount, currencyCode}).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts import Payment, PaymentMethod, PaymentStatus
from services.channels.stores.common import full_name, state_name, to_paise
from services.channels.stores.interface import StoreLine, StoreOrder, StoreUnreadable

VERSION = "2026-01-01"
INCLUDED = "BUYER,RECIPIENT,PROCEEDS,PROMOTION,CANCELLATION,FULFILLMENT,PAYMENT"
"""The datasets an order is asked with: what becomes our order, and nothing else."""

WAITING = frozenset({"PENDING", "PENDING_AVAILABILITY"})
"""Placed, payment not authorised (FulfillmentStatus)."""
TO_SHIP = frozenset({"UNSHIPPED", "PARTIALLY_SHIPPED"})
COD = frozenset({"COD", "CashOnDelivery"})


def _time(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise StoreUnreadable(f"{field}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _paise(money: Mapping[str, Any] | None, field: str) -> int:
    """A Money's amount in paise; a discount Amazon writes as negative counts as what it takes off."""
    amount = (money or {}).get("amount")
    try:
        value = abs(Decimal(str(amount))) if amount not in (None, "") else None
    except InvalidOperation:
        raise StoreUnreadable(f"{field}: {amount!r} is not an amount") from None
    return to_paise(value, field=field)


def _proceeds(item: Mapping[str, Any], kind: str, field: str) -> int:
    return sum(
        _paise(b.get("subtotal"), f"{field}.proceeds.breakdowns.{i}.subtotal")
        for i, b in enumerate((item.get("proceeds") or {}).get("breakdowns") or [])
        if b.get("type") == kind
    )


def status_of(order: Mapping[str, Any]) -> str:
    return str((order.get("fulfillment") or {}).get("fulfillmentStatus") or "")


def order_of(order: Mapping[str, Any]) -> StoreOrder:
    """A searchOrders or getOrder order in our terms."""
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    buyer = order.get("buyer") or {}
    lines = []
    shipping = discount = 0
    cancel_reason = None
    for i, item in enumerate(order.get("orderItems") or []):
        field = f"orderItems.{i}"
        quantity = int(item["quantityOrdered"])
        product = item.get("product") or {}
        unit = (product.get("price") or {}).get("unitPrice")
        unit_paise = (
            _paise(unit, f"{field}.product.price.unitPrice")
            if unit
            else _proceeds(item, "ITEM", field) // max(quantity, 1)
        )
        shipping += _proceeds(item, "SHIPPING", field)
        discount += _proceeds(item, "DISCOUNT", field)
        lines.append(
            StoreLine(
                channel_sku=str(product.get("sellerSku") or ""),
                quantity=quantity,
                unit_price_paise=unit_paise,
                variant_id=str(product["asin"]) if product.get("asin") else None,
                title=product.get("title"),
            )
        )
        asked = (item.get("cancellation") or {}).get("cancellationRequest") or {}
        if asked.get("requester") == "BUYER":
            cancel_reason = str(asked.get("cancelReason") or "the buyer asked to cancel")
    total = _paise((order.get("proceeds") or {}).get("grandTotal"), "proceeds.grandTotal")
    methods = {
        str(p.get("paymentMethod"))
        for p in (order.get("payment") or {}).get("paymentExecutions") or []
        if p.get("paymentMethod")
    }
    if methods & COD:
        payment = Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=total)
    else:
        payment = Payment(
            method=PaymentMethod.CARD,
            status=PaymentStatus.CAPTURED,
            gateway="amazon",
            gateway_payment_id=str(order["orderId"]),
            amount_paise=total,
        )
    status = status_of(order)
    return StoreOrder(
        store_order_id=str(order["orderId"]),
        name=str(order["orderId"]),
        placed_at=_time(order["createdTime"], "createdTime"),
        customer={
            "name": address.get("name") or buyer.get("buyerName") or "Amazon buyer",
            "phone": address.get("phone"),
            "email": buyer.get("buyerEmail"),
        },
        shipping_address={
            "line1": address.get("addressLine1"),
            "line2": full_name(address.get("addressLine2"), address.get("addressLine3")) or None,
            "landmark": None,
            "city": address.get("city"),
            "state": state_name(address.get("stateOrRegion")),
            "pincode": (address.get("postalCode") or "").replace(" ", ""),
        },
        lines=tuple(lines),
        shipping_fee_paise=shipping,
        discount_paise=discount,
        total_paise=total,
        payment=payment,
        cancelled=status == "CANCELLED",
        awaiting_payment=status in WAITING,
        shipped_by_marketplace="AMAZON_EASY_SHIP" in (order.get("programs") or []),
        fulfilled_by_marketplace=(order.get("fulfillment") or {}).get("fulfilledBy") == "AMAZON",
        buyer_cancel_reason=cancel_reason,
    )
