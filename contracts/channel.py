"""The input contract outside channel adapters write to: an order as a channel saw it.

Shape only; the orders service does the business validation and answers with placed or rejected.
"""

from __future__ import annotations

from pydantic import Field

from contracts import topics
from contracts._base import AwareDatetime, Event
from contracts.enums import Channel, DeliverySpeed
from contracts.values import Address, Customer, NonEmptyStr, OrderLine, Paise, Payment


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

    def partition_key(self) -> str:
        return f"{self.channel.value}:{self.channel_order_id}"
