"""Returns owns the refund SLA (ADR 0230): notifications passes returns' overdue-refund alert on to
operators once per return, and keeps no clock, table or setting of its own for it."""

from __future__ import annotations

from pathlib import Path

from contracts import ReturnStatus, ReturnUpdated
from contracts.examples import return_updated
from services.notifications import app
from services.notifications.domain import policy
from services.notifications.settings import NotificationsSettings

NOTIFICATIONS = Path(app.__file__).parent


def overdue(**update: object) -> ReturnUpdated:
    return return_updated().model_copy(
        update={
            "status": ReturnStatus.REFUND_PENDING,
            "alert": "refund_sla_breached",
            "note": "refund RF-1 of 34900 paise is pending 3 days after QC on 1 Dec 2026",
            **update,
        }
    )


def test_returns_overdue_refund_alert_reaches_operators_with_returns_own_reason() -> None:
    event = overdue()
    message = policy.return_alert(event)
    assert message is not None
    assert message.template == "refund_overdue"
    assert message.recipient == policy.OPS_RECIPIENT
    assert message.text == (
        f"Refund overdue: return {event.return_id} of order {event.order_id}: "
        "refund RF-1 of 34900 paise is pending 3 days after QC on 1 Dec 2026"
    )


def test_a_second_alert_about_the_same_return_is_the_same_message() -> None:
    first = policy.return_alert(overdue())
    again = policy.return_alert(overdue(note="said again"))
    other = policy.return_alert(overdue(return_id="RMA-OTHER"))
    assert first is not None and again is not None and other is not None
    assert first.message_id == again.message_id
    assert other.message_id != first.message_id


def test_a_return_update_without_returns_alert_tells_operators_nothing() -> None:
    assert policy.return_alert(overdue(alert=None)) is None
    assert policy.return_alert(return_updated()) is None


def test_a_refund_failure_is_not_mistaken_for_an_overdue_refund() -> None:
    assert policy.return_alert(overdue(alert="refund_failed")) is None


def test_notifications_keeps_no_refund_timer() -> None:
    assert not [name for name in NotificationsSettings.model_fields if "refund" in name]
    service = app.build(NotificationsSettings())
    jobs = [name for name, _seconds, _job in service._jobs]
    assert jobs and not [name for name in jobs if "refund" in name]
    mentions = [
        p.read_text()
        for p in sorted((NOTIFICATIONS / "migrations").glob("*.sql"))
        if "pending_refunds" in p.read_text()
    ]
    assert "DROP TABLE IF EXISTS pending_refunds" in mentions[-1], "the last word on the table drops it"
    source = "\n".join(p.read_text() for p in NOTIFICATIONS.rglob("*.py"))
    assert "pending_refunds" not in source
