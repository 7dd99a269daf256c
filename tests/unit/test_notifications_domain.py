"""The notification policy: which order status sends which WhatsApp template, in which language."""

import re

import pytest

from contracts import OrderStatus
from contracts.examples import customer, order_status_changed
from services.notifications import domain


def status_change(to_status: OrderStatus, *, language: str = "en"):
    return order_status_changed().model_copy(
        update={
            "to_status": to_status,
            "customer": customer().model_copy(update={"language": language}),
        }
    )


@pytest.mark.parametrize(
    ("status", "template"),
    [
        (OrderStatus.CONFIRMED, "order_confirmed"),
        (OrderStatus.PENDING_COD_CONFIRMATION, "cod_confirmation_request"),
        (OrderStatus.SHIPPED, "order_shipped"),
        (OrderStatus.OUT_FOR_DELIVERY, "order_out_for_delivery"),
        (OrderStatus.DELIVERED, "order_delivered"),
    ],
)
def test_customer_hears_about_the_milestones_of_their_order(status, template):
    message = domain.message_for(status_change(status))

    assert message is not None
    assert message.template == template
    assert message.recipient == "+919812345678"
    assert message.channel == "whatsapp"


@pytest.mark.parametrize(
    "status", [OrderStatus.PLACED, OrderStatus.PACKED, OrderStatus.IN_TRANSIT, OrderStatus.ON_HOLD]
)
def test_internal_steps_send_no_message(status):
    assert domain.message_for(status_change(status)) is None


def test_cod_confirmation_names_the_customer_and_their_order():
    event = status_change(OrderStatus.PENDING_COD_CONFIRMATION)

    message = domain.message_for(event)

    assert message is not None
    assert message.parameters == ("Asha Verma", event.channel_order_id, event.order_id)


def test_hindi_speaking_customer_gets_the_hindi_template():
    message = domain.message_for(status_change(OrderStatus.SHIPPED, language="hi"))

    assert message is not None
    assert message.language == "hi"


def test_a_language_without_a_template_falls_back_to_english():
    message = domain.message_for(status_change(OrderStatus.SHIPPED, language="ta"))

    assert message is not None
    assert message.language == "en"


def test_no_customer_on_the_event_means_no_one_to_message():
    event = order_status_changed().model_copy(update={"to_status": OrderStatus.CONFIRMED, "customer": None})

    assert domain.message_for(event) is None


def test_the_same_milestone_redelivered_keeps_its_message_id():
    first = domain.message_for(status_change(OrderStatus.DELIVERED))
    again = domain.message_for(status_change(OrderStatus.DELIVERED))

    assert first is not None and again is not None
    assert first.message_id == again.message_id


def test_every_policy_template_exists_in_english_and_hindi():
    for name in domain.POLICY.values():
        assert (name, "en") in domain.TEMPLATES
        assert (name, "hi") in domain.TEMPLATES


def test_every_template_body_has_one_placeholder_per_parameter():
    for template in domain.TEMPLATES.values():
        placeholders = {int(n) for n in re.findall(r"\{\{(\d+)\}\}", template.body)}
        assert placeholders == set(range(1, len(template.parameters) + 1)), template.name
        assert set(template.parameters) <= set(domain.PARAMETERS)


def test_rendering_fills_the_body_for_the_audit():
    template = domain.template_for("order_shipped", "en")

    assert domain.render(template, ("Asha", "SHP-1001")) == "Hi Asha, your order SHP-1001 has been shipped."
