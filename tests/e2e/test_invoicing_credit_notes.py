"""Invoices and credit notes through the real stack (ADR 0240, 0391): a shipped order's parcel is
invoiced when packed, and its PDF, fetched from invoicing's API, carries every Rule 46 field; a
return of it, once QC'd and refunded through the Razorpay sandbox, brings a credit note citing that
invoice's number and date for what was refunded (its PDF too); a parcel that comes back undelivered
(RTO) brings one for the whole invoice; a parcel cancelled before packing is never invoiced, even
when a late "packed" follows. Orders and shipping are other teams' services: their events are
published here exactly as they would publish them."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from chassis.clock import IST
from contracts import (
    Address,
    Channel,
    Customer,
    Envelope,
    OrderLine,
    OrderPlaced,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
    SkuQuantity,
)
from contracts._base import utcnow
from deploy.local.stack import Stack
from tests import pdf_checks
from tests.conftest import Tap, body_has, publish_event
from tests.e2e.test_returns_flow import (
    client,
    delivered_order,
    receive_and_qc,
    refunded_return,
    request_return,
)
from tests.helpers import unique, url, wait_applied, wait_until

pytestmark = pytest.mark.e2e

BHIWANDI_GSTIN = "27AAPFU0939F1ZV"  # Maharashtra: BOM1 ships under it; Jaipur (302001) is inter-state


def value(record: Any) -> dict[str, Any]:
    return json.loads(record.value)


async def seller_data(http: httpx.AsyncClient, sku: str) -> None:
    """The seller's registration, BOM1's GSTIN and the SKU's tax class (tea, HSN 0902, 5%)."""
    r = await http.put(
        url("invoicing", f"/registrations/{BHIWANDI_GSTIN}"),
        json={
            "legal_name": "Chai Point Retail Private Limited",
            "address": "Plot 12, Bhiwandi MIDC, Thane, Maharashtra 421302",
            "turnover_band": "up_to_5_crore",
        },
    )
    assert r.status_code == 200, r.text
    r = await http.put(url("invoicing", "/warehouses/BOM1"), json={"gstin": BHIWANDI_GSTIN})
    assert r.status_code == 200, r.text
    r = await http.put(
        url("invoicing", f"/tax-classes/{sku}"),
        json={"description": "Assam tea 250 g", "hsn_code": "0902", "gst_rate": "5"},
    )
    assert r.status_code == 200, r.text


async def shipping_says(
    producer: AIOKafkaProducer, order: dict[str, Any], status: ShipmentStatus
) -> Envelope:
    """Shipping's news of the order's parcel from BOM1, with Delhivery: ``status``."""
    return await publish_event(
        producer,
        ShipmentUpdated(
            order_id=order["order_id"],
            shipment_id=order["shipment_id"],
            warehouse_code="BOM1",
            courier="delhivery",
            status=status,
        ),
        source="shipping",
    )


async def packed(
    producer: AIOKafkaProducer, tap: Tap, order: dict[str, Any], status: ShipmentStatus
) -> dict[str, Any]:
    """Shipping says the parcel is packed (and on): invoicing issues its invoice."""
    await shipping_says(producer, order, status)
    (issued,) = await tap.wait_for(
        "invoicing.invoice_issued.v1", body_has(order_id=order["order_id"]), timeout=120
    )
    return value(issued)


async def test_a_refunded_return_brings_a_credit_note_citing_the_parcels_invoice(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA-ASSAM-250")
    async with client() as http:
        await seller_data(http, sku)
        order = await delivered_order(producer, lines=[(sku, 2, 34900)], method=PaymentMethod.UPI)
        invoice = await packed(producer, tap, order, ShipmentStatus.PACKED)
        # 2 × ₹349 at 5% from Maharashtra to Rajasthan: IGST on 66476 taxable.
        assert (
            invoice["supply"],
            invoice["taxable_paise"],
            invoice["igst_paise"],
            invoice["total_paise"],
        ) == (
            "inter_state",
            66476,
            3324,
            69800,
        )

        # The invoice as the pack station prints it, from invoicing's API: every Rule 46 field.
        r = await http.get(url("invoicing", f"/invoices/{invoice['invoice_id']}.pdf"))
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
        text = pdf_checks.words(pdf_checks.text(r.content))
        issued_on = datetime.fromisoformat(invoice["issued_at"]).astimezone(IST).strftime("%d-%m-%Y")
        rule_46 = {
            "title": "TAX INVOICE",
            "supplier": "Chai Point Retail Private Limited",
            "supplier address": "Plot 12, Bhiwandi MIDC, Thane, Maharashtra 421302",
            "supplier GSTIN": f"GSTIN {BHIWANDI_GSTIN}",
            "serial": f"Invoice no. {invoice['number']}",
            "date": f"Date {issued_on}",
            "recipient": "Asha Verma",
            "recipient address": "12 MI Road Jaipur, Rajasthan 302001",
            "recipient GSTIN": "GSTIN Unregistered",
            "place of supply": "Place of supply Rajasthan (08)",
            "reverse charge": "Reverse charge No",
            "line": f"Assam tea 250 g ({sku}) 0902 2 NOS 664.76 5 33.24 698.00",
            "taxes": "IGST 33.24",
            "total": "Total invoice value (₹) 698.00",
            "in words": "Rupees Six Hundred Ninety Eight Only",
            "signature": "For Chai Point Retail Private Limited",
            "signatory": "Authorised signatory",
        }
        assert [name for name, field in rule_46.items() if field not in text] == [], text

        rma = await request_return(
            http,
            order_id=order["order_id"],
            lines=[{"sku": sku, "quantity": 1, "reason": "size_issue"}],
            pickup_mode="drop_off",
        )
        return_id = rma["return_id"]
        await receive_and_qc(http, return_id, [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}])
        await refunded_return(http, return_id)

        (record,) = await tap.wait_for(
            "invoicing.credit_note_issued.v1", body_has(order_id=order["order_id"]), timeout=120
        )
        note = value(record)
        assert record.key == order["order_id"].encode()
        assert (note["reason"], note["return_id"], note["gstin"]) == ("return", return_id, BHIWANDI_GSTIN)
        assert (note["invoice_id"], note["invoice_number"]) == (invoice["invoice_id"], invoice["number"])
        assert datetime.fromisoformat(note["invoice_issued_at"]) == datetime.fromisoformat(
            invoice["issued_at"]
        )
        assert note["number"].startswith("CN/") and len(note["number"]) <= 16
        # One unit refunded at ₹349: taxable 34900 × 66476 / 69800 = 33238, IGST 1662.
        assert (
            note["supply"],
            note["taxable_paise"],
            note["igst_paise"],
            note["cgst_paise"],
            note["total_paise"],
        ) == (
            "inter_state",
            33238,
            1662,
            0,
            34900,
        )

        listed = (
            await http.get(url("invoicing", "/credit-notes"), params={"order_id": order["order_id"]})
        ).json()
        [stored] = listed["items"]
        assert stored["number"] == note["number"]
        assert [
            (x["sku"], x["quantity"], x["gross_paise"], x["taxable_paise"], x["igst_paise"])
            for x in stored["lines"]
        ] == [(sku, 1, 34900, 33238, 1662)]
        assert (stored["invoice_number"], stored["reason"]) == (invoice["number"], "return")
        r = await http.get(url("invoicing", f"/credit-notes/{stored['credit_note_id']}.pdf"))
        assert r.status_code == 200, r.text
        text = pdf_checks.words(pdf_checks.text(r.content))
        for field in (
            "CREDIT NOTE",
            f"Credit note no. {note['number']}",
            f"Against invoice {invoice['number']} dated {issued_on}",
            "Reason Goods returned by the customer",
            "Total credited (₹) 349.00",
        ):
            assert field in text, (field, text)


async def test_a_parcel_back_undelivered_brings_a_credit_note_for_its_whole_invoice(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA-ASSAM-250")
    async with client() as http:
        await seller_data(http, sku)
        order = await delivered_order(
            producer, lines=[(sku, 3, 34900)], method=PaymentMethod.COD, deliver=False
        )
        invoice = await packed(producer, tap, order, ShipmentStatus.MANIFESTED)
        for status in (
            ShipmentStatus.RTO_INITIATED,
            ShipmentStatus.RTO_DELIVERED,
            ShipmentStatus.RTO_DELIVERED,
        ):
            await shipping_says(producer, order, status)
        (record,) = await tap.wait_for(
            "invoicing.credit_note_issued.v1", body_has(order_id=order["order_id"]), timeout=120
        )
        note = value(record)
        assert (note["reason"], note["return_id"], note["invoice_number"]) == ("rto", None, invoice["number"])
        for field in ("taxable_paise", "cgst_paise", "sgst_paise", "igst_paise", "total_paise"):
            assert note[field] == invoice[field], field

        async def settled() -> list[dict[str, Any]] | None:
            rows = (
                await http.get(
                    url("invoicing", "/credit-requests"), params={"state": "credited", "limit": 500}
                )
            ).json()["items"]
            mine = [x for x in rows if x["order_id"] == order["order_id"]]
            return mine or None

        # The RTO delivered twice asked once; and the COD parcel's RTO at the returns desk refunds
        # nothing, so no second note can come from it.
        assert [x["source"] for x in await wait_until(settled, what="the RTO credited", timeout=60)] == [
            f"rto:{order['shipment_id']}"
        ]
        listed = (
            await http.get(url("invoicing", "/credit-notes"), params={"order_id": order["order_id"]})
        ).json()
        assert [x["number"] for x in listed["items"]] == [note["number"]]

        # The month's GSTR-1 document summary counts this credit note in the credit-note series.
        month = datetime.fromisoformat(note["issued_at"]).astimezone(IST).strftime("%Y-%m")
        r = await http.get(url("invoicing", f"/gstr1/{BHIWANDI_GSTIN}/{month}/docs.csv"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["Nature of Document", "Sr. No. From", "Sr. No. To", "Total Number", "Cancelled"]
        (credit_row,) = [x for x in rows if x[0] == "Credit Note"]
        assert credit_row[1] <= note["number"] <= credit_row[2], "the note is inside the month's series"


async def test_a_parcel_cancelled_before_packing_is_never_invoiced_even_when_packed_arrives_late(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA-ASSAM-250")
    async with client() as http:
        await seller_data(http, sku)
        order = await delivered_order(
            producer, lines=[(sku, 1, 34900)], method=PaymentMethod.COD, deliver=False
        )
        for status in (ShipmentStatus.CANCELLED, ShipmentStatus.PACKED):  # a courier's late scan
            last = await shipping_says(producer, order, status)
        await wait_applied("invoicing", last.id, timeout=60)
        listed = (
            await http.get(url("invoicing", "/invoices"), params={"order_id": order["order_id"]})
        ).json()
        assert listed["items"] == []
        void = (
            await http.get(url("invoicing", "/shipments"), params={"invoice_state": "void", "limit": 500})
        ).json()["items"]
        assert order["shipment_id"] in [x["shipment_id"] for x in void]


BENGALURU_GSTIN = "29AAICA3918J1ZE"  # BLR1's seller here: above ₹5 crore, so its B2B invoices are e-invoiced
BUYER_GSTIN = "27AAPFU0939F1ZV"  # a Mumbai business buying from it


async def test_a_b2b_parcel_is_invoiced_at_once_and_its_pdf_gets_the_irps_irn_and_qr(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA-ASSAM-250")
    order_id, shipment_id = unique("ORD-B2B"), unique("SHP")
    async with client() as http:
        for path, body in (
            (
                f"/registrations/{BENGALURU_GSTIN}",
                {
                    "legal_name": "Chai Point Karnataka Private Limited",
                    "address": "Plot 4, Peenya Industrial Area",
                    "city": "Bengaluru",
                    "pincode": "560058",
                    "turnover_band": "above_5_crore",
                },
            ),
            ("/warehouses/BLR1", {"gstin": BENGALURU_GSTIN}),
            (
                f"/tax-classes/{sku}",
                {"description": "Assam tea 250 g", "hsn_code": "090230", "gst_rate": "5"},
            ),
        ):
            r = await http.put(url("invoicing", path), json=body)
            assert r.status_code == 200, r.text
        placed = OrderPlaced(
            order_id=order_id,
            channel=Channel.WEBSITE,
            channel_order_id=order_id,
            placed_at=utcnow(),
            customer=Customer(name="Acme Cafe Private Limited", phone="+919812345678", gstin=BUYER_GSTIN),
            shipping_address=Address(
                line1="12 Marine Drive", city="Mumbai", state="Maharashtra", pincode="400020"
            ),
            lines=[OrderLine(sku=sku, quantity=4, unit_price_paise=34900)],
            shipping_fee_paise=0,
            total_paise=139600,
            payment=Payment(method=PaymentMethod.UPI, status=PaymentStatus.CAPTURED, amount_paise=139600),
        )
        await publish_event(producer, placed, source="orders")
        await publish_event(
            producer,
            ShipmentCreated(
                order_id=order_id,
                shipment_id=shipment_id,
                warehouse_code="BLR1",
                courier="delhivery",
                awb=unique("AWB"),
                lines=[SkuQuantity(sku=sku, quantity=4)],
            ),
            source="shipping",
        )
        await publish_event(
            producer,
            ShipmentUpdated(
                order_id=order_id,
                shipment_id=shipment_id,
                warehouse_code="BLR1",
                courier="delhivery",
                status=ShipmentStatus.PACKED,
            ),
            source="shipping",
        )
        (issued,) = await tap.wait_for(
            "invoicing.invoice_issued.v1", body_has(order_id=order_id), timeout=120
        )
        invoice = value(issued)

        async def registered() -> dict[str, Any] | None:
            rows = (
                await http.get(url("invoicing", "/einvoices"), params={"state": "registered", "limit": 500})
            ).json()["items"]
            return next((x for x in rows if x["invoice_id"] == invoice["invoice_id"]), None)

        # The sweep sends it to the sandbox IRP (encrypted as NIC's API is) and keeps its answer.
        einvoice = await wait_until(registered, what="the IRN registered", timeout=60)
        r = await http.get(url("invoicing", f"/invoices/{invoice['invoice_id']}/einvoice.json"))
        assert r.status_code == 200, r.text
        assert (r.json()["BuyerDtls"]["Gstin"], r.json()["DocDtls"]["No"]) == (BUYER_GSTIN, invoice["number"])
        r = await http.get(url("invoicing", f"/invoices/{invoice['invoice_id']}.pdf"))
        assert r.status_code == 200, r.text
        text = pdf_checks.words(pdf_checks.text(r.content))
        for field in (f"IRN {einvoice['irn']}", f"Ack No. {einvoice['ack_no']}", f"GSTIN {BUYER_GSTIN}"):
            assert field in text, (field, text)
