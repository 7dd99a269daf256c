"""An exchange from returns (returns.exchange_requested.v1) becomes the free replacement order orders'
intake takes in: channel exchange, the return id as its channel order id, paid by the units sent back."""

from __future__ import annotations

from pathlib import Path

import services.returns
from contracts import Channel, OrderLine, PaymentStatus
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
