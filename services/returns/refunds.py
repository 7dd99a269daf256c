"""Refunds leave through the gateway here: a sweep sends claimed refunds (same idempotency key on
every try, so a lost answer is retried without paying twice), gateway webhooks settle them, and an
SLA sweep alerts operators about refunds still not processed days after QC.

No transaction stays open across a gateway call (ADR 0001): a refund is leased in one short
transaction, the call is made, and its answer is written in another.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from chassis import faults
from chassis.clock import india_date
from chassis.logging import get_logger
from chassis.sealed import Sealer, sealer
from chassis.service import Service
from services.returns import desk, store
from services.returns.gateways.interface import (
    GatewayReceipt,
    GatewayRejected,
    GatewayUnavailable,
    PayoutOrder,
    RefundGateway,
    RefundOrder,
)
from services.returns.records import Refund
from services.returns.settings import ReturnsSettings

log = get_logger(__name__)

_BATCH = 20


def idempotency_key(refund: Refund) -> str:
    """One key per refund attempt: a retry of the same attempt can never move money twice, and an
    operator's retry after a final failure is a new attempt with a new key."""
    return f"{refund.refund_id}-a{refund.attempt}"


def notes(refund: Refund) -> dict[str, str]:
    """Echoed back in webhooks, so a webhook finds its refund even if the call's answer was lost."""
    return {
        "refund_id": refund.refund_id,
        "attempt": str(refund.attempt),
        "return_id": refund.return_id,
        "order_id": refund.order_id,
    }


async def _customer(service: Service, order_id: str) -> dict[str, Any]:
    async with service.pool.acquire() as conn:
        order = await store.get_order(conn, order_id)
    return order["customer"] if order else {"name": "Customer", "phone": ""}


def bank_account(refund_to: dict[str, Any], keys: Sealer) -> dict[str, str]:
    """The bank account a COD refund is paid to, its number opened for the gateway alone (a row
    stored before sealing still holds it in clear until the start of the service seals it)."""
    sealed = refund_to.get("account_number_sealed")
    number = keys.open(sealed) if sealed else refund_to["account_number"]
    return {"name": refund_to["name"], "ifsc": refund_to["ifsc"], "account_number": number}


def sealed_bank_account(refund_to: dict[str, Any], keys: Sealer) -> dict[str, Any]:
    """A stored refund_to with its bank account number sealed, as new returns store it."""
    sealed = {k: v for k, v in refund_to.items() if k != "account_number"}
    number = str(refund_to["account_number"])
    return {**sealed, "account_number_sealed": keys.seal(number), "account_last4": number[-4:]}


async def seal_stored_bank_numbers(service: Service, settings: ReturnsSettings) -> int:
    """Seal the bank account numbers stored in clear before sealing existed; returns how many."""
    keys = sealer(settings.refund_bank_key)
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.bank_numbers_in_clear(conn)
        for return_id, refund_to in rows:
            await store.set_refund_to(conn, return_id, sealed_bank_account(refund_to, keys))
    if rows:
        log.info("bank account numbers sealed", returns=len(rows))
    return len(rows)


async def call_gateway(
    service: Service, gateway: RefundGateway, settings: ReturnsSettings, refund: Refund
) -> GatewayReceipt:
    """Ask the gateway to pay this refund (or, for a retried key, tell us what it already did)."""
    if refund.mode == "gateway_refund":
        assert refund.gateway_payment_id is not None  # the desk picks this mode only for a known payment
        return await gateway.refund(
            RefundOrder(
                idempotency_key=idempotency_key(refund),
                payment_id=refund.gateway_payment_id,
                amount_paise=refund.amount_paise,
                receipt=refund.refund_id,
                speed=settings.refund_speed,
                notes=notes(refund),
            )
        )
    refund_to = refund.refund_to or {}
    customer = await _customer(service, refund.order_id)
    bank = (
        bank_account(refund_to, sealer(settings.refund_bank_key))
        if refund_to.get("kind") == "bank_account"
        else None
    )
    return await gateway.payout(
        PayoutOrder(
            idempotency_key=idempotency_key(refund),
            amount_paise=refund.amount_paise,
            reference_id=refund.refund_id,
            contact_name=customer["name"],
            contact_phone=customer["phone"],
            vpa=refund_to.get("vpa"),
            bank_account=bank,
            narration=f"Refund {refund.return_id}",
            notes=notes(refund),
        )
    )


async def send_due_refunds(service: Service, gateway: RefundGateway, settings: ReturnsSettings) -> int:
    """Send every pending refund no one is sending; returns how many calls were made."""
    async with service.pool.acquire() as conn, conn.transaction():
        due = await store.claim_due_refunds(conn, limit=_BATCH, lease_seconds=settings.refund_lease_seconds)
    for refund in due:
        try:
            receipt = await call_gateway(service, gateway, settings, refund)
        except GatewayUnavailable as exc:
            # Same key next time; back off so a struggling gateway is not hammered.
            log.warning("refund call failed, will retry", refund_id=refund.refund_id, error=str(exc))
            async with service.pool.acquire() as conn:
                await conn.execute(
                    """UPDATE refunds SET lease_until = now() + make_interval(secs => least(2 * calls, 60))
                        WHERE refund_id = $1 AND status = 'pending'""",
                    refund.refund_id,
                )
            continue
        except GatewayRejected as exc:
            await _record(service, refund.refund_id, None, failure=str(exc))
            continue
        # Crash tests freeze here: the gateway paid, and we have not written that down yet.
        ids = (refund.refund_id, refund.return_id, refund.order_id)
        await faults.freeze_if_armed("returns.after_refund_call", partial(tuple, ids))
        await _record(service, refund.refund_id, receipt)
    return len(due)


async def reconcile(service: Service, gateway: RefundGateway, settings: ReturnsSettings) -> int:
    """Ask the gateway about refunds whose webhook never came, and settle those it has decided."""
    async with service.pool.acquire() as conn, conn.transaction():
        unanswered = await store.claim_unanswered_refunds(
            conn, older_than_seconds=settings.refund_reconcile_after_seconds, limit=_BATCH
        )
    for refund in unanswered:
        kind: Literal["refund", "payout"] = "refund" if refund.mode == "gateway_refund" else "payout"
        assert refund.gateway_refund_id is not None  # an initiated refund has the gateway's id
        try:
            receipt = await gateway.fetch(kind, refund.gateway_refund_id)
        except (GatewayUnavailable, GatewayRejected) as exc:
            log.warning("refund status check failed", refund_id=refund.refund_id, error=str(exc))
            continue
        if receipt.processed or receipt.failed:
            async with service.pool.acquire() as conn, conn.transaction():
                locked = await store.lock_refund(conn, refund.refund_id)
                if locked is not None:
                    await desk.settle(
                        conn,
                        partial(service.emit, conn),
                        refund=locked,
                        gateway_id=receipt.gateway_id,
                        processed=receipt.processed,
                        failure=None
                        if receipt.processed
                        else f"Razorpay reports the {kind} {receipt.status}",
                    )
    return len(unanswered)


async def _record(
    service: Service, refund_id: str, receipt: GatewayReceipt | None, failure: str | None = None
) -> None:
    async with service.pool.acquire() as conn, conn.transaction():
        refund = await store.lock_refund(conn, refund_id)
        if refund is None or refund.status != "pending":
            return  # a webhook got here first
        emit = lambda event: service.emit(conn, event)  # noqa: E731
        if receipt is None:
            await desk.settle(conn, emit, refund=refund, gateway_id=None, processed=False, failure=failure)
        elif receipt.processed or receipt.failed:
            await desk.settle(
                conn, emit, refund=refund, gateway_id=receipt.gateway_id, processed=receipt.processed
            )
        else:
            await store.update_refund(
                conn, refund_id, status="initiated", gateway_refund_id=receipt.gateway_id, lease_until=None
            )


async def apply_webhook(service: Service, event: dict[str, Any]) -> str:
    """Settle the refund a Razorpay webhook is about; returns what happened (for the log)."""
    kind = str(event.get("event", ""))
    payload = event.get("payload") or {}
    if kind.startswith("refund."):
        entity = (payload.get("refund") or {}).get("entity") or {}
    elif kind.startswith("payout."):
        entity = (payload.get("payout") or {}).get("entity") or {}
    else:
        return "ignored"
    if kind not in (
        "refund.processed",
        "refund.failed",
        "payout.processed",
        "payout.failed",
        "payout.reversed",
    ):
        return "ignored"
    notes = entity.get("notes")
    echoed: dict[str, Any] = notes if isinstance(notes, dict) else {}
    ours = echoed.get("refund_id") or entity.get("reference_id") or entity.get("receipt")
    async with service.pool.acquire() as conn, conn.transaction():
        refund = await store.lock_refund(conn, str(ours)) if ours else None
        if refund is None and entity.get("id"):
            refund = await store.lock_refund_by_gateway_id(conn, str(entity["id"]))
        if refund is None:
            return "not ours"
        if echoed.get("attempt") and echoed["attempt"] != str(refund.attempt):
            return "about an earlier attempt"  # e.g. a late refund.failed after an operator's retry
        processed = kind.endswith(".processed")
        failure = entity.get("failure_reason") or (None if processed else f"{kind} from Razorpay")
        await desk.settle(
            conn,
            lambda e: service.emit(conn, e),
            refund=refund,
            gateway_id=entity.get("id"),
            processed=processed,
            failure=failure,
        )
    return "applied"


async def alert_overdue(service: Service, settings: ReturnsSettings) -> int:
    """Tell operators (returns.updated.v1 with alert refund_sla_breached) about each refund still not
    processed refund_sla_days after QC, once per refund; returns how many."""
    async with service.pool.acquire() as conn, conn.transaction():
        overdue = await store.claim_overdue_refunds(conn, sla_days=settings.refund_sla_days)
        for refund, qc_at in overdue:
            ret = await store.lock_return(conn, refund.return_id)
            assert ret is not None
            why = f"; last failure: {refund.failure_reason}" if refund.failure_reason else ""
            note = (
                f"refund {refund.refund_id} of {refund.amount_paise} paise is {refund.status} "
                f"{settings.refund_sla_days:g} days after QC on {india_date(qc_at)}{why}"
            )
            await conn.execute(
                "UPDATE refunds SET sla_alerted_at = now() WHERE refund_id = $1", refund.refund_id
            )
            await store.add_history(conn, return_id=ret.return_id, status=ret.status, actor="sla", note=note)
            await service.emit(conn, desk.updated(ret, ret.status, note=note, alert="refund_sla_breached"))
    return len(overdue)
