"""B2B e-invoices against the real PostgreSQL server and the sandbox IRP (ADR 0400, 0401): a B2B
invoice of a seller above ₹5 crore is issued at once and asks for its IRN; an IRP outage and a lost
answer delay the IRN and lose nothing; the IRN kept is the documented hash, the QR is the IRP's
signed one, and both print on the invoice; a B2C invoice never asks."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from contracts.examples import order_placed
from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.invoicing import documents, einvoicing, issuing, store
from services.invoicing.domain import ewaybill
from services.invoicing.domain.einvoice import irn
from services.invoicing.providers.nic_irp import NicIrp
from services.invoicing.settings import InvoicingSettings
from tests import infra, pdf_checks
from tests.integration.invoicing_seller import BHIWANDI_GSTIN, Emitted, packed, seller_database

pytestmark = pytest.mark.integration

BUYER_GSTIN = "29AAICA3918J1ZE"  # a Bengaluru business
SETTINGS = InvoicingSettings(irn_retry_seconds=0)
PACKED = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # 7 December in India


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    async with seller_database(
        servers,
        "invoicing_einv",
        hsn_code="090230",  # six digits above ₹5 crore
        min_size=2,
        max_size=6,
        address="Plot 12, Bhiwandi MIDC, Thane, Maharashtra",
        turnover_band="above_5_crore",
        city="Bhiwandi",
        pincode="421302",
    ) as p:
        yield p


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SandboxSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        yield http


def irp(http: httpx.AsyncClient) -> NicIrp:
    return NicIrp(http, client_id="c", client_secret="s", username="seller", password="secret")


async def issued_invoice(pool: asyncpg.Pool, *, buyer_gstin: str | None) -> str:
    """A Bengaluru order (of a business when buyer_gstin is given) packed at Bhiwandi and invoiced."""
    order = order_placed()
    order = order.model_copy(
        update={
            "order_id": f"ORD-{uuid.uuid4().hex[:10]}",
            "customer": order.customer.model_copy(
                update={"name": "Acme Cafe Private Limited", "gstin": buyer_gstin}
            ),
            "shipping_address": order.shipping_address.model_copy(
                update={"line1": "12 MG Road", "city": "Bengaluru", "state": "Karnataka", "pincode": "560001"}
            ),
        }
    )
    async with pool.acquire() as conn, conn.transaction():
        shipment_id = await packed(conn, order, PACKED)
        assert (
            await issuing.issue(conn, Emitted(), shipment_id=shipment_id, now=PACKED, settings=SETTINGS)
            == "issued"
        )
        invoice_id = await conn.fetchval(
            "SELECT invoice_id FROM invoices WHERE shipment_id = $1", shipment_id
        )
    return str(invoice_id)


def jwt_data(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["iss"] == "NIC"
    return dict(json.loads(claims["data"]))


async def test_an_irp_outage_and_a_lost_answer_delay_the_irn_and_lose_nothing(
    pool: asyncpg.Pool, sandbox: httpx.AsyncClient
) -> None:
    invoice_id = await issued_invoice(pool, buyer_gstin=BUYER_GSTIN)
    invoice = await store.invoice(pool, invoice_id)
    assert invoice is not None and invoice.recipient["gstin"] == BUYER_GSTIN
    portal = irp(sandbox)

    # The IRP is down: the invoice stands, its e-invoice waits with the reason.
    r = await sandbox.post("/_sandbox/faults", json={"provider": "irp", "fail_next": 1, "status_code": 503})
    assert r.status_code == 200
    assert await einvoicing.register_due(pool, portal, SETTINGS) == 0
    held = await store.einvoice(pool, invoice_id)
    assert held is not None and (held.state, held.irn) == ("due", None)
    assert "503" in (held.problem or "")

    # Back, but the answer of the registration it made is lost: the retry meets "Duplicate IRN".
    await sandbox.post("/_sandbox/irp/lose", json={"count": 1})
    assert await einvoicing.register_due(pool, portal, SETTINGS) == 0
    assert (await sandbox.get("/_sandbox/irp/invoices")).json()["generate_calls"] == 1
    assert await einvoicing.register_due(pool, portal, SETTINGS) == 1
    seen = (await sandbox.get("/_sandbox/irp/invoices")).json()
    assert seen["generate_calls"] == 2 and len(seen["registered"]) == 1, "registered once, asked twice"

    registered = await store.einvoice(pool, invoice_id)
    assert registered is not None and registered.state == "registered" and registered.problem is None
    assert registered.irn == irn(
        gstin=BHIWANDI_GSTIN, financial_year=2026, doc_type="INV", number=invoice.number
    )
    assert registered.ack_no == str(seen["registered"][0]["AckNo"])
    qr = jwt_data(registered.signed_qr_code or "")
    assert (qr["SellerGstin"], qr["BuyerGstin"], qr["DocNo"], qr["DocDt"]) == (
        BHIWANDI_GSTIN,
        BUYER_GSTIN,
        invoice.number,
        "07/12/2026",
    )
    assert qr["TotInvVal"] == invoice.total_paise / 100 and qr["Irn"] == registered.irn
    assert await einvoicing.register_due(pool, portal, SETTINGS) == 0, "nothing left to send"

    # The invoice prints its IRN, acknowledgement and the signed QR code, inside their boxes.
    rendered = documents.render(documents.of_invoice(invoice, registered))
    text = pdf_checks.words(pdf_checks.text(rendered.pdf))
    assert f"IRN {registered.irn}" in text and f"Ack No. {registered.ack_no}" in text
    assert f"GSTIN {BUYER_GSTIN}" in text
    assert pdf_checks.ink_outside(rendered, keep="einvoice") == []
    plain = documents.render(documents.of_invoice(invoice, None))
    assert "IRN" not in pdf_checks.text(plain.pdf)

    # Its e-way bill (were it worth more than ₹50,000) names both GSTINs and how far it goes.
    assert not ewaybill.needed(invoice.total_paise)
    (bill,) = ewaybill.bill(einvoicing.consignment(invoice))["billLists"]
    assert (bill["fromGstin"], bill["toGstin"], bill["docNo"], bill["toPincode"]) == (
        BHIWANDI_GSTIN,
        BUYER_GSTIN,
        invoice.number,
        560001,
    )
    assert 700 < int(bill["transDistance"]) < 900


async def test_a_b2c_invoice_or_a_seller_below_five_crore_never_asks_the_irp(
    pool: asyncpg.Pool, sandbox: httpx.AsyncClient
) -> None:
    b2c = await issued_invoice(pool, buyer_gstin=None)
    assert await store.einvoice(pool, b2c) is None
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE registrations SET turnover_band = 'up_to_5_crore' WHERE gstin = $1", BHIWANDI_GSTIN
        )
        try:
            small = await issued_invoice(pool, buyer_gstin=BUYER_GSTIN)
        finally:
            await conn.execute(
                "UPDATE registrations SET turnover_band = 'above_5_crore' WHERE gstin = $1", BHIWANDI_GSTIN
            )
    assert await store.einvoice(pool, small) is None
    invoice = await store.invoice(pool, small)
    assert invoice is not None and invoice.recipient["gstin"] == BUYER_GSTIN, "still a B2B invoice"


async def test_an_invoice_cancelled_before_its_irn_came_is_never_sent(
    pool: asyncpg.Pool, sandbox: httpx.AsyncClient
) -> None:
    invoice_id = await issued_invoice(pool, buyer_gstin=BUYER_GSTIN)
    invoice = await store.invoice(pool, invoice_id)
    assert invoice is not None
    async with pool.acquire() as conn:
        assert await store.cancel_invoice(conn, shipment_id=invoice.shipment_id, at=PACKED) is not None
    await einvoicing.register_due(pool, irp(sandbox), SETTINGS)
    voided = await store.einvoice(pool, invoice_id)
    assert voided is not None and (voided.state, voided.irn) == ("void", None)
    assert (await sandbox.get("/_sandbox/irp/invoices")).json()["generate_calls"] == 0


async def test_a_registered_irn_is_cancelled_at_the_irp_when_its_shipment_is_cancelled(
    pool: asyncpg.Pool, sandbox: httpx.AsyncClient
) -> None:
    invoice_id = await issued_invoice(pool, buyer_gstin=BUYER_GSTIN)
    portal = irp(sandbox)
    assert await einvoicing.register_due(pool, portal, SETTINGS) == 1
    invoice = await store.invoice(pool, invoice_id)
    registered = await store.einvoice(pool, invoice_id)
    assert invoice is not None and registered is not None and registered.irn

    # What the consumer does with the shipment's CANCELLED, then the sweep (the IRP down once first).
    async with pool.acquire() as conn, conn.transaction():
        assert await store.cancel_invoice(conn, shipment_id=invoice.shipment_id, at=PACKED) is not None
        await store.cancel_einvoice(conn, invoice_id=invoice_id)
    await sandbox.post("/_sandbox/faults", json={"provider": "irp", "fail_next": 1, "status_code": 503})
    await einvoicing.register_due(pool, portal, SETTINGS)
    waiting = await store.einvoice(pool, invoice_id)
    assert waiting is not None and waiting.state == "cancel_due" and "503" in (waiting.problem or "")
    await einvoicing.register_due(pool, portal, SETTINGS)
    cancelled = await store.einvoice(pool, invoice_id)
    assert cancelled is not None and (cancelled.state, cancelled.irn) == ("cancelled", registered.irn)
    assert registered.irn in (await sandbox.get("/_sandbox/irp/invoices")).json()["cancelled"]
    # A redelivered CANCELLED asks nothing more of the IRP.
    async with pool.acquire() as conn:
        await store.cancel_einvoice(conn, invoice_id=invoice_id)
    again = await store.einvoice(pool, invoice_id)
    assert again is not None and again.state == "cancelled"
