"""Sign-in, sessions and CSRF for the console's operators.

Passwords are argon2id hashes (argon2-cffi); the session cookie holds a random token of which only
a SHA-256 digest is stored; every form carries the session's CSRF token; repeated failures lock the
account for a while (`domain.decisions.after_failed_sign_in`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request

from chassis.signatures import same_secret
from services.console import store
from services.console.domain.decisions import LockoutPolicy, after_failed_sign_in, is_locked
from services.console.owners import Operator
from services.console.settings import ConsoleSettings

COOKIE = "dabba_session"
LOGIN_CSRF_COOKIE = "dabba_login_csrf"
ROLES = ("admin", "ops", "warehouse", "viewer")
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (missing never matches)."""
    return bool(a) and same_secret(str(a), b)


class SignInRefused(Exception):
    """Wrong name or password, or a locked account; the message is what the operator sees."""


async def sign_in(
    pool: asyncpg.Pool, settings: ConsoleSettings, *, name: str, password: str, now: datetime
) -> str:
    """Check the password and open a session; returns the session token for the cookie."""
    policy = LockoutPolicy(settings.lockout_failures, settings.lockout_minutes)
    async with pool.acquire() as conn, conn.transaction():
        account = await store.lock_operator(conn, name)
        if account is None:
            _verify(_DUMMY_HASH, password)
            raise SignInRefused("wrong user name or password")
        if is_locked(account.locked_until, now):
            raise SignInRefused("too many failed sign-ins: this account is locked for a while")
        if not _verify(account.password_hash, password):
            failures, locked_until = after_failed_sign_in(account.failed_sign_ins, now, policy)
            await store.record_sign_in_failure(conn, name, failures, locked_until)
            if locked_until is not None:
                raise SignInRefused("too many failed sign-ins: this account is locked for a while")
            raise SignInRefused("wrong user name or password")
        rehash = hash_password(password) if _hasher.check_needs_rehash(account.password_hash) else None
        await store.record_sign_in(conn, name, rehash)
        token = new_token()
        await store.open_session(
            conn,
            digest=digest(token),
            operator=name,
            csrf=new_token(),
            now=now,
            expires=now + timedelta(hours=settings.session_hours),
        )
    return token


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def ensure_operators(pool: asyncpg.Pool, settings: ConsoleSettings) -> list[str]:
    """Create the operators named in CONSOLE_OPERATORS that do not exist yet; returns their names."""
    created = []
    for name, role, password in settings.operators():
        if role not in ROLES:
            raise ValueError(f"CONSOLE_OPERATORS: {name}'s role {role!r} is not one of {', '.join(ROLES)}")
        if await store.add_operator(pool, name=name, role=role, password_hash=hash_password(password)):
            created.append(name)
    return created


class SignInNeeded(Exception):
    """No live session: the page sends the browser to /login."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token."""


async def _current(request: Request) -> Operator:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded()
    now = request.app.state.clock()
    live = await store.session(request.app.state.service.pool, digest(token), now)
    if live is None:
        raise SignInNeeded()
    return Operator(name=live.operator, role=live.role, csrf=live.csrf_token)


async def _current_with_csrf(request: Request) -> Operator:
    operator = await _current(request)
    form = await request.form()
    if not same(str(form.get("csrf_token") or ""), operator.csrf):
        raise CsrfRefused()
    return operator


_current.__dabba_auth__ = ("session", "any operator")  # type: ignore[attr-defined]
_current_with_csrf.__dabba_auth__ = ("session", "any operator, CSRF checked")  # type: ignore[attr-defined]


def signed_in() -> Any:
    """A page dependency: the signed-in operator (else a redirect to /login)."""
    return Depends(_current)


def form_from_operator() -> Any:
    """A form dependency: the signed-in operator, and the form carries their session's CSRF token."""
    return Depends(_current_with_csrf)
