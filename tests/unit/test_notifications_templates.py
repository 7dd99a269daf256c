"""SMS templates follow DLT's rules or the service refuses to load them, naming the template and rule."""

from __future__ import annotations

import copy
import tomllib

import pytest

from contracts import NdrReason, NotificationChannel, OrderStatus
from contracts.examples import customer, order_status_changed
from services.notifications.domain import policy, templates
from services.notifications.domain.templates import TemplateError

with templates.DEFAULT_FILE.open("rb") as f:
    SHIPPED = tomllib.load(f)


def catalogue_with(**changes: object) -> dict:
    """The shipped catalogue with the first template (order_confirmed/en) changed."""
    raw = copy.deepcopy(SHIPPED)
    raw["template"][0] |= changes
    return raw


def test_the_shipped_catalogue_loads_with_every_policy_template_in_both_languages():
    catalogue = templates.parse(SHIPPED)

    names = {*policy.POLICY.values(), "ndr_options", "return_update", "refund_processed"}
    for name in names:
        for language in ("en", "hi"):
            template = catalogue.templates[(name, language)]
            assert template.sms is not None, f"{name}/{language} has no SMS fallback"
            assert catalogue.brand in template.sms.body


def test_a_variable_as_the_last_word_is_refused_at_load():
    with pytest.raises(TemplateError) as refused:
        templates.parse(catalogue_with(sms_body="Dabba: Hi {#var#}, your order is {#var#}"))

    assert refused.value.problems == [
        "order_confirmed/en.sms_body: a variable may not be the last word (DLT rejects it)"
    ]


def test_an_sms_without_the_brand_name_is_refused_at_load():
    with pytest.raises(
        TemplateError, match=r"order_confirmed/en.sms_body: the brand name 'Dabba' must appear"
    ):
        templates.parse(catalogue_with(sms_body="Hi {#var#}, your order {#var#} is confirmed. Thanks"))


def test_a_variable_that_can_exceed_30_characters_is_refused_at_load(monkeypatch):
    monkeypatch.setitem(templates.PARAMETER_MAX_LENGTH, "channel_order_id", 40)

    with pytest.raises(TemplateError, match=r"'channel_order_id' can be 40 characters, DLT allows 30"):
        templates.parse(SHIPPED)


def test_placeholders_must_match_the_variables_and_every_problem_is_listed():
    raw = catalogue_with(sms_variables=["customer_name"], dlt_template_id="12345")

    with pytest.raises(TemplateError) as refused:
        templates.parse(raw)

    assert refused.value.problems == [
        "order_confirmed/en.sms_body: 2 {#var#} placeholders but 1 sms_variables",
        "order_confirmed/en.dlt_template_id: a DLT template id has 19 digits, got '12345'",
    ]


def test_a_sender_header_that_dlt_would_not_register_is_refused():
    raw = copy.deepcopy(SHIPPED) | {"sender": "Dabba1"}

    with pytest.raises(TemplateError, match="sender: a DLT sender header is 6 capital letters"):
        templates.parse(raw)


def test_an_unknown_button_choice_is_refused():
    with pytest.raises(TemplateError, match=r"order_confirmed\.buttons"):
        templates.parse(catalogue_with(buttons=["cod_maybe"]))


def test_cod_confirmation_offers_confirm_and_cancel_buttons_for_the_order():
    event = order_status_changed().model_copy(update={"to_status": OrderStatus.PENDING_COD_CONFIRMATION})

    message = policy.message_for(event)

    assert message is not None
    assert message.buttons == (f"cod_confirm:{event.order_id}", f"cod_cancel:{event.order_id}")
    assert message.urgent and message.transactional


def test_the_whatsapp_message_carries_its_dlt_sms_fallback():
    event = order_status_changed().model_copy(update={"to_status": OrderStatus.SHIPPED})

    message = policy.message_for(event)

    assert message is not None and message.fallback is not None
    sms = message.fallback
    assert sms.channel is NotificationChannel.SMS
    assert sms.dlt_template_id == "1107170000000000105"
    assert sms.message_id != message.message_id
    assert sms.text == (
        f"Dabba: Hi Asha Verma, your order {event.channel_order_id} has shipped. "
        f"Track it at https://dabba.in/t/{event.order_id} - Dabba"
    )
    assert message.url_suffix == event.order_id


def test_a_long_name_is_clipped_to_30_characters_in_the_sms_only():
    long_name = "Venkata Lakshmi Narasimha Subrahmanyam"
    event = order_status_changed().model_copy(
        update={
            "to_status": OrderStatus.CONFIRMED,
            "customer": customer().model_copy(update={"name": long_name}),
        }
    )

    message = policy.message_for(event)

    assert message is not None and message.fallback is not None
    assert message.parameters[0] == long_name
    assert len(message.fallback.parameters[0]) == 30


def test_each_ndr_attempt_asks_the_customer_once_with_the_shipment_in_the_buttons():
    facts = policy.Facts(order_id="ORD-1", customer_name="Asha", phone="+919812345678", shipment_id="SHP-9")

    first = policy.ndr_message(facts, attempt=1, reason=NdrReason.CUSTOMER_UNAVAILABLE)
    again = policy.ndr_message(facts, attempt=1, reason=NdrReason.CUSTOMER_UNAVAILABLE)
    second = policy.ndr_message(facts, attempt=2, reason=NdrReason.CASH_NOT_READY)

    assert first.message_id == again.message_id != second.message_id
    assert first.buttons == ("ndr_reattempt:SHP-9", "ndr_new_address:SHP-9", "ndr_cancel:SHP-9")
    assert "nobody was available" in first.text


def test_delivered_is_not_transactional_so_stop_silences_it():
    event = order_status_changed().model_copy(update={"to_status": OrderStatus.DELIVERED})

    message = policy.message_for(event)

    assert message is not None
    assert not message.transactional and not message.urgent


def test_an_operator_alert_is_unique_per_key():
    one = policy.alert(
        "low_stock", key="TEA:BOM1:e1", sku="TEA", warehouse_code="BOM1", available=2, reorder_point=10
    )
    two = policy.alert(
        "low_stock", key="TEA:BOM1:e2", sku="TEA", warehouse_code="BOM1", available=1, reorder_point=10
    )

    assert one.channel is NotificationChannel.SLACK and one.recipient == "ops"
    assert one.text == "Low stock: TEA at BOM1 has 2 left (reorder point 10)"
    assert one.message_id != two.message_id


def test_a_refund_amount_reads_in_rupees():
    facts = policy.Facts(
        order_id="ORD-1", customer_name="Asha", phone="+919812345678", return_id="RMA-7K2Q9D"
    )

    message = policy.refund_message(facts, refund_id="rfnd_1", amount_paise=69850)

    assert "Rs 698.50" in message.text
