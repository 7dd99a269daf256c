"""Every HTTP API needs an API key with a role; the answers to a missing or weak key are clear."""

from __future__ import annotations

import importlib

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from chassis.auth import (
    HEADER,
    Principal,
    Role,
    Unauthorized,
    acting_for,
    authenticate,
    authorize,
    by_signature,
    parse_keys,
    require,
    route_auth,
    route_verifier,
)
from chassis.http import api_routes, create_http_app
from chassis.refusal import Refusal
from deploy.local.stack import SERVICES

KEYS = "asha:ops:ops-key-0123456789,ravi:viewer:viewer-key-0123456789,root:admin:admin-key-0123456789"


def _app(keys: str = KEYS) -> FastAPI:
    async def ready() -> dict[str, bool]:
        return {}

    app = create_http_app(title="t", version="0", lifespan=None, readiness=ready, api_keys=parse_keys(keys))  # type: ignore[arg-type]
    router = APIRouter()

    @router.post("/orders/{order_id}/cancel", dependencies=[require(Role.OPS)])
    async def cancel(order_id: str) -> dict[str, str]:
        return {"cancelled": order_id}

    app.include_router(router)
    return app


async def _call(app: FastAPI, key: str | None) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.post("/orders/ORD-1/cancel", headers=headers)


async def test_a_call_without_a_key_is_401_and_says_which_header() -> None:
    r = await _call(_app(), None)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("ApiKey")
    assert r.json() == {
        "error": "unauthorized",
        "problems": [{"field": "X-API-Key", "problem": "missing API key: send it in the X-API-Key header"}],
    }


async def test_an_unknown_key_is_401() -> None:
    r = await _call(_app(), "not-a-key-we-know")
    assert r.status_code == 401
    assert r.json()["problems"][0]["problem"] == "unknown API key"


async def test_a_viewer_may_not_cancel_and_is_told_which_roles_may() -> None:
    r = await _call(_app(), "viewer-key-0123456789")
    assert r.status_code == 403
    assert r.json()["problems"][0]["problem"] == "role viewer may not do this; it needs one of: admin, ops"


@pytest.mark.parametrize("key", ["ops-key-0123456789", "admin-key-0123456789"])
async def test_ops_and_admin_may_cancel(key: str) -> None:
    r = await _call(_app(), key)
    assert r.status_code == 200, r.text
    assert r.json() == {"cancelled": "ORD-1"}


async def test_a_service_without_keys_refuses_everything_but_health() -> None:
    app = _app("")
    r = await _call(app, "ops-key-0123456789")
    assert r.status_code == 401
    assert "no API keys configured" in r.json()["problems"][0]["problem"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("asha:ops", "entry 1: expected name:role:key"),
        ("asha:ops:ok-key-0123456789,ravi:boss:key-0123456789", "entry 2 (ravi): role 'boss' is not one of"),
        ("asha:ops:short", "entry 1 (asha): a key needs at least 12 characters"),
    ],
)
def test_a_broken_api_keys_setting_names_the_entry(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_keys(spec)


def test_only_digests_of_keys_are_kept() -> None:
    keys = parse_keys(KEYS)
    assert not any("key-0123456789" in digest for digest in keys)


@pytest.mark.parametrize("name", SERVICES)
def test_every_route_of_every_service_is_authenticated(name: str) -> None:
    service = importlib.import_module(f"services.{name}.app").build()
    app = service.http_app()
    open_routes = {
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        # The console's sign-in page and its assets, before anyone has a session.
        "/login",
        "/static/console.css",
        "/static/console.js",
        "/static/fonts.css",
        "/static/fonts/{family}/{name}",
    }
    routes = list(api_routes(app.routes))
    unguarded = [
        f"{sorted(route.methods)} {route.path}"
        for route in routes
        if route.path not in open_routes and route_auth(route.dependant) is None
    ]
    assert unguarded == []
    assert len(routes) > 3  # the service's own routes were looked at, not only health and metrics


async def _razorpays(request: Request) -> bytes:
    if request.headers.get("X-Razorpay-Signature") != "razorpay's":
        raise Refusal("X-Razorpay-Signature", "not razorpay's", status=401)
    return await request.body()


def test_a_webhook_is_marked_as_signed_by_its_provider_and_carries_its_verifier() -> None:
    router = APIRouter()

    @router.post("/webhooks/razorpay", dependencies=[by_signature("razorpay", _razorpays)])
    async def hook() -> None:
        return None

    route = router.routes[0]
    assert isinstance(route, APIRoute)
    assert route_auth(route.dependant) == ("signature", "razorpay")
    assert route_verifier(route.dependant) is _razorpays


def test_a_webhook_cannot_be_declared_without_its_verifier() -> None:
    with pytest.raises(TypeError, match="verify"):
        by_signature("razorpay")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="needs the verifier"):
        by_signature("razorpay", None)  # type: ignore[arg-type]


async def test_a_webhook_handler_runs_only_after_its_verifier_and_gets_what_it_verified() -> None:
    app, router = _app(), APIRouter()
    entered: list[bytes] = []

    @router.post("/webhooks/razorpay")
    async def hook(body: bytes = by_signature("razorpay", _razorpays)) -> dict[str, int]:
        entered.append(body)
        return {"bytes": len(body)}

    app.include_router(router)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        forged = await client.post("/webhooks/razorpay", content=b'{"a": 1}')
        signed = await client.post(
            "/webhooks/razorpay", content=b'{"a": 1}', headers={"X-Razorpay-Signature": "razorpay's"}
        )

    assert forged.status_code == 401
    assert forged.json()["problems"] == [{"field": "X-Razorpay-Signature", "problem": "not razorpay's"}]
    assert (signed.status_code, signed.json()) == (200, {"bytes": 8})
    assert entered == [b'{"a": 1}']


def test_the_console_acts_as_the_person_who_clicked_with_its_keys_role() -> None:
    keys = parse_keys("console:viewer:dev-console-viewer-local,asha:ops:key-0123456789")
    console = authenticate(keys, "dev-console-viewer-local")
    person = acting_for(console, "vikram")
    assert person == Principal(name="vikram", role=Role.VIEWER)
    with pytest.raises(Unauthorized, match="role viewer may not"):
        authorize(person, (Role.OPS,))


def test_only_the_consoles_keys_may_name_someone_else() -> None:
    keys = parse_keys("console:ops:dev-console-ops-local,asha:ops:key-0123456789")
    with pytest.raises(Unauthorized, match="only the console") as refused:
        acting_for(authenticate(keys, "key-0123456789"), "ravi")
    assert refused.value.status == 403
    with pytest.raises(Unauthorized, match="user name"):
        acting_for(authenticate(keys, "dev-console-ops-local"), "ravi; DROP TABLE")
    assert acting_for(authenticate(keys, "key-0123456789"), None).name == "asha"


async def test_an_administrator_sees_who_may_call_a_service_and_never_a_key() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        seen = await c.get("/api-keys", headers={HEADER: "admin-key-0123456789"})
        refused = await c.get("/api-keys", headers={HEADER: "ops-key-0123456789"})
    assert seen.status_code == 200, seen.text
    keys = seen.json()["keys"]
    assert {(k["name"], k["role"]) for k in keys} == {
        (p.name, p.role.value) for p in parse_keys(KEYS).values()
    }
    assert all(len(k["fingerprint"]) == 8 for k in keys)
    assert "key-0123456789" not in seen.text
    assert refused.status_code == 403
