"""Amazon SQS queues as a marketplace's notifications reach a seller's application: the JSON protocol
(POST to the endpoint with ``X-Amz-Target: AmazonSQS.ReceiveMessage`` / ``DeleteMessage``, body
``application/x-amz-json-1.0``), messages hidden for their visibility timeout once received and back
after it unless deleted, long polling (``WaitTimeSeconds``) and SigV4 ``Authorization`` headers
checked for their form and access key (not recomputed: chassis' signer is tested against AWS's own
vectors). Queue URLs are ``<sandbox>/sqs/000000000000/<name>``; the endpoint is ``<sandbox>/sqs/``.
"""

import asyncio
import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

ACCOUNT_ID = "000000000000"
ACCESS_KEY_ID = "AKIADABBASANDBOX"
"""The access key the sandbox's queues accept (any secret: the signature is not recomputed)."""

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/\d{8}/[a-z0-9-]+/sqs/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=[0-9a-f]{64}"
)


@dataclass
class Held:
    message_id: str
    body: str
    visible_at: float = 0.0
    receipt_handle: str | None = None
    receives: int = 0


@dataclass
class Queue:
    name: str
    messages: list[Held] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    deleted: int = 0
    received: int = 0


@dataclass
class SqsState:
    queues: dict[str, Queue] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def create(self, name: str) -> str:
        """A queue (kept if it exists); its URL path under the sandbox."""
        self.queues.setdefault(name, Queue(name))
        return f"/sqs/{ACCOUNT_ID}/{name}"

    def send(self, name: str, body: str) -> None:
        queue = self.queues[name]
        queue.messages.append(Held(str(uuid.uuid4()), body))
        queue.arrived.set()


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"__type": f"com.amazonaws.sqs#{kind}", "message": message}, status_code=status)


async def get_sqs(request: Request) -> SqsState:
    state: SqsState = request.app.state.sqs
    return state


Sqs = Annotated[SqsState, Depends(get_sqs)]
router = APIRouter(prefix="/sqs", tags=["amazon sqs"])


@router.post("/")
async def sqs_action(
    request: Request,
    state: Sqs,
    target: Annotated[str, Header(alias="x-amz-target")] = "",
    authorization: Annotated[str, Header()] = "",
) -> JSONResponse:
    signed = _AUTHORIZATION.fullmatch(authorization)
    if signed is None:
        return _error(403, "MissingAuthenticationToken", "Request is missing a valid SigV4 Authorization")
    if signed["key"] != ACCESS_KEY_ID:
        return _error(403, "InvalidClientTokenId", "The security token included in the request is invalid")
    if not {"host", "x-amz-date", "x-amz-target"} <= set(signed["signed"].split(";")):
        return _error(403, "SignatureDoesNotMatch", "host, x-amz-date and x-amz-target must be signed")
    if request.headers.get("content-type") != "application/x-amz-json-1.0":
        return _error(400, "InvalidParameterValue", "Content-Type must be application/x-amz-json-1.0")
    payload = json.loads(await request.body())
    name = str(payload.get("QueueUrl") or "").rstrip("/").rsplit("/", 1)[-1]
    queue = state.queues.get(name)
    if queue is None:
        return _error(400, "QueueDoesNotExist", "The specified queue does not exist.")
    if target == "AmazonSQS.ReceiveMessage":
        return JSONResponse(await _receive(state, queue, payload))
    if target == "AmazonSQS.DeleteMessage":
        handle = payload.get("ReceiptHandle")
        kept = [m for m in queue.messages if m.receipt_handle != handle]
        if len(kept) == len(queue.messages):
            return _error(400, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
        queue.messages, queue.deleted = kept, queue.deleted + 1
        return JSONResponse({})
    return _error(400, "InvalidAction", f"{target!r} is not an action of this sandbox")


async def _receive(state: SqsState, queue: Queue, payload: dict[str, Any]) -> dict[str, Any]:
    most = int(payload.get("MaxNumberOfMessages") or 1)
    wait_s = float(payload.get("WaitTimeSeconds") or 0)
    hide_s = float(payload.get("VisibilityTimeout") or 30)
    deadline = state.clock() + wait_s
    while True:
        now = state.clock()
        ready = [m for m in queue.messages if m.visible_at <= now][:most]
        if ready or now >= deadline:
            break
        queue.arrived.clear()
        try:
            await asyncio.wait_for(queue.arrived.wait(), timeout=max(0.05, min(1.0, deadline - now)))
        except TimeoutError:
            continue
    answer = []
    for message in ready:
        message.visible_at = state.clock() + hide_s
        message.receipt_handle = secrets.token_urlsafe(24)
        message.receives += 1
        answer.append(
            {
                "MessageId": message.message_id,
                "ReceiptHandle": message.receipt_handle,
                "MD5OfBody": hashlib.md5(message.body.encode()).hexdigest(),
                "Body": message.body,
            }
        )
    queue.received += len(answer)
    return {"Messages": answer}
