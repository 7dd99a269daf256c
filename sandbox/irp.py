"""NIC's e-invoice IRP shapes (ADR 0401): authenticate (POST /eivital/v1.04/auth), Generate IRN
(POST /eicore/v1.03/Invoice), Get e-invoice by IRN (GET /eicore/v1.03/Invoice/irn/{irn}) and Cancel
IRN (POST /eicore/v1.03/Invoice/Cancel: Irn, CnlRsn 1-4, CnlRem; within 24 hours; Irn, CancelDate).

As documented: the login and a 32-byte app key arrive RSA-encrypted with the IRP's public key; the
answer carries an AuthToken and a SEK encrypted with the app key; request and answer bodies are
AES-256-ECB with the SEK. The IRN is the SHA-256 of supplier GSTIN + financial year + document type
+ document number; a second request for a registered document is refused with error 2150 ("Duplicate
IRN") and InfoDtls DUPIRN naming the first registration. The signed invoice and the signed QR code
are RS256 JWTs ({"data": "<json>", "iss": "NIC"}) under the sandbox's own key.

Sandbox only: GET /_sandbox/irp/public-key gives the PEM to encrypt with (NIC publishes its own),
GET /_sandbox/irp/invoices lists what was registered, POST /_sandbox/irp/lose loses the answers of
the next registrations; an outage is a fault armed for provider `irp`.
Validation errors carry codes of the form SBX-… (the sandbox's own; NIC's list is longer).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import APIRouter, Depends, Header, Request

from chassis import nic
from sandbox.control import fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider

IST = ZoneInfo("Asia/Kolkata")
_GSTIN = re.compile(r"^[0-9]{2}[0-9A-Z]{13}$")
_DOC_NO = re.compile(r"^[a-zA-Z1-9][a-zA-Z0-9/-]{0,15}$")
_DATE = re.compile(r"^[0-3][0-9]/[0-1][0-9]/20[1-2][0-9]$")


@dataclass
class IrpState:
    """The signing key, live sessions (token → SEK and GSTIN), registered documents by IRN."""

    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    sessions: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    registered: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancelled: dict[str, str] = field(default_factory=dict)  # IRN → CancelDate
    generate_calls: int = 0
    ack: int = 0
    lose_next: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed(key: rsa.RSAPrivateKey, data: dict[str, Any]) -> str:
    """An RS256 JWT whose payload is {"data": <data as JSON text>, "iss": "NIC"}, as the IRP signs."""
    head = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64url(json.dumps({"data": json.dumps(data), "iss": "NIC"}).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64url(signature)}"


def irn_of(gstin: str, date: str, doc_type: str, number: str) -> str:
    """SHA-256 of GSTIN + financial year (2026-27, from the dd/mm/yyyy date) + type + number."""
    _day, month, year = (int(x) for x in date.split("/"))
    start = year if month >= 4 else year - 1
    return hashlib.sha256(f"{gstin}{start}-{(start + 1) % 100:02d}{doc_type}{number}".encode()).hexdigest()


def problems(document: dict[str, Any], gstin: str) -> list[tuple[str, str]]:
    """What the sandbox refuses in a Generate IRN request (a subset of the IRP's checks)."""
    found: list[tuple[str, str]] = []
    for name in ("Version", "TranDtls", "DocDtls", "SellerDtls", "BuyerDtls", "ItemList", "ValDtls"):
        if name not in document:
            found.append(("SBX-100", f"{name} is required"))
    if found:
        return found
    doc, seller, buyer = document["DocDtls"], document["SellerDtls"], document["BuyerDtls"]
    if document["Version"] != "1.1":
        found.append(("SBX-101", "Version must be 1.1"))
    if doc.get("Typ") not in ("INV", "CRN", "DBN"):
        found.append(("SBX-102", "DocDtls.Typ must be INV, CRN or DBN"))
    if not _DOC_NO.fullmatch(str(doc.get("No", ""))):
        found.append(("SBX-103", "DocDtls.No is not a document number"))
    if not _DATE.fullmatch(str(doc.get("Dt", ""))):
        found.append(("SBX-104", "DocDtls.Dt must be dd/mm/yyyy"))
    if seller.get("Gstin") != gstin:
        found.append(("SBX-105", "SellerDtls.Gstin is not the GSTIN authenticated"))
    if not _GSTIN.fullmatch(str(buyer.get("Gstin", ""))):
        found.append(("SBX-106", "BuyerDtls.Gstin is not a GSTIN"))
    items = document["ItemList"]
    if not items:
        found.append(("SBX-107", "ItemList is empty"))
    for item in items:
        if abs(item.get("TotAmt", 0) - item.get("Discount", 0) - item.get("AssAmt", 0)) > 0.01:
            found.append(("SBX-108", f"item {item.get('SlNo')}: AssAmt is not TotAmt - Discount"))
        taxes = sum(item.get(k, 0) for k in ("IgstAmt", "CgstAmt", "SgstAmt"))
        if abs(item.get("AssAmt", 0) + taxes - item.get("TotItemVal", 0)) > 0.01:
            found.append(("SBX-109", f"item {item.get('SlNo')}: TotItemVal is not AssAmt plus taxes"))
    total = sum(item.get("TotItemVal", 0) for item in items)
    if abs(total - document["ValDtls"].get("TotInvVal", 0)) > 1:
        found.append(("SBX-110", "ValDtls.TotInvVal is not the sum of the items' TotItemVal"))
    return found


def _refused(errors: list[tuple[str, str]], info: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "Status": 0,
        "ErrorDetails": [{"ErrorCode": code, "ErrorMessage": message} for code, message in errors],
        "Data": None,
        "InfoDtls": info,
    }


def _outage(status: int) -> ProviderError:
    return ProviderError(status, _refused([(str(status), "The IRP is not available now")]))


async def get_irp(request: Request) -> IrpState:
    state: IrpState = request.app.state.irp
    return state


Irp = Annotated[IrpState, Depends(get_irp)]
router = APIRouter(dependencies=[Depends(fault_gate(Provider.IRP, _outage))])
control = APIRouter(prefix="/_sandbox/irp")


@router.post("/eivital/v1.04/auth")
async def authenticate(
    body: dict[str, Any],
    state: Irp,
    client_id: Annotated[str, Header(alias="client_id", min_length=1)],
    client_secret: Annotated[str, Header(alias="client_secret", min_length=1)],
    gstin: Annotated[str, Header(alias="Gstin")],
) -> dict[str, Any]:
    try:
        login = json.loads(base64.b64decode(nic.rsa_decrypt(state.key, str(body["Data"]))))
        app_key = base64.b64decode(login["AppKey"])
        assert login["UserName"] and login["Password"] and len(app_key) == 32
    except Exception as exc:
        raise ProviderError(200, _refused([("SBX-001", f"Invalid login data: {exc}")])) from exc
    if not _GSTIN.fullmatch(gstin):
        raise ProviderError(200, _refused([("SBX-002", "Gstin header is not a GSTIN")]))
    token, sek = secrets.token_urlsafe(24), nic.new_key()
    async with state.lock:
        state.sessions[token] = (sek, gstin)
    return {
        "Status": 1,
        "Data": {
            "ClientId": client_id,
            "UserName": login["UserName"],
            "AuthToken": token,
            "Sek": nic.aes_encrypt(app_key, sek),
            "TokenExpiry": f"{datetime.now(IST):%Y-%m-%d} 23:59:59",
        },
        "ErrorDetails": None,
        "InfoDtls": None,
    }


def _session(state: IrpState, token: str, gstin: str) -> bytes:
    session = state.sessions.get(token)
    if session is None or session[1] != gstin:
        raise ProviderError(200, _refused([("1005", "Invalid Token")]))
    return session[0]


@router.post("/eicore/v1.03/Invoice")
async def generate_irn(
    body: dict[str, Any],
    state: Irp,
    gstin: Annotated[str, Header(alias="Gstin")],
    auth_token: Annotated[str, Header(alias="AuthToken")],
    user_name: Annotated[str, Header(alias="user_name", min_length=1)],
) -> dict[str, Any]:
    sek = _session(state, auth_token, gstin)
    try:
        document = json.loads(nic.aes_decrypt(sek, str(body["Data"])))
    except Exception as exc:
        raise ProviderError(200, _refused([("SBX-003", f"Data is not sealed with the SEK: {exc}")])) from exc
    found = problems(document, gstin)
    if found:
        return _refused(found)
    doc = document["DocDtls"]
    irn = irn_of(gstin, doc["Dt"], doc["Typ"], doc["No"])
    async with state.lock:
        state.generate_calls += 1
        first = state.registered.get(irn)
        if first is not None:
            desc = {"AckNo": first["AckNo"], "AckDt": first["AckDt"], "Irn": irn}
            return _refused([("2150", "Duplicate IRN")], [{"InfCd": "DUPIRN", "Desc": desc}])
        state.ack += 1
        now = datetime.now(UTC).astimezone(IST)
        ack_no = int(f"{now:%y}{state.ack:013d}")
        ack_dt = f"{now:%Y-%m-%d %H:%M:%S}"
        items = document["ItemList"]
        main = max(items, key=lambda x: x.get("AssAmt", 0))
        qr = {
            "SellerGstin": gstin,
            "BuyerGstin": document["BuyerDtls"]["Gstin"],
            "DocNo": doc["No"],
            "DocTyp": doc["Typ"],
            "DocDt": doc["Dt"],
            "TotInvVal": document["ValDtls"]["TotInvVal"],
            "ItemCnt": len(items),
            "MainHsnCode": main["HsnCd"],
            "Irn": irn,
            "IrnDt": ack_dt,
        }
        result = {
            "AckNo": ack_no,
            "AckDt": ack_dt,
            "Irn": irn,
            "SignedInvoice": signed(state.key, {**document, "Irn": irn, "AckNo": ack_no, "AckDt": ack_dt}),
            "SignedQRCode": signed(state.key, qr),
            "Status": "ACT",
            "EwbNo": None,
            "EwbDt": None,
            "EwbValidTill": None,
            "Remarks": None,
        }
        state.registered[irn] = result
        if state.lose_next:
            state.lose_next -= 1
            raise _outage(504)
    return {"Status": 1, "Data": nic.aes_encrypt(sek, json.dumps(result).encode()), "ErrorDetails": None}


@router.post("/eicore/v1.03/Invoice/Cancel")
async def cancel_irn(
    body: dict[str, Any],
    state: Irp,
    gstin: Annotated[str, Header(alias="Gstin")],
    auth_token: Annotated[str, Header(alias="AuthToken")],
) -> dict[str, Any]:
    sek = _session(state, auth_token, gstin)
    try:
        request = json.loads(nic.aes_decrypt(sek, str(body["Data"])))
    except Exception as exc:
        raise ProviderError(200, _refused([("SBX-003", f"Data is not sealed with the SEK: {exc}")])) from exc
    irn = str(request.get("Irn", ""))
    async with state.lock:
        found = state.registered.get(irn)
        if found is None:
            return _refused([("SBX-201", "No e-invoice with this IRN")])
        if str(request.get("CnlRsn", "")).strip() not in ("1", "2", "3", "4"):
            return _refused([("SBX-202", "CnlRsn must be 1, 2, 3 or 4")])
        if irn in state.cancelled:
            return _refused([("SBX-203", "The IRN is already cancelled")])
        registered = datetime.strptime(found["AckDt"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
        now = datetime.now(UTC).astimezone(IST)
        if (now - registered).total_seconds() > 24 * 3600:
            return _refused([("SBX-204", "An IRN can be cancelled only within 24 hours of its generation")])
        state.cancelled[irn] = f"{now:%Y-%m-%d %H:%M:%S}"
        answer = {"Irn": irn, "CancelDate": state.cancelled[irn]}
    return {"Status": 1, "Data": nic.aes_encrypt(sek, json.dumps(answer).encode()), "ErrorDetails": None}


@router.get("/eicore/v1.03/Invoice/irn/{irn}")
async def get_by_irn(
    irn: str,
    state: Irp,
    gstin: Annotated[str, Header(alias="Gstin")],
    auth_token: Annotated[str, Header(alias="AuthToken")],
) -> dict[str, Any]:
    sek = _session(state, auth_token, gstin)
    found = state.registered.get(irn)
    if found is None:
        return _refused([("2283", "IRN details cannot be provided as it is not generated")])
    return {"Status": 1, "Data": nic.aes_encrypt(sek, json.dumps(found).encode()), "ErrorDetails": None}


@control.get("/public-key")
async def public_key(state: Irp) -> dict[str, str]:
    return {"pem": state.public_pem()}


@control.get("/invoices")
async def registered(state: Irp) -> dict[str, Any]:
    return {
        "generate_calls": state.generate_calls,
        "registered": list(state.registered.values()),
        "cancelled": state.cancelled,
    }


@control.post("/lose")
async def lose(body: dict[str, int], state: Irp) -> dict[str, int]:
    """The next `count` registrations are made but their answers lost (a 504 after the IRP did the
    work): the caller's retry then meets 2150, Duplicate IRN."""
    async with state.lock:
        state.lose_next = int(body.get("count", 1))
    return {"lose_next": state.lose_next}
