"""NIC's IRP API (ADR 0401): POST /eivital/v1.04/auth, then POST /eicore/v1.03/Invoice (Generate IRN),
GET /eicore/v1.03/Invoice/irn/{irn} (the e-invoice by IRN) and POST /eicore/v1.03/Invoice/Cancel
(Cancel IRN), encrypted as chassis.nic describes.

A session (AuthToken and SEK) is kept per seller GSTIN and renewed when the IRP says the token is
invalid (1005). "Duplicate IRN" (2150) means an earlier request registered this document and its
answer was lost: the registration named in InfoDtls (DUPIRN) is fetched by IRN and answered.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from chassis import nic
from chassis.clock import IST
from services.invoicing.providers.interface import IrpRejected, IrpUnavailable, Registration

DUPLICATE_IRN = "2150"
INVALID_TOKEN = "1005"
SANDBOX_PUBLIC_KEY = "/_sandbox/irp/public-key"


def ack_time(text: str) -> datetime:
    """The IRP's "2026-12-07 14:05:09" (India's time) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)


def registration(data: dict[str, Any]) -> Registration:
    """The decrypted Data of Generate IRN or Get e-invoice by IRN."""
    return Registration(
        irn=str(data["Irn"]),
        ack_no=str(data["AckNo"]),
        ack_at=ack_time(str(data["AckDt"])),
        signed_invoice=str(data["SignedInvoice"]),
        signed_qr_code=str(data["SignedQRCode"]),
    )


def errors_of(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(e.get("ErrorCode")), str(e.get("ErrorMessage"))) for e in answer.get("ErrorDetails") or []]


class NicIrp:
    """The IRP through NIC's API (or the sandbox's copy of it)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        public_key_pem: str = "",
    ) -> None:
        self._client = client
        self._client_id, self._client_secret = client_id, client_secret
        self._username, self._password = username, password
        self._pem = public_key_pem
        self._key: RSAPublicKey | None = None
        self._sessions: dict[str, tuple[str, bytes]] = {}
        self._lock = asyncio.Lock()

    async def _call(self, method: str, path: str, **how: Any) -> dict[str, Any]:
        try:
            response = await self._client.request(method, path, **how)
        except httpx.HTTPError as exc:
            raise IrpUnavailable(f"IRP unreachable: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code in (401, 403, 408, 429):
            raise IrpUnavailable(f"IRP answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise IrpUnavailable(f"IRP answered HTTP {response.status_code}, not JSON") from exc
        if not isinstance(answer, dict):
            raise IrpUnavailable("IRP answered JSON that is not an object")
        return answer

    async def _public_key(self) -> RSAPublicKey:
        if self._key is None:
            pem = self._pem or str((await self._call("GET", SANDBOX_PUBLIC_KEY))["pem"])
            self._key = nic.public_key(pem)
        return self._key

    def _headers(self, gstin: str) -> dict[str, str]:
        return {"client_id": self._client_id, "client_secret": self._client_secret, "Gstin": gstin}

    async def _session(self, gstin: str) -> tuple[str, bytes]:
        async with self._lock:
            if gstin in self._sessions:
                return self._sessions[gstin]
            app_key = nic.new_key()
            login = {
                "UserName": self._username,
                "Password": self._password,
                "AppKey": base64.b64encode(app_key).decode(),
                "ForceRefreshAccessToken": False,
            }
            sealed = nic.rsa_encrypt(await self._public_key(), base64.b64encode(json.dumps(login).encode()))
            answer = await self._call(
                "POST", "/eivital/v1.04/auth", json={"Data": sealed}, headers=self._headers(gstin)
            )
            if answer.get("Status") != 1:
                raise IrpUnavailable(f"IRP refused the login: {errors_of(answer)}")
            data = answer["Data"]
            session = (str(data["AuthToken"]), nic.aes_decrypt(app_key, str(data["Sek"])))
            self._sessions[gstin] = session
            return session

    async def _sealed_call(
        self, gstin: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """A call in a session, its answer's Data decrypted; a session the IRP forgot is renewed once."""
        for attempt in (1, 2):
            token, sek = await self._session(gstin)
            headers = {**self._headers(gstin), "user_name": self._username, "AuthToken": token}
            how: dict[str, Any] = {"headers": headers}
            if body is not None:
                how["json"] = {"Data": nic.aes_encrypt(sek, json.dumps(body).encode())}
            answer = await self._call(method, path, **how)
            if answer.get("Status") == 1:
                return json.loads(nic.aes_decrypt(sek, str(answer["Data"])))
            errors = errors_of(answer)
            if any(code == INVALID_TOKEN for code, _ in errors) and attempt == 1:
                self._sessions.pop(gstin, None)
                continue
            return answer
        raise IrpUnavailable("IRP kept refusing the session")

    async def register(self, gstin: str, einvoice: dict[str, Any]) -> Registration:
        """Generate IRN; a document registered before answers its first registration."""
        answer = await self._sealed_call(gstin, "POST", "/eicore/v1.03/Invoice", einvoice)
        if "Irn" in answer:
            return registration(answer)
        errors = errors_of(answer)
        duplicate = [
            x["Desc"] for x in answer.get("InfoDtls") or [] if x.get("InfCd") == "DUPIRN" and x.get("Desc")
        ]
        if any(code == DUPLICATE_IRN for code, _ in errors) and duplicate:
            found = await self._sealed_call(gstin, "GET", f"/eicore/v1.03/Invoice/irn/{duplicate[0]['Irn']}")
            if "Irn" in found:
                return registration(found)
            raise IrpUnavailable(f"IRP named a duplicate IRN it cannot give: {errors_of(found)}")
        raise IrpRejected(errors or [("", "the IRP refused without saying why")])

    async def cancel(self, gstin: str, irn: str, *, reason: str, remark: str) -> datetime:
        """Cancel IRN: CnlRsn 1 duplicate, 2 data entry mistake, 3 order cancelled, 4 others."""
        body = {"Irn": irn, "CnlRsn": reason, "CnlRem": remark[:100]}
        answer = await self._sealed_call(gstin, "POST", "/eicore/v1.03/Invoice/Cancel", body)
        if "CancelDate" in answer:
            return ack_time(str(answer["CancelDate"]))
        raise IrpRejected(errors_of(answer) or [("", "the IRP refused without saying why")])
