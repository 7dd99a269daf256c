"""An exchange from returns (returns.exchange_requested.v1) becomes the free replacement order orders'
intake takes in: channel exchange, the return id as its channel order id, paid by the units sent back."""

from __future__ import annotations

from pathlib import Path

import services.returns
from contracts import Channel, OrderLine, OrderStatus, PaymentMethod, PaymentStatus
from contracts.examples import return_exchange_requested
from services.orders import domain


def test_an_exchange_is_a_free_order_for_the_replacement_paid_by_the_units_sent_back() -> None:
    asked = return_exchange_requested().model_copy(
        update={"lines": [OrderLine(sku="KURTA-L", quantity=2, unit_price_paise=79900)]}
    )
    order = domain.exchange_order(asked)
    assert (order.channel, order.channel_order_id) == (Channel.EXCHANGE, asked.return_id)
    assert order.lines == asked.lines
    assert (order.discount_paise, order.shipping_fee_paise, order.total_paise) == (2 * 79900, 0, 0)
    assert order.payment.status is PaymentStatus.CAPTURED
    assert (order.payment.gateway, order.payment.gateway_payment_id) == (
        domain.EXCHANGE_GATEWAY,
        asked.return_id,
    )
    assert order.payment.method is asked.payment_method and order.payment.amount_paise == 0
    assert (order.customer, order.shipping_address) == (asked.customer, asked.shipping_address)
    assert order.placed_at == asked.occurred_at


def test_intake_accepts_the_exchange_order_as_it_is() -> None:
    assert (
        domain.check_order(domain.exchange_order(return_exchange_requested()), cod_limit_paise=5_000_000)
        == []
    )


def test_returns_never_writes_channel_orders() -> None:
    source = "\n".join(p.read_text() for p in Path(services.returns.__file__).parent.rglob("*.py"))
    assert "ChannelOrder" not in source and "CHANNEL_ORDERS" not in source


def test_a_cod_orders_exchange_is_accepted_and_goes_on_as_paid_with_nothing_to_collect() -> None:
    """Most Indian orders are COD: their replacement must not be REJECTED ("a COD order starts pending")
    nor wait for a COD confirmation: the units sent back paid for it."""
    asked = return_exchange_requested().model_copy(update={"payment_method": PaymentMethod.COD})
    order = domain.exchange_order(asked)
    assert order.payment.method is PaymentMethod.COD and order.total_paise == 0
    assert domain.check_order(order, cod_limit_paise=5_000_000) == []
    assert domain.status_after_reservation(order.payment.method, order.payment.status) == (
        OrderStatus.CONFIRMED,
        "stock reserved and payment captured",
    )


def test_a_cod_order_that_is_not_an_exchange_still_starts_pending_and_waits_for_its_confirmation() -> None:
    asked = return_exchange_requested().model_copy(update={"payment_method": PaymentMethod.COD})
    claimed = domain.exchange_order(asked).model_copy(update={"channel": Channel.WEBSITE})
    assert {p.field for p in domain.check_order(claimed, cod_limit_paise=5_000_000)} >= {"payment.gateway"}
    assert domain.next_after_hold(PaymentMethod.COD, PaymentStatus.PENDING)[0] is (
        OrderStatus.PENDING_COD_CONFIRMATION
    )
