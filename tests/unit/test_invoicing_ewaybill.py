"""E-way bills (ADR 0402): a parcel worth more than ₹50,000 gets its Part A as the e-way bill system's
JSON upload, with the invoice's document, parties, values and items; a smaller one needs none."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from chassis import geo
from services.invoicing import domain
from services.invoicing.domain import Good, ewaybill
from services.invoicing.domain.einvoice import EInvoiceFacts, Party

SELLER = Party(
    gstin="27AAPFU0939F1ZV",
    legal_name="Chai Point Retail Private Limited",
    trade_name="Chai Point",
    address=("Plot 12, Bhiwandi MIDC, Thane",),
    city="Bhiwandi",
    pincode="421302",
    state_code="27",
)
BUYER = Party(
    gstin="29AAICA3918J1ZE",
    legal_name="Acme Cafe Private Limited",
    address=("12 MG Road", "Ashok Nagar"),
    city="Bengaluru",
    pincode="560001",
    state_code="29",
)
LAPTOP = Good("LAPTOP-14", "Laptop 14 inch", "847130", Decimal(18), 1, 6000000)
ISSUED = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # 7 December in India


def facts(place: str, buyer: Party = BUYER) -> EInvoiceFacts:
    supply = domain.supply_between("27", place)
    lines = domain.invoice_lines(
        [LAPTOP], order_value_paise=6000000, order_discount_paise=0, shipping_fee_paise=0, supply=supply
    )
    return EInvoiceFacts("INV/26-27/000042", ISSUED, SELLER, buyer, place, supply, tuple(lines))


def test_only_a_consignment_above_fifty_thousand_rupees_needs_an_eway_bill() -> None:
    assert ewaybill.needed(50_000_01) and not ewaybill.needed(50_000_00)


def test_a_b2b_parcel_to_bengaluru_states_both_gstins_its_igst_and_the_distance() -> None:
    origin, destination = geo.coordinates("421302"), geo.coordinates("560001")
    assert origin and destination
    km = geo.distance_km(origin, destination)
    upload = ewaybill.bill(ewaybill.Consignment(facts("29"), km))
    assert upload["version"] == "1.0.0621"
    (entry,) = upload["billLists"]
    assert {
        k: entry[k] for k in ("supplyType", "subSupplyType", "docType", "docNo", "docDate", "transType")
    } == {
        "supplyType": "O",
        "subSupplyType": 1,
        "docType": "INV",
        "docNo": "INV/26-27/000042",
        "docDate": "07/12/2026",
        "transType": 1,
    }
    assert (entry["userGstin"], entry["fromGstin"], entry["toGstin"]) == (
        SELLER.gstin,
        SELLER.gstin,
        BUYER.gstin,
    )
    assert (entry["fromPincode"], entry["fromStateCode"], entry["toPincode"], entry["actualToStateCode"]) == (
        421302,
        27,
        560001,
        29,
    )
    # ₹60,000 at 18% IGST, prices tax-inclusive: taxable 50847.46, IGST 9152.54.
    assert (entry["totalValue"], entry["igstValue"], entry["cgstValue"], entry["totInvValue"]) == (
        50847.46,
        9152.54,
        0,
        60000.0,
    )
    assert entry["itemList"] == [
        {
            "itemNo": 1,
            "productName": "Laptop 14 inch",
            "productDesc": "Laptop 14 inch",
            "hsnCode": 847130,
            "quantity": 1,
            "qtyUnit": "NOS",
            "taxableAmount": 50847.46,
            "sgstRate": 0,
            "cgstRate": 0,
            "igstRate": 18.0,
            "cessRate": 0,
            "cessNonAdvol": 0,
        }
    ]
    assert entry["mainHsnCode"] == 847130 and entry["transMode"] == "1"
    assert 700 < int(entry["transDistance"]) < 900, "Bhiwandi to Bengaluru as the crow flies"
    assert entry["vehicleNo"] == "" and entry["transporterId"] == "", "Part B is the courier's"


def test_an_unregistered_buyer_in_the_sellers_state_is_urp_with_cgst_and_sgst_rates() -> None:
    mumbai = replace(BUYER, gstin="", city="Mumbai", pincode="400001", state_code="")
    (entry,) = ewaybill.bill(ewaybill.Consignment(facts("27", mumbai), None))["billLists"]
    assert (entry["toGstin"], entry["toStateCode"], entry["actualToStateCode"]) == ("URP", 27, 27)
    item = entry["itemList"][0]
    assert (item["cgstRate"], item["sgstRate"], item["igstRate"]) == (9.0, 9.0, 0)
    assert entry["cgstValue"] + entry["sgstValue"] == 9152.54 and entry["transDistance"] == "0"
