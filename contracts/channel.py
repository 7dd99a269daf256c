"""The input contract outside channel adapters write to: an order as a channel saw it.

Shape only; the orders service does the business validation and answers with placed or rejected.
"""

from __future__ import annotations

from pydantic import Field

from contracts import topics
from contracts._base import AwareDatetime, Event, flag
from contracts.enums import Channel, DeliverySpeed
from contracts.values import Address, Customer, FieldProblem, NonEmptyStr, OrderLine, Paise, Payment


class ChannelOrder(Event):
    """``channel.orders.v1``: keyed by ``channel:channel_order_id`` so re-sends stay in order."""

    TOPIC = topics.CHANNEL_ORDERS

    channel: Channel
    channel_order_id: NonEmptyStr
    placed_at: AwareDatetime
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    shipping_fee_paise: Paise = 0
    discount_paise: Paise = 0
    total_paise: Paise
    payment: Payment
    delivery_speed: DeliverySpeed = DeliverySpeed.STANDARD
    channel_problems: list[FieldProblem] = Field(
        default_factory=list,
        description="What the adapter could not translate (a store listing mapped to no SKU, named in "
        "lines.N.sku): orders rejects the order with these reasons, and a later re-send without them "
        "replaces the rejected order.",
        # Absent when empty: an order the adapter translated fully reads exactly as DESIGN.md shows.
        exclude_if=lambda problems: not problems,
    )
    shipped_by_marketplace: bool = flag(
        "The marketplace's own logistics carry this order (Flipkart's shipments other than "
        "self-ship, Amazon Easy Ship): shipping books no courier of its own, and the shipment's AWB and "
        "label come from the marketplace."
    )

    def partition_key(self) -> str:
        return f"{self.channel.value}:{self.channel_order_id}"
