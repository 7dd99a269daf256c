"""AWS's request signing (Signature Version 4) and the two Amazon SQS calls a queue reader needs,
ReceiveMessage and DeleteMessage, in SQS's JSON protocol (POST to the queue's endpoint,
``X-Amz-Target: AmazonSQS.<Action>``, ``application/x-amz-json-1.0``). No SDK: an httpx client and
these few functions, signed with the queue owner's access key.

Shapes: the IAM User Guide's "Create a signed AWS API request" (canonical request, string to sign,
signing key; checked against AWS's SigV4 test suite vectors in the unit tests) and the SQS API
Reference (ReceiveMessage: QueueUrl, MaxNumberOfMessages 1-10, WaitTimeSeconds 0-20,
VisibilityTimeout; Messages[] {MessageId, ReceiptHandle, MD5OfBody, Body}; DeleteMessage: QueueUrl,
ReceiptHandle; errors ``{"__type": …, "message": …}``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _encode(text: str) -> str:
    """URI-encode as SigV4 asks: every byte but the unreserved characters."""
    return quote(text, safe="-_.~")


def canonical_query(query: str) -> str:
    """The query string with its parameters encoded and sorted by name, then value."""
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((_encode(name), _encode(value)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def signing_key(secret_access_key: str, day: str, region: str, service: str) -> bytes:
    """The key of one day, region and service, derived from the secret access key."""
    key = _hmac(f"AWS4{secret_access_key}".encode(), day)
    return _hmac(_hmac(_hmac(key, region), service), "aws4_request")


def sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """The headers to send: the given ones, ``host``, ``x-amz-date`` and the ``Authorization`` that
    signs them all and the body's SHA-256."""
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = stamp
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            quote(parts.path or "/", safe="/-_.~"),
            canonical_query(parts.query),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(
        signing_key(secret_access_key, day, region, service), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return {
        **headers,
        "host": parts.netloc,
        "x-amz-date": stamp,
        "Authorization": f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}",
    }


@dataclass(frozen=True, slots=True)
class Queue:
    """An SQS queue and the access key of a principal allowed to receive from it and delete."""

    url: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)

    @property
    def endpoint(self) -> str:
        """Where its calls go: the queue's URL without its account and name
        (https://sqs.eu-west-1.amazonaws.com/123456789012/orders → https://sqs.eu-west-1.amazonaws.com/)."""
        parts = urlsplit(self.url)
        path = parts.path.rstrip("/").rsplit("/", 2)[0]
        return f"{parts.scheme}://{parts.netloc}{path}/"


@dataclass(frozen=True, slots=True)
class Message:
    """One message received: its id, the handle that deletes this receipt of it, and its body."""

    message_id: str
    receipt_handle: str
    body: str


class SqsError(Exception):
    """SQS refused a call or could not be reached; ``retryable`` unless it refused for good."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


async def _call(
    client: httpx.AsyncClient, queue: Queue, action: str, payload: dict[str, Any], *, now: datetime
) -> Any:
    body = json.dumps(payload).encode()
    headers = sign(
        method="POST",
        url=queue.endpoint,
        headers={"content-type": "application/x-amz-json-1.0", "x-amz-target": f"AmazonSQS.{action}"},
        body=body,
        access_key_id=queue.access_key_id,
        secret_access_key=queue.secret_access_key,
        region=queue.region,
        service="sqs",
        now=now,
    )
    try:
        response = await client.post(queue.endpoint, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise SqsError(f"{action}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        try:
            error = response.json()
            why = f"{error.get('__type', '')}: {error.get('message') or error.get('Message') or ''}"
        except ValueError:
            why = response.text[:300]
        retryable = response.status_code >= 500 or response.status_code == 429 or "Throttl" in why
        raise SqsError(f"{action}: HTTP {response.status_code} {why}", retryable=retryable)
    return response.json() if response.content else {}


async def receive(
    client: httpx.AsyncClient,
    queue: Queue,
    *,
    now: datetime,
    max_messages: int = 10,
    wait_s: int = 0,
    visibility_s: int | None = None,
) -> list[Message]:
    """Up to ``max_messages`` messages, waiting up to ``wait_s`` (long polling) for the first. A
    message whose body does not match its MD5 is left for SQS to deliver again."""
    payload: dict[str, Any] = {
        "QueueUrl": queue.url,
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": wait_s,
    }
    if visibility_s is not None:
        payload["VisibilityTimeout"] = visibility_s
    answer = await _call(client, queue, "ReceiveMessage", payload, now=now)
    messages = []
    for raw in answer.get("Messages") or []:
        body = str(raw.get("Body") or "")
        if raw.get("MD5OfBody") and hashlib.md5(body.encode()).hexdigest() != raw["MD5OfBody"]:
            continue
        messages.append(Message(str(raw["MessageId"]), str(raw["ReceiptHandle"]), body))
    return messages


async def delete(client: httpx.AsyncClient, queue: Queue, receipt_handle: str, *, now: datetime) -> None:
    """Delete a message received (its receipt handle): SQS will not deliver it again."""
    await _call(
        client, queue, "DeleteMessage", {"QueueUrl": queue.url, "ReceiptHandle": receipt_handle}, now=now
    )
