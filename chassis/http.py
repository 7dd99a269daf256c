"""The HTTP face every service shares: /healthz, /readyz, /metrics, and clear 4xx errors.

Validation errors answer 422 with every field problem, each naming the field; so does text with NUL
or control characters anywhere in a request (chassis.text), before any route sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chassis import text
from chassis.auth import HEADER, Principal, Unauthorized, route_auth

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


def follow(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to another operation of this API, its parameters taken from this exchange
    (e.g. ``order_id="$response.body#/order_id"``), so clients and fuzzers can act on what was made."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def created(description: str, **links: dict[str, Any]) -> dict[str, Any]:
    """A success response that names its links (``follow``)."""
    return {"description": description, "links": links}


class Refused(Exception):
    """A request refused for named reasons; answered like a validation error, every field named."""

    def __init__(self, *problems: tuple[str, str], status: int = 422, error: str = "invalid request"):
        super().__init__(error)
        self.status = status
        self.error = error
        self.problems = [{"field": field, "problem": problem} for field, problem in problems]


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


async def refuse_control_characters(request: Request) -> None:
    """Every route's first dependency: text with NUL or control characters answers 422 naming the field.

    Paths and queries always; bodies too, except a signed webhook's, which its route verifies before
    reading (a forged body learns nothing) and checks with chassis.text.json_problems afterwards."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    problems = [(name, p) for name, value in params if (p := text.text_problem(str(value))) is not None]
    route = request.scope.get("route")
    signed = route is not None and (route_auth(route.dependant) or ("",))[0] == "signature"
    if not signed:
        problems += text.body_problems(await request.body(), request.headers.get("content-type", ""))
    if problems:
        raise Refused(*problems)


def create_http_app(
    *,
    title: str,
    version: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    readiness: ReadinessCheck,
    api_keys: dict[str, Principal],
) -> FastAPI:
    """A FastAPI app with health, readiness and Prometheus metrics already mounted.

    Routes added later declare who may call them (chassis.auth); these three are open."""
    app = FastAPI(
        title=title, version=version, lifespan=lifespan, dependencies=[Depends(refuse_control_characters)]
    )
    app.state.api_keys = api_keys
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = text.document(generate_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_request: Request, exc: Unauthorized) -> JSONResponse:
        headers = {"WWW-Authenticate": f'ApiKey header="{HEADER}"'} if exc.status == 401 else None
        return JSONResponse(
            status_code=exc.status,
            content={"error": exc.error, "problems": [{"field": HEADER, "problem": exc.problem}]},
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = field_problems(exc)
        check = getattr(request.scope.get("endpoint"), "__dabba_also_check__", None)
        if check is not None and isinstance(exc.body, dict):
            named = {p["field"] for p in problems}
            problems += [{"field": f, "problem": p} for f, p in check(exc.body) if f not in named]
        return JSONResponse(status_code=422, content={"error": "invalid request", "problems": problems})

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"error": exc.error, "problems": exc.problems})

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Readiness: database, Kafka and the relay are up")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ok = all(checks.values())
        return JSONResponse(
            status_code=200 if ok else 503,
            content={"status": "ready" if ok else "not ready", "checks": checks},
        )

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
