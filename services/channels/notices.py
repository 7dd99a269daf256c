"""Amazon's ORDER_CHANGE notifications taken as they come (ADR 420): each queue the accounts name is
read with a long poll, each notice goes to the account of its seller, its order is fetched at once
and taken in through the poll's own decision and receipts. The poll runs on behind the notices, and
an order both bring is taken once (the same receipt id for the same state, the same store order)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from chassis.logging import get_logger
from chassis.ratelimit import RateLimited
from chassis.service import Service
from services.channels import intake, poll, store
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import (
    Account,
    NoticeSource,
    OrderNotice,
    PolledOrder,
    StoreAdapter,
    StoreError,
    StoreOrder,
)

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class NoticeResult:
    """What one read of a queue brought: notices, receipts taken in, and why it stopped if it did."""

    queue: str
    notices: int
    taken_in: int
    error: str | None = None


def account_of(notice: OrderNotice, accounts: Sequence[Account]) -> Account | None:
    """The account a notice is about: its seller's (one application's queue carries every seller
    that authorised it), and its marketplace's where one seller has an account per marketplace."""
    sellers = [a for a in accounts if a.seller_id and a.seller_id == notice.seller_id]
    if len(sellers) == 1:
        return sellers[0]
    return next((a for a in sellers if a.marketplace_id == notice.marketplace_id), None)


def fetches(notice: OrderNotice, *, known: bool, known_cancelled: bool) -> bool:
    """Whether a notice's order is worth a call. Not when nothing of ours can come of it yet (Amazon's
    own, or unpaid); for an order we have, only its cancellation (once) or a buyer's request to
    cancel: any other change of it is nothing a poll would take either (``marketplace_takes``), and
    a backlog of such notices would spend getOrder's rate on nothing."""
    if not notice.worth_fetching:
        return False
    if not known:
        return True
    return (notice.cancelled and not known_cancelled) or notice.buyer_request


async def take_all(
    service: Service, settings: ChannelsSettings, adapters: dict[str, StoreAdapter]
) -> list[NoticeResult]:
    """Read every queue the enabled accounts name, side by side (each read waits for its first notice)."""
    async with service.pool.acquire() as conn:
        accounts = await store.notified_accounts(conn)
    queues: dict[str, list[Account]] = {}
    for account in accounts:
        if account.sqs_queue_url and isinstance(adapters.get(account.platform), NoticeSource):
            queues.setdefault(account.sqs_queue_url, []).append(account)
    return list(
        await asyncio.gather(*(take_queue(service, settings, adapters, group) for group in queues.values()))
    )


async def take_queue(
    service: Service,
    settings: ChannelsSettings,
    adapters: dict[str, StoreAdapter],
    accounts: Sequence[Account],
) -> NoticeResult:
    """One read of one queue: fetch each notice's order outside any transaction, keep what the poll
    would keep in one transaction per account, then delete the notices handled. A notice whose order
    could not be fetched now is left: the queue brings it again after its visibility timeout."""
    adapter = adapters[accounts[0].platform]
    queue = accounts[0].order_queue
    assert isinstance(adapter, NoticeSource) and queue is not None
    try:
        notices = await adapter.notices(queue, wait_s=settings.notice_wait_s)
    except StoreError as exc:
        log.warning("order notices could not be read", queue=queue.url, error=str(exc))
        return NoticeResult(queue.url, 0, 0, str(exc))
    fetched: dict[str, list[tuple[PolledOrder, StoreOrder | None]]] = {}
    handled: list[OrderNotice] = []
    error = None
    routed = [(n, account_of(n, accounts) if n.store_order_id else None) for n in notices]
    known: dict[str, dict[str, bool]] = {}
    async with service.pool.acquire() as conn:
        for name in {a.account for _, a in routed if a is not None}:
            ids = [n.store_order_id for n, a in routed if a is not None and a.account == name]
            known[name] = await store.cancelled_store_orders(conn, name, [i for i in ids if i])
    for notice, account in routed:
        if account is None or notice.store_order_id is None:
            log.warning(
                "order notice set aside",
                queue=queue.url,
                problem=notice.problem or f"no account here for seller {notice.seller_id!r}",
            )
            handled.append(notice)
            continue
        seen = known[account.account]
        if not fetches(
            notice,
            known=notice.store_order_id in seen,
            known_cancelled=seen.get(notice.store_order_id, False),
        ):
            handled.append(notice)
            continue
        try:
            polled = await adapter.order(account, notice.store_order_id)
        except (StoreError, RateLimited) as exc:
            error = str(exc)
            if isinstance(exc, StoreError) and not exc.retryable:
                handled.append(notice)  # refused for good; the poll still lists the order if it changed
            log.warning("order notice's order not fetched", account=account.account, error=error)
            continue
        fetched.setdefault(account.account, []).append((polled, poll.read(adapter, polled)))
        handled.append(notice)
    taken = 0
    for name, orders in fetched.items():
        async with service.pool.acquire() as conn, conn.transaction():
            taken_here = await poll.take_listed(conn, name, orders)
        if taken_here:
            await intake.process_pending(service, {accounts[0].platform: adapter}, account=name)
        await poll.note_listed(service, name, orders)
        taken += taken_here
    for notice in handled:
        try:
            await adapter.settle(queue, notice)
        except StoreError as exc:  # it comes back and is taken as a duplicate
            log.warning("order notice not deleted", queue=queue.url, error=str(exc))
    if taken:
        log.info("order notices took in orders", queue=queue.url, notices=len(notices), taken_in=taken)
    return NoticeResult(queue.url, len(notices), taken, error)
