"""E-way bills, pure: whether a parcel's consignment needs one, and its Part A as the e-way bill
system's JSON upload (version 1.0.0621, `billLists`) for the seller to file (ADR 0402).

Rules, stated once:
- A consignment whose value exceeds ₹50,000 (CGST Rule 138: the invoice value, tax included) moves
  under an e-way bill; one parcel is one consignment, so the invoice's total decides.
- The bill is the invoice's Part A: an outward supply (O), sub-type supply (1), document INV, a
  regular transaction (1), by road (1). The buyer's GSTIN, or URP for an unregistered buyer; the
  bill-to state is the buyer's registration's (the place of supply for URP), the ship-to state the
  place of supply. Part B (the vehicle) is the courier's and is left empty.
- transDistance is the straight-line distance between the two pincodes' centroids in whole km,
  rounded up: never more than the road distance the system computes (it refuses more than 110% of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.invoicing.domain.einvoice import EInvoiceFacts, date_text, rupees
from services.invoicing.domain.tax import Supply

LIMIT_PAISE = 50_000_00
"""Above this consignment value (₹50,000) goods move under an e-way bill."""
VERSION = "1.0.0621"


def needed(total_paise: int) -> bool:
    """Whether a consignment of this value needs an e-way bill."""
    return total_paise > LIMIT_PAISE


@dataclass(frozen=True, slots=True)
class Consignment:
    """An invoice's facts (buyer GSTIN empty for an unregistered buyer) and the distance it travels."""

    invoice: EInvoiceFacts
    distance_km: float | None


def _lines(address: tuple[str, ...]) -> tuple[str, str]:
    joined = ", ".join(x for x in address if x.strip())
    return joined[:120], joined[120:240]


def _number(rate: Decimal) -> float:
    return float(rate.normalize())


def bill(consignment: Consignment) -> dict[str, Any]:
    """The e-way bill JSON upload holding this consignment's bill."""
    facts = consignment.invoice
    seller, buyer = facts.seller, facts.buyer
    intra = facts.supply is Supply.INTRA_STATE
    lines = facts.lines
    main = max(lines, key=lambda x: x.taxable_paise)
    from_1, from_2 = _lines(seller.address)
    to_1, to_2 = _lines(buyer.address)
    items = [
        {
            "itemNo": i,
            "productName": line.description[:100],
            "productDesc": line.description[:100],
            "hsnCode": int(line.hsn_code),
            "quantity": line.quantity,
            "qtyUnit": line.unit,
            "taxableAmount": rupees(line.taxable_paise),
            "sgstRate": _number(line.gst_rate / 2) if intra else 0,
            "cgstRate": _number(line.gst_rate / 2) if intra else 0,
            "igstRate": 0 if intra else _number(line.gst_rate),
            "cessRate": 0,
            "cessNonAdvol": 0,
        }
        for i, line in enumerate(lines, start=1)
    ]
    entry = {
        "userGstin": seller.gstin,
        "supplyType": "O",
        "subSupplyType": 1,
        "subSupplyDesc": "",
        "docType": "INV",
        "docNo": facts.number,
        "docDate": date_text(facts.issued_at),
        "transType": 1,
        "fromGstin": seller.gstin,
        "fromTrdName": seller.trade_name or seller.legal_name,
        "fromAddr1": from_1,
        "fromAddr2": from_2,
        "fromPlace": (seller.city or "")[:50],
        "fromPincode": int(seller.pincode) if seller.pincode else 0,
        "fromStateCode": int(seller.state_code),
        "actualFromStateCode": int(seller.state_code),
        "toGstin": buyer.gstin or "URP",
        "toTrdName": buyer.legal_name[:100],
        "toAddr1": to_1,
        "toAddr2": to_2,
        "toPlace": (buyer.city or "")[:50],
        "toPincode": int(buyer.pincode) if buyer.pincode else 0,
        "toStateCode": int(buyer.gstin[:2] if buyer.gstin else facts.place_of_supply),
        "actualToStateCode": int(facts.place_of_supply),
        "totalValue": rupees(sum(x.taxable_paise for x in lines)),
        "cgstValue": rupees(sum(x.cgst_paise for x in lines)),
        "sgstValue": rupees(sum(x.sgst_paise for x in lines)),
        "igstValue": rupees(sum(x.igst_paise for x in lines)),
        "cessValue": 0,
        "TotNonAdvolVal": 0,
        "OthValue": 0,
        "totInvValue": rupees(sum(x.total_paise for x in lines)),
        "transMode": "1",
        "transDistance": str(math.ceil(consignment.distance_km))
        if consignment.distance_km is not None
        else "0",
        "transporterName": "",
        "transporterId": "",
        "transDocNo": "",
        "transDocDate": "",
        "vehicleNo": "",
        "vehicleType": "R",
        "mainHsnCode": int(main.hsn_code),
        "itemList": items,
    }
    return {"version": VERSION, "billLists": [entry]}
