"""The application factory every Yilu service is built with.

docs/architecture.md, "Service layer"; DESIGN.md, "Runtime" and "Command line contract".
:func:`create_service_app` returns a FastAPI app with problem details for every error,
a request body limit, request ids, JSON access logs, ``GET /health``, ``GET /ready`` and
an OpenAPI document that describes them. Each role adds its routes as routers.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.jobs import Clock, Job, JobState, Scheduler
from service.logs import LOGGER_NAME, request_id_var
from service.problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPES,
    Problem,
    body_too_large,
    install_problem_handlers,
    internal_error,
    problem,
)
from service.settings import ServiceSettings

#: A readiness check: returns True when its part of the service is usable. Returning
#: False, raising, or taking longer than :data:`CHECK_TIMEOUT_SECONDS` fails it.
ReadinessCheck = Callable[[], bool]

CHECK_TIMEOUT_SECONDS = 5.0
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept if it is short and harmless in a log line or a header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger(LOGGER_NAME)
access_log = logging.getLogger(LOGGER_NAME + ".access")


class Health(BaseModel):
    """Liveness: the process answers; and what its jobs did last and will do next."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "role": "registry",
                    "version": "0.1.0",
                    "jobs": {"republish": JobState.model_json_schema()["examples"][0]},
                }
            ]
        }
    )

    status: str
    role: str
    version: str
    jobs: dict[str, JobState] = {}


class Ready(BaseModel):
    """Readiness: every check passed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ready", "checks": {"database": "ok"}}]}
    )

    status: str
    checks: dict[str, str]


def _problem_content(example: dict[str, Any]) -> dict[str, Any]:
    return {
        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}
    }


def _problem_example(status: int, title: str, detail: str, **more: Any) -> dict[str, Any]:
    return {
        "type": more.pop("type", "about:blank"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": more.pop("instance", "/example"),
        "requestId": "6f1c2a9e0b7d4e5f8a3b2c1d0e9f8a7b",
        **more,
    }


_VALIDATION_EXAMPLE = _problem_example(
    422,
    "Invalid request",
    "The request is invalid: body.count.",
    type=PROBLEM_TYPES["validation"],
    errors=[{"loc": ["body", "count"], "msg": "Input should be a valid integer", "type": "int_parsing"}],
)
_ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "413": {
        "description": "Request body too large (problem details)",
        "content": _problem_content(
            _problem_example(413, "Content Too Large", "The request body exceeds the limit of 1048576 bytes.")
        ),
    },
    "422": {
        "description": "Invalid request (problem details, one entry per field in `errors`)",
        "content": _problem_content(_VALIDATION_EXAMPLE),
    },
    "500": {
        "description": "Internal error (problem details; logged with the request id)",
        "content": _problem_content(
            _problem_example(
                500, "Internal Server Error", "The error was logged; quote the request id when reporting it."
            )
        ),
    },
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ServiceMiddleware:
    """Request id, body limit, access log and the catch-all 500, as one ASGI middleware.

    It wraps the whole application inside Starlette's outermost error middleware, so
    it sees every response (its status goes into the access log line) and every
    unhandled exception (answered as a 500 problem with the request id in the header).
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        limit = self.max_body_bytes
        path: str = scope.get("path", "")
        state = {"status": 0, "started": False, "too_large": False, "received": 0}

        async def send_out(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        async def send_from_app(message: Message) -> None:
            # After the body limit tripped, the app answers an exception it did not cause;
            # that answer is dropped and the 413 sent instead.
            if state["too_large"] and not state["started"]:
                return
            await send_out(message)

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["too_large"] = True
                    raise _BodyTooLarge
            return message

        try:
            if _declared_length(headers) > limit:
                state["too_large"] = True
            else:
                await self.app(scope, counted_receive, send_from_app)
        except Exception as exc:
            if not state["too_large"]:
                log.error("unhandled error in %s %s", scope.get("method"), path, exc_info=exc)
                if state["started"]:
                    raise
                await internal_error(path)(scope, receive, send_out)
        finally:
            try:
                if state["too_large"] and not state["started"]:
                    await body_too_large(limit, path)(scope, receive, send_out)
            finally:
                access_log.info(
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    state["status"],
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": state["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )
                request_id_var.reset(token)


class _BodyTooLarge(Exception):
    """Raised into the app when its request body passes the limit."""


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "-1"))
    except ValueError:
        return -1


def _openapi_with_problems(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app.openapi``: every operation documents its errors as problem details."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem_schema.pop("$defs", {}))
        schemas["Problem"] = problem_schema
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses or "requestBody" in operation:
                    responses["422"] = _ERROR_RESPONSES["422"]
                if "requestBody" in operation:
                    responses.setdefault("413", _ERROR_RESPONSES["413"])
                responses.setdefault("500", _ERROR_RESPONSES["500"])
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi


def create_service_app(
    settings: ServiceSettings,
    *,
    role: str,
    version: str,
    checks: Mapping[str, ReadinessCheck] | None = None,
    routers: Sequence[APIRouter] = (),
    jobs: Sequence[Job] = (),
    clock: Clock = _utcnow,
    on_shutdown: Sequence[Callable[[], None]] = (),
    description: str = "",
) -> FastAPI:
    """A FastAPI app for ``role`` with the shared service behaviour (docs/architecture.md,
    "Service layer"): problem details, body limit, request ids, JSON access logs,
    ``GET /health``, ``GET /ready`` (running ``checks``) and ``/openapi.json``.

    ``routers`` are the role's own routes; ``jobs`` run on start and then on their
    schedule while the app serves (service/jobs.py), ``clock`` telling them the time;
    ``on_shutdown`` callbacks run when it stops (e.g. disposing of the engine). Nothing
    is global: each call builds a new app.
    """
    ready_checks = dict(checks or {})
    scheduler = Scheduler(tuple(jobs), clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            for callback in on_shutdown:
                callback()

    app = FastAPI(
        title=f"Yilu {role}",
        version=version,
        description=(description + "\n\n" if description else "")
        + f"The Yilu {role} service. Every error is an RFC 9457 problem document "
        f"(`{PROBLEM_MEDIA_TYPE}`); every response carries `{REQUEST_ID_HEADER}`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.role = role
    app.state.scheduler = scheduler
    install_problem_handlers(app)
    app.add_middleware(ServiceMiddleware, max_body_bytes=settings.max_body_bytes)

    @app.get("/health", response_model=Health, tags=["operations"], summary="Liveness")
    def health() -> Health:
        """The process is up and answering; says which role and version it runs."""
        return Health(status="ok", role=role, version=version, jobs=dict(scheduler.states))

    @app.get(
        "/ready",
        response_model=Ready,
        tags=["operations"],
        summary="Readiness",
        responses={
            503: {
                "description": "Not ready: the failing checks are named (problem details)",
                "content": _problem_content(
                    _problem_example(
                        503,
                        "Not ready",
                        "Failing checks: database.",
                        type=PROBLEM_TYPES["not-ready"],
                        instance="/ready",
                        checks={"database": "failing"},
                    )
                ),
            }
        },
    )
    async def ready() -> Any:
        """Every readiness check passes; otherwise 503 naming the failing checks."""
        results = {name: await _run_check(name, check) for name, check in ready_checks.items()}
        failing = [name for name, result in results.items() if result != "ok"]
        if failing:
            return problem(
                503,
                "Failing checks: " + ", ".join(failing) + ".",
                type=PROBLEM_TYPES["not-ready"],
                title="Not ready",
                instance="/ready",
                checks=results,
            )
        return Ready(status="ready", checks=results)

    for router in routers:
        app.include_router(router)
    app.openapi = _openapi_with_problems(app)  # type: ignore[method-assign]
    return app


async def _run_check(name: str, check: ReadinessCheck) -> str:
    """``"ok"`` or ``"failing"``; why it failed is logged, never answered."""
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            passed = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        log.warning("readiness check %s timed out after %ss", name, CHECK_TIMEOUT_SECONDS)
        return "failing"
    except Exception as exc:
        log.warning("readiness check %s raised", name, exc_info=exc)
        return "failing"
    return "ok" if passed else "failing"
