"""The HTTP face every service shares: /healthz, /readyz, /metrics, and one body for every 4xx.

A Refusal (chassis.refusal), a validation error, an unknown route or a missing key all answer
`{"error", "problems": [{"field", "problem"}]}`, each problem naming its field.
Text with NUL or control characters anywhere in a request (chassis.text) is refused the same way,
before any route sees it. A body larger than the service's limit is refused with 413 before anything
reads it (BodyLimit): by its Content-Length at once, or as soon as a streamed body passes the limit.
A route marked `light` (a provider's webhook flood) is served by its light handler straight from ASGI,
through the same middleware (body limit, not-started answer) but not FastAPI's routing, dependencies
and telemetry; FastAPI keeps the route for its documentation and checks.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chassis import outbox, text
from chassis.auth import HEADER, Principal, require, route_auth
from chassis.logging import get_logger
from chassis.refusal import Refusal, error_of

log = get_logger(__name__)

MIB = 1024 * 1024

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]
BusinessCheck = Callable[[Any], list[tuple[str, str]]]
E = TypeVar("E", bound=Callable[..., Any])


def also_check(check: BusinessCheck) -> Callable[[E], E]:
    """Mark a route whose refusals of a malformed body should also name its business problems.

    Without it a negative quantity hides a wrong pincode until the next try; with it one 422 names
    both. ``check`` gets the parsed JSON body and returns (field, problem) pairs; fields already
    named by a shape error are left out."""

    def mark(endpoint: E) -> E:
        endpoint.__dabba_also_check__ = check  # type: ignore[attr-defined]
        return endpoint

    return mark


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every API route of an app, those of included routers too (FastAPI keeps an included router
    as one entry of `app.routes`). Services include routers without a prefix, so paths are whole."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from api_routes(included.routes)


def upload(endpoint: E) -> E:
    """Mark a route that takes a file (a CSV import): its body may reach the service's upload limit
    (`http_max_upload_bytes`) instead of the limit of every other body (`http_max_body_bytes`)."""
    endpoint.__dabba_upload__ = True  # type: ignore[attr-defined]
    return endpoint


@dataclass(frozen=True, slots=True)
class LightRequest:
    """What a light route's handler gets: the path's parameters, the headers (lower-case names, the
    first of each), the whole raw body (within the body limit) and the app, for its state."""

    path_params: dict[str, Any]
    headers: Mapping[str, str]
    body: bytes
    app: FastAPI


LightHandler = Callable[[LightRequest], Awaitable[tuple[int, Any]]]
"""Answers a light request with a status and a JSON body; a Refusal answers with the one error body."""


def light(endpoint: Any, handler: LightHandler) -> None:
    """Serve a route by ``handler`` straight from ASGI (``DabbaApp``): for a route a provider floods
    (store webhooks), where FastAPI's routing, dependency solving, response encoding and telemetry
    cost more than the work. The route's FastAPI endpoint stays what OpenAPI documents and what
    the route checks read (its ``by_signature``); the handler must refuse and answer as it does.
    Path and query text with control characters is refused (422) before the handler runs, as on
    every route; bodies are bounded by the same BodyLimit."""
    endpoint.__dabba_light__ = handler


class DabbaApp(FastAPI):
    """FastAPI, with routes marked ``light`` answered before FastAPI's own stack, through the
    middleware the service added (body limit, not-started answer) and nothing else."""

    _light_routes: list[tuple[APIRoute, LightHandler]] | None = None
    _light_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._light_routes is None:
                self._light_routes = [
                    (r, r.endpoint.__dabba_light__)  # type: ignore[attr-defined]
                    for r in api_routes(self.routes)
                    if getattr(r.endpoint, "__dabba_light__", None) is not None
                ]
            for route, handler in self._light_routes:
                if scope["method"] in (route.methods or ()) and (
                    found := route.path_regex.match(scope["path"])
                ):
                    params = {k: route.param_convertors[k].convert(v) for k, v in found.groupdict().items()}
                    scope["dabba.light"] = (handler, params)
                    scope["app"] = self
                    if self._light_stack is None:
                        self._light_stack = self._with_middleware(self._serve_light)
                    await self._light_stack(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)

    def _with_middleware(self, app: ASGIApp) -> ASGIApp:
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app

    async def _serve_light(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler, params = scope["dabba.light"]
        headers: dict[str, str] = {}
        try:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            problems = [
                (name, p)
                for name, value in [*params.items(), *query]
                if (p := text.text_problem(str(value))) is not None
            ]
            if problems:
                raise Refusal.of(problems)
            body = await _whole_body(receive)
            if body is None:
                return  # the client went away: nobody to answer
            for name, value in scope["headers"]:
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
            status, content = await handler(LightRequest(params, headers, body, self))
            headers = {}
        except Refusal as exc:
            status, content = exc.status, exc.body()
            headers = {"www-authenticate": f'ApiKey header="{HEADER}"'} if exc.status == 401 else {}
        except _TooLarge:
            raise  # BodyLimit answers 413
        except Exception:
            log.exception("light route failed", path=scope["path"])
            status, content = (
                500,
                {
                    "error": "internal error",
                    "problems": [{"field": "service", "problem": "the service failed; try again"}],
                },
            )
            headers = {}
        await _send_json(send, status, content, headers)


async def _whole_body(receive: Receive) -> bytes | None:
    """The request's body, read to its end; None when the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_json(send: Send, status: int, content: Any, headers: dict[str, str]) -> None:
    """JSON as JSONResponse encodes it, in one start and one body message."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """The body being streamed passed the limit; raised out of `receive` to stop whoever reads it."""


class BodyLimit:
    """ASGI middleware: a request body over the limit answers 413 with the one error body, before any
    parsing or signature check. A Content-Length over the limit is refused without reading a byte; a
    body without one (chunked) is counted as it streams and refused as soon as it passes the limit,
    whatever the route was doing with it (its own answer is dropped)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int, routes: Callable[[], list[Any]]
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self._routes = routes
        self._uploads: list[APIRoute] | None = None

    def limit(self, scope: Scope) -> int:
        """The largest body this request may carry: the upload limit on routes marked `upload`."""
        if self._uploads is None:
            self._uploads = [
                r for r in api_routes(self._routes()) if getattr(r.endpoint, "__dabba_upload__", False)
            ]
        if any(route.matches(scope)[0] is Match.FULL for route in self._uploads):
            return self.max_upload_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse_too_large(send, limit)
            return
        received = 0
        over = answered = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _TooLarge
            return message

        async def unless_over(message: Message) -> None:
            nonlocal answered
            if over and not answered:
                return  # the route's answer to an interrupted read is replaced by the 413 below
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, unless_over)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await _refuse_too_large(send, limit)


async def _refuse_too_large(send: Send, limit: int) -> None:
    problem = f"the body is larger than {limit:,} bytes, the most this service accepts here"
    response = JSONResponse(
        status_code=413,
        content={"error": error_of(413), "problems": [{"field": "body", "problem": problem}]},
        headers={"Connection": "close"},
    )
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


EVENTS_HEADER = "X-Dabba-Events"
"""Names the events a successful request wrote, `topic=event_id` comma-separated, so a read model's
owner (the console) can wait until it has applied them before it shows its next page (ADR 545)."""
EVENTS_NAMED = 200
"""At most this many are named: a bulk action over thousands of orders still answers with a header
any client takes; the caller waits for the first ones only."""


_KEY_HEADER = HEADER.lower().encode()


class NamesWrittenEvents:
    """ASGI middleware: a successful response to a caller with an API key names the events its
    request wrote (EVENTS_HEADER). Providers' webhooks and public pages are not told our event ids."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(name == _KEY_HEADER for name, _ in scope.get("headers", ())):
            await self.app(scope, receive, send)
            return
        with outbox.noting_written() as written:

            async def naming(message: Message) -> None:
                if message["type"] == "http.response.start" and written and message["status"] < 400:
                    named = ",".join(f"{topic}={event_id}" for topic, event_id in written[:EVENTS_NAMED])
                    message = {
                        **message,
                        "headers": [*message.get("headers", []), (b"x-dabba-events", named.encode())],
                    }
                await send(message)

            await self.app(scope, receive, naming)


def written_events(value: str | None) -> list[tuple[str, str]]:
    """(topic, event id) pairs of an EVENTS_HEADER value; anything else in it is skipped."""
    pairs = (part.strip().partition("=") for part in (value or "").split(","))
    return [(topic, event_id) for topic, sep, event_id in pairs if sep and topic and event_id]


class OpsOnlyUntilStarted:
    """ASGI middleware: until the service has started (it may be waiting for its database or broker,
    ADR 170) every route but /healthz, /readyz and /metrics answers 503 with the one error body."""

    def __init__(self, app: ASGIApp, *, started: Callable[[], bool]) -> None:
        self.app = app
        self.started = started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPS_PATHS or self.started():
            await self.app(scope, receive, send)
            return
        problem = "the service is starting: it waits for its database or Kafka (see /readyz)"
        response = JSONResponse(
            status_code=503,
            content={"error": error_of(503), "problems": [{"field": "service", "problem": problem}]},
            headers={"Retry-After": "5"},
        )
        await response(scope, receive, send)


def follow(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to another operation of this API, its parameters taken from this exchange
    (e.g. ``order_id="$response.body#/order_id"``), so clients and fuzzers can act on what was made."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def created(description: str, **links: dict[str, Any]) -> dict[str, Any]:
    """A success response that names its links (``follow``)."""
    return {"description": description, "links": links}


def text_answer(media_type: str, description: str, *, binary: bool = False) -> dict[str, Any]:
    """A success response that is not JSON (a PDF, a CSV, text), its body declared as a string."""
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {"description": description, "content": {media_type: {"schema": schema}}}


class Health(BaseModel):
    """The process answers."""

    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    """Whether each dependency is up; 503 with the same body while one is not."""

    status: str = Field(examples=["ready", "not ready"])
    checks: dict[str, bool] = Field(examples=[{"database": True, "kafka": True, "outbox_relay": True}])


class ApiKey(BaseModel):
    """One entry of a service's API_KEYS, never the key itself."""

    name: str = Field(examples=["console-ops"])
    role: str = Field(examples=["ops"])
    fingerprint: str = Field(
        description="The first 8 hex digits of the key's SHA-256: tells two keys apart when rotating.",
        examples=["3f9a0c1d"],
    )


class ApiKeys(BaseModel):
    """Who may call this service (API_KEYS), for an administrator to check; secrets are never shown."""

    keys: list[ApiKey] = Field(max_length=1000)


class Problem(BaseModel):
    """One reason a request was refused: a dotted field path and what is wrong with it."""

    field: str = Field(description="Dotted path, e.g. shipping_address.pincode or lines.0.sku.")
    problem: str


class ErrorBody(BaseModel):
    """Every 4xx answer of every service: what went wrong, and each problem naming its field."""

    error: str = Field(description="One line: invalid request, not found, not allowed now, ...")
    problems: list[Problem]

    model_config = ConfigDict(
        title="Problems",
        json_schema_extra={
            "examples": [
                {
                    "error": "invalid request",
                    "problems": [
                        {
                            "field": "shipping_address.state",
                            "problem": "pincode 700016 is in West Bengal, not Rajasthan",
                        },
                        {"field": "customer.phone", "problem": "'12345' is not a valid Indian mobile number"},
                    ],
                }
            ]
        },
    )


_DESCRIPTIONS = {
    400: "The request cannot be read",
    413: "The body is larger than this service accepts",
    401: "No API key, or one this service does not know",
    403: "The key's role may not do this",
    404: "No such thing",
    409: "The current state does not allow this now",
    422: "Input refused; every problem names its field",
    502: "The provider refused or failed",
    503: "Try again",
}


def errors(*statuses: int, descriptions: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the one error body.

    `errors(404, 409)`; a status may say more: `errors(404, descriptions={404: "No such order"})`."""
    said = descriptions or {}
    return {
        status: {
            "model": ErrorBody,
            "description": said.get(status, _DESCRIPTIONS.get(status, error_of(status))),
        }
        for status in statuses
    }


_BODY_METHODS = {"POST", "PUT", "PATCH"}


def error_statuses(route: APIRoute, method: str) -> set[int]:
    """The 4xx answers every route of this kind may give, whatever it says itself: 422 (text with
    control characters in its path or query), 413 with a body (BodyLimit), 401 and 403 behind an
    API key, 401 on a signed webhook."""
    statuses = {422}
    if method in _BODY_METHODS:
        statuses.add(413)
    auth = route_auth(route.dependant)
    if auth is not None:
        statuses |= {401, 403} if auth[0] == "roles" else {401}
    return statuses


def _one_error_schema(spec: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """Every 4xx of every operation documented with the one error body, the component `Problems`.

    FastAPI documents request-validation 422s with its own schema and knows nothing of the answers
    the chassis gives on every route (error_statuses); a route's own `errors(...)` keep their words."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in body.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["Problems"] = body
    one = {"application/json": {"schema": {"$ref": "#/components/schemas/Problems"}}}
    for route in api_routes(routes):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            op = spec["paths"].get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            answers = op.setdefault("responses", {})
            for status in error_statuses(route, method):
                answers.setdefault(str(status), {"description": _DESCRIPTIONS.get(status, error_of(status))})
            for status, answer in answers.items():
                if status.startswith("4"):
                    answer["content"] = dict(one)
                    if status == "422":
                        answer["description"] = _DESCRIPTIONS[422]
    for name in ("ErrorBody", "HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return spec


def field_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    """Every problem of a request as {field, problem}, the field as a dotted path."""
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            position = err.get("loc", ("body", "?"))[-1]
            reason = (err.get("ctx") or {}).get("error", "")
            problems.append({"field": "body", "problem": f"malformed JSON at character {position}: {reason}"})
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        problems.append({"field": ".".join(loc) or "body", "problem": str(err.get("msg", ""))})
    return problems


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_control_characters(request: Request) -> None:
    """Every route's first dependency: text with NUL or control characters answers 422 naming the field.

    Paths and queries always; bodies too, except a signed webhook's, which its route verifies before
    reading (a forged body learns nothing) and checks with chassis.text.json_problems afterwards."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    problems = [(name, p) for name, value in params if (p := text.text_problem(str(value))) is not None]
    route = request.scope.get("route")
    signed = route is not None and (route_auth(route.dependant) or ("",))[0] == "signature"
    content_type = request.headers.get("content-type", "")
    if not signed and content_type.startswith(_FORMS):
        # Keep the raw body for a route that reads it itself; a form route's stream is already spent
        # (FastAPI parses the form before dependencies) and its form is cached. Each field is checked
        # by the same rule.
        with contextlib.suppress(RuntimeError):
            await request.body()
        form = await request.form()
        problems += [
            (name, p)
            for name, value in form.multi_items()
            if isinstance(value, str) and (p := text.text_problem(value)) is not None
        ]
    elif not signed:
        problems += text.body_problems(await request.body(), content_type)
    if problems:
        raise Refusal.of(problems)


def create_http_app(
    *,
    title: str,
    version: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    readiness: ReadinessCheck,
    api_keys: dict[str, Principal],
    max_body_bytes: int = MIB,
    max_upload_bytes: int = 16 * MIB,
) -> FastAPI:
    """A FastAPI app with health, readiness and Prometheus metrics already mounted, and every request
    body bounded (BodyLimit: `max_body_bytes`, or `max_upload_bytes` on routes marked `upload`).

    Routes added later declare who may call them (chassis.auth); these three are open."""
    app = DabbaApp(
        title=title, version=version, lifespan=lifespan, dependencies=[Depends(refuse_control_characters)]
    )
    app.state.api_keys = api_keys
    app.add_middleware(
        BodyLimit,
        max_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes,
        routes=lambda: app.routes,
    )
    app.add_middleware(NamesWrittenEvents)

    @app.exception_handler(Refusal)
    async def _refused(_request: Request, exc: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": f'ApiKey header="{HEADER}"'} if exc.status == 401 else None
        return JSONResponse(status_code=exc.status, content=exc.body(), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = field_problems(exc)
        check = getattr(request.scope.get("endpoint"), "__dabba_also_check__", None)
        if check is not None and isinstance(exc.body, dict):
            named = {p["field"] for p in problems}
            problems += [{"field": f, "problem": p} for f, p in check(exc.body) if f not in named]
        return JSONResponse(status_code=422, content={"error": error_of(422), "problems": problems})

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        # Starlette's own answers (no route, wrong method) get the same body as every refusal.
        if exc.status_code < 400:
            return Response(status_code=exc.status_code, headers=exc.headers)
        problem = (
            f"no route {request.method} {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        )
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": error_of(exc.status_code), "problems": [{"field": "path", "problem": problem}]},
            headers=exc.headers,
        )

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: database, Kafka and the relay are up",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready: the checks say which part is down"}},
    )
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ok = all(checks.values())
        return JSONResponse(
            status_code=200 if ok else 503,
            content={"status": "ready" if ok else "not ready", "checks": checks},
        )

    @app.get(
        "/api-keys",
        tags=["ops"],
        summary="Who may call this service: each API key's name, role and fingerprint (admin), never the key",
        response_model=ApiKeys,
    )
    async def api_keys_in_use(_: Principal = require()) -> ApiKeys:
        return ApiKeys(
            keys=[
                ApiKey(name=p.name, role=p.role.value, fingerprint=digest[:8])
                for digest, p in sorted(app.state.api_keys.items(), key=lambda item: (item[1].name, item[0]))
            ]
        )

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: text_answer(CONTENT_TYPE_LATEST.split(";")[0], "Prometheus' text format")},
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = text.document(_one_error_schema(FastAPI.openapi(app), app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
