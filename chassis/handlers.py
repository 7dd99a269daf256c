"""A service's consumer handlers, declared at module level like FastAPI's `APIRouter` routes.

    subscriptions: Handlers[OrdersSettings] = Handlers()

    @subscriptions.on(ChannelOrder, on_invalid=on_unreadable_channel_order)
    async def on_channel_order(ctx: HandlerContext, order: ChannelOrder) -> None:
        settings = subscriptions.deps(ctx)

The service includes them with what they depend on (`service.include_handlers(subscriptions,
settings)`); each call's context carries it, so two services built in one process (tests, replicas)
keep their own settings and nothing lives in a module global.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Generic, TypeVar, cast

from chassis.consumer import BeforeCommit, Handler, HandlerContext, InvalidHandler, Subscription
from contracts._base import Event

D = TypeVar("D")
E = TypeVar("E", bound=Event)


class Handlers(Generic[D]):
    """The handlers of the topics a service consumes, and its before-commit hooks."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription[Any]] = {}
        self.before_commit_hooks: list[BeforeCommit] = []

    def on(
        self, model: type[E], *more: type[Event], on_invalid: InvalidHandler | None = None
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Handle one event type (its topic), or several with one function; one handler per topic."""

        def register(handler: Handler[E]) -> Handler[E]:
            models: tuple[type[Event], ...] = (model, *more)
            for each in models:
                if each.TOPIC in self.subscriptions:
                    raise ValueError(f"{each.TOPIC} is already handled")
                self.subscriptions[each.TOPIC] = Subscription(each, handler, on_invalid)
            return handler

        return register

    def before_commit(self, hook: BeforeCommit) -> BeforeCommit:
        """Run at the end of every consumer transaction, after its events were applied."""
        self.before_commit_hooks.append(hook)
        return hook

    def deps(self, ctx: HandlerContext) -> D:
        """What the service included these handlers with."""
        return cast(D, ctx.deps)

    def bound(self, deps: D) -> dict[str, Subscription[Any]]:
        """The subscriptions, each carrying `deps` to its handler's context."""
        return {topic: replace(sub, deps=deps) for topic, sub in self.subscriptions.items()}
