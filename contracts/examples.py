"""One realistic example instance per event, for tests, docs and the AsyncAPI catalog.

The story: Asha in Jaipur orders two packs of Assam tea on Shopify, paying cash on delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TypeVar, cast

from contracts._base import Event
from contracts.channel import ChannelOrder
from contracts.enums import (
    CancelReason,
    Channel,
    DeliverySpeed,
    NdrReason,
    NotificationChannel,
    OrderStatus,
    PaymentEventStatus,
    PaymentMethod,
    PaymentStatus,
    ReplyChoice,
    ReturnReason,
    ReturnResolution,
    ReturnStatus,
    ShipmentStatus,
    TicketChange,
)
from contracts.inventory import (
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    LowStock,
    StockChanged,
)
from contracts.invoicing import CreditNoteIssued, InvoiceIssued
from contracts.notifications import CustomerReplied, NotificationFailed, NotificationSent, TicketUpdated
from contracts.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderContactCorrected,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
)
from contracts.payments import PaymentUpdated
from contracts.returns import ReturnExchangeRequested, ReturnRefunded, ReturnRequested, ReturnUpdated
from contracts.routing import FulfilmentPlan, PlannedShipment, RoutingPlanned, WarehouseChanged
from contracts.shipping import (
    CourierServiceabilityChanged,
    ServiceabilityChanged,
    ShipmentCreated,
    ShipmentUpdated,
)
from contracts.values import (
    Address,
    Allocation,
    Customer,
    FieldProblem,
    OrderLine,
    Payment,
    ReturnLine,
    SkuQuantity,
    StockAvailability,
    StockLevels,
)

IST = timezone(timedelta(hours=5, minutes=30), "IST")
PLACED_AT = datetime(2026, 11, 26, 10, 15, tzinfo=IST)
ORDER_ID = "ord_01JDABBA0000000000000001"
CHANNEL_ORDER_ID = "SHP-1001"
RESERVATION_ID = "res_01JDABBA0000000000000001"
SHIPMENT_ID = "shp_01JDABBA0000000000000001"
RETURN_ID = "rma_01JDABBA0000000000000001"
AWB = "1490821234567"


def _at(minutes: int) -> datetime:
    """A UTC time ``minutes`` after the order was placed."""
    return (PLACED_AT + timedelta(minutes=minutes)).astimezone(UTC)


def customer() -> Customer:
    return Customer(name="Asha Verma", phone="+919812345678", email="asha@example.com")


def address() -> Address:
    return Address(
        line1="12 MI Road",
        line2=None,
        landmark=None,
        city="Jaipur",
        state="Rajasthan",
        pincode="302001",
    )


def lines() -> list[OrderLine]:
    return [OrderLine(sku="TEA-ASSAM-250", quantity=2, unit_price_paise=34900)]


def cod_payment() -> Payment:
    return Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=69800)


def allocations() -> list[Allocation]:
    return [Allocation(warehouse_code="BLR1", sku="TEA-ASSAM-250", quantity=2)]


def channel_order() -> ChannelOrder:
    return ChannelOrder(
        channel=Channel.SHOPIFY,
        channel_order_id=CHANNEL_ORDER_ID,
        placed_at=PLACED_AT,
        customer=customer(),
        shipping_address=address(),
        lines=lines(),
        shipping_fee_paise=0,
        discount_paise=0,
        total_paise=69800,
        payment=cod_payment(),
        delivery_speed=DeliverySpeed.STANDARD,
    )


def order_placed() -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER_ID,
        channel=Channel.SHOPIFY,
        channel_order_id=CHANNEL_ORDER_ID,
        status=OrderStatus.PLACED,
        placed_at=PLACED_AT,
        customer=customer(),
        shipping_address=address(),
        lines=lines(),
        shipping_fee_paise=0,
        discount_paise=0,
        total_paise=69800,
        payment=cod_payment(),
        delivery_speed=DeliverySpeed.STANDARD,
        occurred_at=_at(0),
    )


def order_rejected() -> OrderRejected:
    return OrderRejected(
        order_id="ord_01JDABBA0000000000000002",
        channel=Channel.WOOCOMMERCE,
        channel_order_id="WC-5521",
        problems=[
            FieldProblem(
                field="shipping_address.pincode",
                problem="pincode 110001 is in Delhi, not Rajasthan",
            ),
            FieldProblem(field="total_paise", problem="lines add up to 69800, total says 59800"),
        ],
        occurred_at=_at(0),
    )


def order_confirmed() -> OrderConfirmed:
    return OrderConfirmed(
        order_id=ORDER_ID,
        channel=Channel.SHOPIFY,
        channel_order_id=CHANNEL_ORDER_ID,
        customer=customer(),
        shipping_address=address(),
        lines=lines(),
        payment=cod_payment().model_copy(update={"status": PaymentStatus.COD_CONFIRMED}),
        total_paise=69800,
        delivery_speed=DeliverySpeed.STANDARD,
        reservation_id=RESERVATION_ID,
        allocations=allocations(),
        promised_dispatch_by=_at(24 * 60),
        priority=0,
        occurred_at=_at(20),
    )


def order_cancelled() -> OrderCancelled:
    return OrderCancelled(
        order_id=ORDER_ID,
        channel=Channel.SHOPIFY,
        channel_order_id=CHANNEL_ORDER_ID,
        reason_code=CancelReason.COD_DECLINED,
        note="Customer tapped 'Cancel order' on WhatsApp",
        occurred_at=_at(25),
    )


def order_status_changed() -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=ORDER_ID,
        channel=Channel.SHOPIFY,
        channel_order_id=CHANNEL_ORDER_ID,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.PENDING_COD_CONFIRMATION,
        reason="COD order: waiting for the customer's WhatsApp confirmation",
        changed_at=_at(1),
        customer=customer(),
        actor="system",
    )


def order_contact_corrected() -> OrderContactCorrected:
    return OrderContactCorrected(
        order_id=ORDER_ID,
        channel=Channel.SHOPIFY,
        channel_order_id=CHANNEL_ORDER_ID,
        customer=customer(),
        shipping_address=address().model_copy(
            update={"line1": "14 MI Road, 2nd floor", "landmark": "Opposite Raj Mandir Cinema"}
        ),
        corrected_by="ops:priya",
        corrected_at=_at(40),
    )


def payment_updated() -> PaymentUpdated:
    return PaymentUpdated(
        order_id=ORDER_ID,
        status=PaymentEventStatus.COD_CONFIRMED,
        method=PaymentMethod.COD,
        amount_paise=69800,
        gateway=None,
        gateway_payment_id=None,
        occurred_at=_at(18),
    )


def routing_planned() -> RoutingPlanned:
    tea = [SkuQuantity(sku="TEA-ASSAM-250", quantity=2)]
    return RoutingPlanned(
        order_id=ORDER_ID,
        attempt=1,
        plans=[
            FulfilmentPlan(
                rank=1,
                shipments=[PlannedShipment(warehouse_code="GGN1", lines=tea)],
                score=0.91,
                reasons=["single shipment", "Gurugram → Jaipur 240 km, zone B"],
            ),
            FulfilmentPlan(
                rank=2,
                shipments=[PlannedShipment(warehouse_code="BLR1", lines=tea)],
                score=0.58,
                reasons=["single shipment", "Bengaluru → Jaipur 2,050 km, zone E"],
            ),
        ],
        occurred_at=_at(0),
    )


def inventory_reserved() -> InventoryReserved:
    return InventoryReserved(
        order_id=ORDER_ID,
        reservation_id=RESERVATION_ID,
        allocations=allocations(),
        plan_rank=2,
        expires_at=_at(48 * 60),
        occurred_at=_at(0),
    )


def inventory_reservation_failed() -> InventoryReservationFailed:
    return InventoryReservationFailed(
        order_id=ORDER_ID,
        attempt=1,
        reason="GGN1 has 1 of 2 TEA-ASSAM-250",
        availability=[
            StockAvailability(sku="TEA-ASSAM-250", warehouse_code="GGN1", available=1),
            StockAvailability(sku="TEA-ASSAM-250", warehouse_code="BLR1", available=40),
        ],
        occurred_at=_at(0),
    )


def inventory_released() -> InventoryReleased:
    return InventoryReleased(
        order_id=ORDER_ID,
        reservation_id=RESERVATION_ID,
        allocations=allocations(),
        reason="order cancelled: cod_declined",
        occurred_at=_at(25),
    )


def stock_changed() -> StockChanged:
    return StockChanged(
        sku="TEA-ASSAM-250",
        available_total=78,
        by_warehouse={"BOM1": 38, "BLR1": 40, "GGN1": 0},
        levels={
            "BOM1": StockLevels(on_hand=45, reserved=5, buffer=2, reorder_point=10),
            "BLR1": StockLevels(on_hand=40, reserved=0, buffer=0),
            "GGN1": StockLevels(on_hand=3, reserved=3, buffer=0, reorder_point=5),
        },
        changed_at=_at(0),
    )


def low_stock() -> LowStock:
    return LowStock(
        sku="TEA-ASSAM-250",
        warehouse_code="GGN1",
        available=0,
        reorder_point=10,
        occurred_at=_at(0),
    )


def shipment_created() -> ShipmentCreated:
    return ShipmentCreated(
        order_id=ORDER_ID,
        shipment_id=SHIPMENT_ID,
        warehouse_code="BLR1",
        courier="delhivery",
        awb=AWB,
        status=ShipmentStatus.AWB_ASSIGNED,
        lines=[SkuQuantity(sku="TEA-ASSAM-250", quantity=2)],
        label_url="http://localhost:8004/shipments/shp_01JDABBA0000000000000001/label.pdf",
        tracking_url=None,
        cod_amount_paise=69800,
        occurred_at=_at(30),
    )


def shipment_updated() -> ShipmentUpdated:
    return ShipmentUpdated(
        order_id=ORDER_ID,
        shipment_id=SHIPMENT_ID,
        warehouse_code="BLR1",
        courier="delhivery",
        awb=AWB,
        status=ShipmentStatus.NDR,
        courier_status_code="EOD-74",
        ndr_reason=NdrReason.CUSTOMER_UNAVAILABLE,
        attempt=1,
        location="Jaipur_MIRoad_D (Rajasthan)",
        occurred_at=_at(3 * 24 * 60),
    )


def warehouse_changed() -> WarehouseChanged:
    return WarehouseChanged(warehouse_code="GGN1", active=True, cutoff_time=time(16, 30), changed_at=_at(-60))


def serviceability_changed() -> ServiceabilityChanged:
    return ServiceabilityChanged(
        couriers=["delhivery", "shiprocket", "xpressbees"],
        prepaid=["110001", "302001", "560001"],
        cod=["110001", "302001"],
        loaded_at=_at(-60),
        occurred_at=_at(-60),
    )


def courier_serviceability_changed() -> CourierServiceabilityChanged:
    return CourierServiceabilityChanged(
        courier="xpressbees",
        pickup=["122001", "421302", "560058"],
        prepaid=["110001", "302001", "560001"],
        cod=["110001", "302001"],
        loaded_at=_at(-60),
        occurred_at=_at(-60),
    )


def notification_sent() -> NotificationSent:
    return NotificationSent(
        order_id=ORDER_ID,
        message_id="msg_01JDABBA0000000000000001",
        channel=NotificationChannel.WHATSAPP,
        template="cod_confirmation",
        language="hi",
        recipient="+91******5678",
        provider_message_id="wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgS",
        cause_event_id="01936a4e-7c00-7000-8000-000000000001",
        occurred_at=_at(1),
    )


def notification_failed() -> NotificationFailed:
    return NotificationFailed(
        order_id=ORDER_ID,
        message_id="msg_01JDABBA0000000000000002",
        channel=NotificationChannel.SMS,
        template="order_shipped",
        language="en",
        recipient="+91******5678",
        provider_message_id=None,
        cause_event_id="01936a4e-7c00-7000-8000-000000000002",
        error="MSG91 400: DLT template id not approved for sender DABBA",
        occurred_at=_at(31),
    )


def customer_replied() -> CustomerReplied:
    return CustomerReplied(
        order_id=ORDER_ID,
        channel=NotificationChannel.WHATSAPP,
        choice=ReplyChoice.NDR_REATTEMPT,
        shipment_id=SHIPMENT_ID,
        reattempt_on=date(2026, 11, 30),
        in_reply_to_message_id="msg_01JDABBA0000000000000003",
        provider_message_id="wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhgW",
        replied_at=_at(3 * 24 * 60 + 45),
    )


def ticket_updated() -> TicketUpdated:
    return TicketUpdated(
        ticket_id="tkt_01JDABBA0000000000000001",
        order_id=ORDER_ID,
        change=TicketChange.CUSTOMER_WROTE,
        open=True,
        customer_name="Asha Verma",
        customer_phone="+91******5678",
        text="Can you deliver after 6 pm? Nobody is home before that.",
        provider_message_id="wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhgX",
        window_closes_at=_at(4 * 24 * 60),
        occurred_at=_at(3 * 24 * 60),
    )


def _return_lines() -> list[ReturnLine]:
    return [ReturnLine(sku="TEA-ASSAM-250", quantity=1, reason=ReturnReason.DAMAGED, note="Seal torn")]


def return_requested() -> ReturnRequested:
    return ReturnRequested(
        order_id=ORDER_ID,
        return_id=RETURN_ID,
        status=ReturnStatus.APPROVED,
        lines=_return_lines(),
        resolution=ReturnResolution.REFUND,
        pickup_address=address(),
        customer=customer(),
        warehouse_code="BLR1",
        pickup_mode="reverse_pickup",
        occurred_at=_at(6 * 24 * 60),
    )


def return_updated() -> ReturnUpdated:
    return ReturnUpdated(
        order_id=ORDER_ID,
        return_id=RETURN_ID,
        status=ReturnStatus.QC_FAILED,
        lines=_return_lines(),
        warehouse_code="BLR1",
        note="Pack crushed; quarantined",
        kind="return",
        occurred_at=_at(9 * 24 * 60),
    )


def return_refunded() -> ReturnRefunded:
    return ReturnRefunded(
        order_id=ORDER_ID,
        return_id=RETURN_ID,
        status=ReturnStatus.REFUNDED,
        lines=_return_lines(),
        amount_paise=34900,
        refund_id="rfnd_NbX2kq8ZqWn1Tz",
        method=PaymentMethod.UPI,
        refund_mode="gateway_refund",
        shipping_fee_paise=0,
        occurred_at=_at(10 * 24 * 60),
    )


def return_exchange_requested() -> ReturnExchangeRequested:
    return ReturnExchangeRequested(
        order_id=ORDER_ID,
        return_id=RETURN_ID,
        lines=[OrderLine(sku="TEA-ASSAM-500", quantity=1, unit_price_paise=34900)],
        customer=customer(),
        shipping_address=address(),
        payment_method=PaymentMethod.UPI,
        occurred_at=_at(10 * 24 * 60),
    )


def invoice_issued() -> InvoiceIssued:
    return InvoiceIssued(
        order_id=ORDER_ID,
        invoice_id="inv_01JDABBA0000000000000001",
        number="INV/26-27/000042",
        gstin="29AAICA3918J1ZE",
        shipment_id=SHIPMENT_ID,
        warehouse_code="BLR1",
        issued_at=_at(24 * 60),
        place_of_supply="08",
        supply="inter_state",
        taxable_paise=66476,
        cgst_paise=0,
        sgst_paise=0,
        igst_paise=3324,
        total_paise=69800,
        occurred_at=_at(24 * 60),
    )


def credit_note_issued() -> CreditNoteIssued:
    return CreditNoteIssued(
        order_id=ORDER_ID,
        credit_note_id="crn_01JDABBA0000000000000001",
        number="CN/26-27/000007",
        gstin="29AAICA3918J1ZE",
        invoice_id="inv_01JDABBA0000000000000001",
        invoice_number="INV/26-27/000042",
        invoice_issued_at=_at(24 * 60),
        issued_at=_at(10 * 24 * 60),
        place_of_supply="08",
        supply="inter_state",
        taxable_paise=33238,
        cgst_paise=0,
        sgst_paise=0,
        igst_paise=1662,
        total_paise=34900,
        reason="return",
        return_id=RETURN_ID,
        occurred_at=_at(10 * 24 * 60),
    )


EXAMPLES: dict[type[Event], Callable[[], Event]] = {
    ChannelOrder: channel_order,
    OrderPlaced: order_placed,
    OrderRejected: order_rejected,
    OrderConfirmed: order_confirmed,
    OrderCancelled: order_cancelled,
    OrderStatusChanged: order_status_changed,
    OrderContactCorrected: order_contact_corrected,
    PaymentUpdated: payment_updated,
    RoutingPlanned: routing_planned,
    WarehouseChanged: warehouse_changed,
    InventoryReserved: inventory_reserved,
    InventoryReservationFailed: inventory_reservation_failed,
    InventoryReleased: inventory_released,
    StockChanged: stock_changed,
    LowStock: low_stock,
    ShipmentCreated: shipment_created,
    ShipmentUpdated: shipment_updated,
    ServiceabilityChanged: serviceability_changed,
    CourierServiceabilityChanged: courier_serviceability_changed,
    NotificationSent: notification_sent,
    NotificationFailed: notification_failed,
    CustomerReplied: customer_replied,
    TicketUpdated: ticket_updated,
    ReturnRequested: return_requested,
    ReturnUpdated: return_updated,
    ReturnRefunded: return_refunded,
    ReturnExchangeRequested: return_exchange_requested,
    InvoiceIssued: invoice_issued,
    CreditNoteIssued: credit_note_issued,
}


E = TypeVar("E", bound=Event)


def example(event_type: type[E]) -> E:
    """A fresh realistic instance of ``event_type``."""
    return cast(E, EXAMPLES[event_type]())
