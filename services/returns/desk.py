"""The return desk's steps: open a return or an RTO record, follow the reverse pickup, receive, QC,
then restock/quarantine and refund or exchange. Each step runs in its caller's transaction (an HTTP
request's or the consumer's), changes the return through the status machine and emits through the
outbox, so a step either happens whole, with its events, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chassis.consumer import Emit
from chassis.db import Conn
from chassis.logging import get_logger
from chassis.refusal import Refusal
from contracts import (
    Address,
    Customer,
    OrderLine,
    PaymentMethod,
    ReturnExchangeRequested,
    ReturnLine,
    ReturnReason,
    ReturnRefunded,
    ReturnRequested,
    ReturnResolution,
    ReturnStatus,
    ReturnUpdated,
    ShipmentStatus,
)
from services.returns import domain, store
from services.returns.records import Refund, Return
from services.returns.settings import ReturnsSettings

R = ReturnStatus

log = get_logger(__name__)


async def move(
    conn: Conn,
    ret: Return,
    target: ReturnStatus,
    *,
    actor: str,
    note: str | None = None,
    **columns: Any,
) -> Return:
    """Change a locked return's status through the machine (IllegalTransition if not allowed);
    returns the return as it is now."""
    domain.advance(ret.status, target)
    await store.set_status(conn, return_id=ret.return_id, status=target, **columns)
    await store.add_history(conn, return_id=ret.return_id, status=target, actor=actor, note=note)
    moved = await store.lock_return(conn, ret.return_id)
    assert moved is not None
    return moved


def updated(
    ret: Return,
    status: ReturnStatus,
    *,
    lines: list[ReturnLine] | None = None,
    warehouse_code: str | None = None,
    note: str | None = None,
    alert: Any = None,
) -> ReturnUpdated:
    """The returns.updated.v1 event of a step."""
    return ReturnUpdated(
        order_id=ret.order_id,
        return_id=ret.return_id,
        status=status,
        lines=lines or list(ret.lines),
        warehouse_code=warehouse_code or ret.warehouse_code,
        note=note,
        kind=ret.kind,
        alert=alert,
    )


# --- opening --------------------------------------------------------------------------------


def return_warehouse(shipped: dict[str, dict[str, int]], lines: list[ReturnLine]) -> str | None:
    """Where the parcel goes back: the warehouse that shipped most of the returned units."""
    best: tuple[int, str] | None = None
    for warehouse, skus in shipped.items():
        units = sum(min(skus.get(line.sku, 0), line.quantity) for line in lines)
        if units and (best is None or (units, warehouse) > best):
            best = (units, warehouse)
    return best[1] if best else None


async def approve(
    conn: Conn,
    emit: Emit,
    *,
    return_id: str,
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    resolution: ReturnResolution,
    pickup_mode: str,
    refund_to: dict[str, Any] | None,
    photo_urls: list[str],
    actor: str,
) -> Return | None:
    """Store an eligible request, approve it at once and tell shipping where to collect it from."""
    contract_lines = [ReturnLine.model_validate(line) for line in lines]
    warehouse = return_warehouse(await store.shipped_from(conn, order["order_id"]), contract_lines)
    row = await store.insert_return(
        conn,
        return_id=return_id,
        order_id=order["order_id"],
        status=R.REQUESTED,
        resolution=resolution.value,
        lines=lines,
        pickup_mode=pickup_mode,
        warehouse_code=warehouse,
        refund_to=refund_to,
        requested_by=actor,
    )
    if row is None:
        return None
    await conn.execute(
        "UPDATE returns SET photo_urls = $2::jsonb WHERE return_id = $1", return_id, photo_urls
    )
    await store.add_history(conn, return_id=return_id, status=R.REQUESTED, actor=actor, note=None)
    row = await move(conn, row, R.APPROVED, actor="rules", note="eligible: delivered, in window, returnable")
    await emit(
        ReturnRequested(
            order_id=order["order_id"],
            return_id=return_id,
            status=R.APPROVED,
            lines=contract_lines,
            resolution=resolution,
            pickup_address=Address.model_validate(order["shipping_address"]),
            customer=Customer.model_validate(order["customer"]),
            warehouse_code=warehouse,
            pickup_mode=pickup_mode,
        )
    )
    return row


async def open_rto(
    conn: Conn, emit: Emit, *, order_id: str, shipment_id: str, warehouse_code: str
) -> Return | None:
    """An undelivered parcel came back: expect it at the desk like any return (None if known)."""
    shipment = await store.get_shipment(conn, shipment_id)
    if shipment is not None:
        units = list(shipment.lines)
        warehouse_code = shipment.warehouse_code
    else:
        order = await store.get_order(conn, order_id)
        if order is None:
            raise LookupError(
                f"RTO of shipment {shipment_id}: neither the shipment nor order {order_id} is known"
            )
        units = order["lines"]
    lines = [
        {"sku": u["sku"], "quantity": u["quantity"], "reason": ReturnReason.OTHER.value, "note": "RTO"}
        for u in units
    ]
    for _ in range(5):
        row = await store.insert_return(
            conn,
            return_id=domain.new_return_id(),
            order_id=order_id,
            status=R.APPROVED,
            resolution=ReturnResolution.REFUND.value,
            lines=lines,
            kind="rto",
            pickup_mode="drop_off",
            warehouse_code=warehouse_code,
            shipment_id=shipment_id,
            requested_by="courier",
        )
        if row is not None:
            break
        if await conn.fetchval(
            "SELECT true FROM returns WHERE kind = 'rto' AND shipment_id = $1", shipment_id
        ):
            return None  # this RTO is already at the desk
    else:
        raise RuntimeError("could not allocate a return id")
    await store.add_history(
        conn,
        return_id=row.return_id,
        status=R.APPROVED,
        actor="courier",
        note=f"RTO of shipment {shipment_id}",
    )
    await emit(updated(row, R.APPROVED, note=f"RTO of shipment {shipment_id}: expected at {warehouse_code}"))
    return row


# --- reverse pickup -------------------------------------------------------------------------

_PICKUP_STEPS = {
    ShipmentStatus.CREATED: R.PICKUP_SCHEDULED,
    ShipmentStatus.AWB_ASSIGNED: R.PICKUP_SCHEDULED,
    ShipmentStatus.MANIFESTED: R.PICKUP_SCHEDULED,
    ShipmentStatus.PICKED_UP: R.PICKED_UP,
    ShipmentStatus.IN_TRANSIT: R.PICKED_UP,
    ShipmentStatus.OUT_FOR_DELIVERY: R.PICKED_UP,
}


async def pickup_progress(
    conn: Conn, emit: Emit, *, return_id: str, status: ShipmentStatus, awb: str | None, shipment_id: str
) -> None:
    """Follow the reverse pickup; late and repeated scans change nothing (forward only)."""
    ret = await store.lock_return(conn, return_id)
    if ret is None:
        raise LookupError(f"reverse pickup {shipment_id} names return {return_id}, which is not known")
    current = ret.status
    target = _PICKUP_STEPS.get(status)
    if target is None:
        if status is ShipmentStatus.DELIVERED and current in (R.APPROVED, R.PICKUP_SCHEDULED, R.PICKED_UP):
            await store.add_history(
                conn,
                return_id=return_id,
                status=current,
                actor="courier",
                note="parcel delivered at the warehouse",
            )
        elif status in (ShipmentStatus.CANCELLED, ShipmentStatus.LOST):
            note = f"reverse pickup {shipment_id} is {status}"
            await store.add_history(conn, return_id=return_id, status=current, actor="courier", note=note)
            await emit(updated(ret, current, note=note))
        return
    if domain.is_behind(current, target):
        return
    ret = await move(
        conn,
        ret,
        target,
        actor="courier",
        note=f"{status} ({shipment_id})",
        pickup_awb=awb or ret.pickup_awb,
    )
    await emit(updated(ret, target, note=f"reverse pickup {shipment_id} {status}"))


# --- receive and QC -------------------------------------------------------------------------


async def receive(conn: Conn, emit: Emit, *, ret: Return, warehouse_code: str | None, actor: str) -> None:
    """The parcel is at the desk."""
    current = ret.status
    if R.RECEIVED not in domain.TRANSITIONS[current]:
        raise Refusal(
            "return_id", f"return {ret.return_id} is {current}; it cannot be received now", status=409
        )
    warehouse = warehouse_code or ret.warehouse_code
    if not warehouse:
        raise Refusal("warehouse_code", "say which warehouse received the parcel", status=409)
    ret = await move(
        conn, ret, R.RECEIVED, actor=actor, warehouse_code=warehouse, received_at=datetime.now(UTC)
    )
    await emit(updated(ret, R.RECEIVED, warehouse_code=warehouse))


def verdict_problems(lines: list[ReturnLine], verdicts: list[domain.QcVerdict]) -> list[tuple[str, str]]:
    """Every way the desk's verdicts do not match the parcel's lines."""
    problems: list[tuple[str, str]] = []
    expected = {line.sku: line.quantity for line in lines}
    seen: set[str] = set()
    for index, verdict in enumerate(verdicts):
        if verdict.sku not in expected:
            problems.append((f"lines.{index}.sku", f"SKU {verdict.sku} is not in this return"))
        elif verdict.sku in seen:
            problems.append((f"lines.{index}.sku", f"SKU {verdict.sku} appears on more than one line"))
        elif verdict.passed + verdict.failed != expected[verdict.sku]:
            problems.append(
                (
                    f"lines.{index}.passed",
                    f"passed + failed must be the {expected[verdict.sku]} units returned of {verdict.sku}",
                )
            )
        seen.add(verdict.sku)
    for sku in expected.keys() - seen:
        problems.append(("lines", f"SKU {sku} has no QC verdict"))
    return problems


@dataclass(frozen=True, slots=True)
class Money:
    """What the order's payment allows refunding now."""

    method: PaymentMethod
    gateway: str | None
    gateway_payment_id: str | None
    refundable_paise: int


async def _money(conn: Conn, ret: Return, order: dict[str, Any]) -> Money:
    payment = order["payment"]
    method = PaymentMethod(payment["method"])
    paid = int(payment["amount_paise"])
    if method is PaymentMethod.COD and ret.kind == "rto":
        paid = 0  # the cash was never collected
    elif method is PaymentMethod.COD:
        paid = int(order["total_paise"])
    already = await conn.fetchval(
        "SELECT coalesce(sum(amount_paise), 0) FROM refunds WHERE order_id = $1 AND status <> 'failed'",
        ret.order_id,
    )
    return Money(
        method, payment.get("gateway"), payment.get("gateway_payment_id"), max(paid - int(already), 0)
    )


async def inspect(
    conn: Conn,
    emit: Emit,
    *,
    ret: Return,
    verdicts: list[domain.QcVerdict],
    actor: str,
    settings: ReturnsSettings,
) -> None:
    """Record QC, restock what passed and quarantine what failed, then refund, exchange or close."""
    current = ret.status
    if current is not R.RECEIVED:
        raise Refusal("return_id", f"return {ret.return_id} is {current}; QC follows receiving", status=409)
    order = await store.get_order(conn, ret.order_id)
    if order is None:
        raise Refusal(
            "return_id", f"order {ret.order_id} is not known yet: its refund cannot be decided", status=409
        )
    lines = list(ret.lines)
    by_sku = {v.sku: v for v in verdicts}
    await store.record_qc(conn, return_id=ret.return_id, verdicts=verdicts, actor=actor)
    passed = [
        line.model_copy(update={"quantity": by_sku[line.sku].passed})
        for line in lines
        if by_sku[line.sku].passed
    ]
    failed = [
        line.model_copy(update={"quantity": by_sku[line.sku].failed})
        for line in lines
        if by_sku[line.sku].failed
    ]
    summary = "; ".join(f"{v.sku}: {v.passed} passed, {v.failed} failed, grade {v.grade}" for v in verdicts)
    now = datetime.now(UTC)
    warehouse = ret.warehouse_code
    if passed:
        ret = await move(conn, ret, R.QC_PASSED, actor=actor, note=summary, qc_at=now)
        await emit(updated(ret, R.QC_PASSED, note=summary))
        ret = await move(conn, ret, R.RESTOCKED, actor=actor)
        await emit(updated(ret, R.RESTOCKED, lines=passed, warehouse_code=warehouse))
        if failed:
            await store.add_history(
                conn,
                return_id=ret.return_id,
                status=R.QUARANTINED,
                actor=actor,
                note="failed units quarantined",
            )
            await emit(updated(ret, R.QUARANTINED, lines=failed, warehouse_code=warehouse))
    else:
        ret = await move(conn, ret, R.QC_FAILED, actor=actor, note=summary, qc_at=now)
        await emit(updated(ret, R.QC_FAILED, note=summary))
        ret = await move(conn, ret, R.QUARANTINED, actor=actor)
        await emit(updated(ret, R.QUARANTINED, lines=failed, warehouse_code=warehouse))
    if ret.resolution is ReturnResolution.EXCHANGE:
        await _exchange(conn, emit, ret=ret, order=order, lines=lines, verdicts=by_sku, actor=actor)
    else:
        await _claim_refund(conn, emit, ret=ret, order=order, lines=lines, verdicts=by_sku, settings=settings)


async def _close(conn: Conn, emit: Emit, ret: Return, *, note: str, actor: str = "rules") -> None:
    ret = await move(conn, ret, R.CLOSED, actor=actor, note=note, closed_at=datetime.now(UTC))
    await emit(updated(ret, R.CLOSED, note=note))


async def _exchange(
    conn: Conn,
    emit: Emit,
    *,
    ret: Return,
    order: dict[str, Any],
    lines: list[ReturnLine],
    verdicts: dict[str, domain.QcVerdict],
    actor: str,
) -> None:
    order_lines = [OrderLine.model_validate(line) for line in order["lines"]]
    new_lines = domain.exchange_lines(
        returned=lines, replacements=ret.replacements, verdicts=verdicts, order_lines=order_lines
    )
    if not new_lines:
        await _close(conn, emit, ret, note="no unit qualifies for an exchange after QC")
        return
    await emit(
        ReturnExchangeRequested(
            order_id=ret.order_id,
            return_id=ret.return_id,
            lines=new_lines,
            customer=Customer.model_validate(order["customer"]),
            shipping_address=Address.model_validate(order["shipping_address"]),
            payment_method=PaymentMethod(order["payment"]["method"]),
        )
    )
    note = "exchange order " + ", ".join(f"{line.quantity} × {line.sku}" for line in new_lines)
    ret = await move(conn, ret, R.EXCHANGE_PLACED, actor=actor, note=note)
    await emit(updated(ret, R.EXCHANGE_PLACED, note=note))


async def _claim_refund(
    conn: Conn,
    emit: Emit,
    *,
    ret: Return,
    order: dict[str, Any],
    lines: list[ReturnLine],
    verdicts: dict[str, domain.QcVerdict],
    settings: ReturnsSettings,
) -> None:
    money = await _money(conn, ret, order)
    quote = domain.refund_quote(
        order_lines=[OrderLine.model_validate(line) for line in order["lines"]],
        discount_paise=int(order["discount_paise"]),
        shipping_fee_paise=int(order["shipping_fee_paise"]),
        returned=lines,
        verdicts=verdicts,
        policy=settings.refund_policy(),
        refundable_paise=money.refundable_paise,
        rto=ret.kind == "rto",
    )
    if quote.total_paise == 0:
        why = (
            "COD parcel never delivered: nothing was paid"
            if ret.kind == "rto"
            else "nothing refundable after QC"
        )
        await _close(conn, emit, ret, note=why)
        return
    refund_to = ret.refund_to or {}
    mode = domain.refund_mode(
        method=money.method,
        gateway=money.gateway,
        gateway_payment_id=money.gateway_payment_id,
        refund_to=refund_to.get("kind"),
    )
    refund_id = domain.new_refund_id(ret.return_id)
    await store.insert_refund(
        conn,
        refund_id=refund_id,
        return_id=ret.return_id,
        order_id=ret.order_id,
        mode=mode,
        amount_paise=quote.total_paise,
        shipping_fee_paise=quote.shipping_fee_paise,
        gateway_payment_id=money.gateway_payment_id if mode == "gateway_refund" else None,
    )
    note = (
        f"refund {refund_id}: {quote.total_paise} paise by {mode} (shipping fee {quote.shipping_fee_paise})"
    )
    ret = await move(conn, ret, R.REFUND_PENDING, actor="rules", note=note)
    await emit(updated(ret, R.REFUND_PENDING, note=note))
    if mode == "store_credit":
        phone = order["customer"]["phone"]
        await store.add_store_credit(
            conn,
            credit_id="SC-" + refund_id.removeprefix("RFD-"),
            return_id=ret.return_id,
            phone=phone,
            amount_paise=quote.total_paise,
        )
        refund = await store.lock_refund(conn, refund_id)
        assert refund is not None
        await settle(
            conn, emit, refund=refund, gateway_id="SC-" + refund_id.removeprefix("RFD-"), processed=True
        )


# --- refund outcome -------------------------------------------------------------------------


async def settle(
    conn: Conn,
    emit: Emit,
    *,
    refund: Refund,
    gateway_id: str | None,
    processed: bool,
    failure: str | None = None,
) -> None:
    """The gateway's final word on a locked refund; repeated words (webhooks, retries) change nothing."""
    if refund.status in ("processed", "failed"):
        return
    ret = await store.lock_return(conn, refund.return_id)
    assert ret is not None
    gateway_id = gateway_id or refund.gateway_refund_id
    if not processed:
        reason = failure or "the gateway reported the refund failed"
        await store.update_refund(
            conn,
            refund.refund_id,
            status="failed",
            failure_reason=reason,
            gateway_refund_id=gateway_id,
            lease_until=None,
        )
        note = f"refund {refund.refund_id} failed: {reason}; retry it from the return desk"
        await store.add_history(
            conn, return_id=ret.return_id, status=R.REFUND_PENDING, actor="gateway", note=note
        )
        await emit(updated(ret, R.REFUND_PENDING, note=note, alert="refund_failed"))
        return
    await store.update_refund(
        conn,
        refund.refund_id,
        status="processed",
        gateway_refund_id=gateway_id,
        processed_at=datetime.now(UTC),
        lease_until=None,
    )
    ret = await move(conn, ret, R.REFUNDED, actor="gateway", note=f"{refund.mode} {gateway_id}")
    order = await store.get_order(conn, ret.order_id)
    method = PaymentMethod(order["payment"]["method"]) if order else PaymentMethod.COD
    await emit(
        ReturnRefunded(
            order_id=ret.order_id,
            return_id=ret.return_id,
            status=R.REFUNDED,
            lines=list(ret.lines),
            amount_paise=refund.amount_paise,
            refund_id=gateway_id or refund.refund_id,
            method=method,
            refund_mode=refund.mode,
            shipping_fee_paise=refund.shipping_fee_paise,
            kind="rto" if ret.kind == "rto" else "return",
        )
    )
