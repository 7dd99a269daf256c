"""When and how a planned message is delivered: quiet hours, provider rate limits, retry backoff,
the forward-only delivery status, and what a provider's failure leads to. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from chassis.clock import IST


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which non-urgent messages wait (TRAI's window for promotional SMS is 21–09)."""

    start: time = time(21, 0)
    end: time = time(9, 0)
    zone: tzinfo = IST

    @classmethod
    def parse(cls, spec: str) -> QuietHours | None:
        """``"21:00-09:00"``; an empty string means no quiet hours. Raises ValueError naming the problem."""
        if not spec.strip():
            return None
        try:
            start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
        except ValueError:
            raise ValueError(f"quiet hours must look like 21:00-09:00, got {spec!r}") from None
        if start == end:
            raise ValueError(f"quiet hours {spec!r} start and end at the same time")
        return cls(start=start, end=end)

    def contains(self, at: datetime) -> bool:
        """Whether a moment falls inside the quiet hours (which may span midnight)."""
        local = at.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, at: datetime) -> datetime:
        """The first moment at or after ``at`` when the quiet hours are over."""
        local = at.astimezone(self.zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)


def send_at(now: datetime, *, urgent: bool, quiet: QuietHours | None) -> datetime:
    """When a message may go out: now, or when the quiet hours end for a non-urgent one."""
    if urgent or quiet is None or not quiet.contains(now):
        return now
    return quiet.next_end(now)


def retry_delay(attempt: int, *, base_s: float, cap_s: float) -> timedelta:
    """How long to wait before try ``attempt + 1`` after ``attempt`` failed: doubling, capped."""
    return timedelta(seconds=min(cap_s, base_s * 2 ** max(0, attempt - 1)))


def waits_for_status_until(
    previous_start: datetime | None, *, now: datetime, grace: timedelta
) -> datetime | None:
    """When a claimed message may call its provider again: None for at once, else the moment to
    wait for. A previous try that started (``previous_start``) and recorded no outcome may have
    been accepted, and the provider's status webhook, which names our message, would record it:
    that webhook gets ``grace`` from the start of that try before the message is sent again."""
    if previous_start is None:
        return None
    until = previous_start + grace
    return until if until > now else None


class Delivery(StrEnum):
    """A message's state as the audit shows it; provider callbacks move it forward only."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


_RANK = {Delivery.QUEUED: 0, Delivery.SENT: 1, Delivery.DELIVERED: 2, Delivery.READ: 3}


def advance(current: Delivery, reported: Delivery) -> Delivery | None:
    """The new state after a provider reports one, or None when it changes nothing (a late or
    repeated callback: 'delivered' after 'read'; anything after 'failed')."""
    if current is Delivery.FAILED or reported is current:
        return None
    if reported is Delivery.FAILED:
        return Delivery.FAILED
    return reported if _RANK[reported] > _RANK[current] else None


def settled_by_report(current: Delivery, reported: Delivery) -> Delivery | None:
    """The new state after an SMS delivery report, or None when it changes nothing. An operator's
    report is final: the first 'delivered' or 'failed' stands, so a replayed or late report (a
    'failed' after 'delivered', a 'delivered' after 'failed') leaves the message as it is."""
    if current in (Delivery.QUEUED, Delivery.SENT) and reported in (Delivery.DELIVERED, Delivery.FAILED):
        return reported
    return None


def moved_by(reported: Delivery) -> frozenset[Delivery]:
    """The states a message can be in for a report of ``reported`` to move it (``advance`` as a
    set, so the store can check it on the row in the statement that moves it)."""
    return frozenset(current for current in Delivery if advance(current, reported) is reported)


def falls_back_to_sms(channel: str, *, has_fallback: bool) -> bool:
    """A WhatsApp message that could not be delivered goes again by SMS when it has an SMS template."""
    return channel == "whatsapp" and has_fallback
