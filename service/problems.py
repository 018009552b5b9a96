"""RFC 9457 problem details: the one error format of every Yilu service.

docs/architecture.md, "Service layer" (error format); DESIGN.md, "Command line contract"
("answers errors as ``application/problem+json``"). Every error a service answers is a
problem document with ``type``, ``title``, ``status``, ``detail``, ``instance`` (the
request path) and ``requestId``; validation problems add ``errors``, one per field. Plain
HTTP errors (404, 405, 413, 500, ...) have ``type`` ``about:blank`` and the status phrase
as ``title`` (RFC 9457, section 4.2.1); Yilu's own problems have a ``urn:yilu:problem:``
type (:data:`PROBLEM_TYPES`).

How Yilu's exceptions (``protocol.errors``) map:

* ``InputError`` -> 400 with its message (``InputTooLargeError`` -> 413);
  ``SecretError`` is the operator's key passphrase, not the caller's input -> 500;
* ``RollbackError`` -> 409: the trust data conflicts with what the service already holds;
* other ``TrustDataError`` and ``VerificationError`` -> 422: the request was well formed,
  but the signed data in it is unusable;
* ``RemoteUnavailableError`` -> 502;
* anything else -> 500, logged with its traceback and the request id, answered with
  neither traceback nor exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from protocol.errors import (
    InputError,
    InputTooLargeError,
    RemoteUnavailableError,
    RollbackError,
    SecretError,
    TrustDataError,
    VerificationError,
    YiluError,
)
from protocol.reasons import safe_text
from service.logs import LOGGER_NAME, request_id_var

PROBLEM_MEDIA_TYPE = "application/problem+json"
ABOUT_BLANK = "about:blank"

#: Yilu's problem types; anything else is ``about:blank``.
PROBLEM_TYPES: dict[str, str] = {
    "validation": "urn:yilu:problem:validation",
    "input": "urn:yilu:problem:input",
    "trust-data": "urn:yilu:problem:trust-data",
    "verification": "urn:yilu:problem:verification",
    "not-ready": "urn:yilu:problem:not-ready",
}

log = logging.getLogger(LOGGER_NAME)


class FieldError(BaseModel):
    """One invalid field of a request: where (``loc``), what is wrong, and pydantic's error type."""

    loc: list[str | int] = Field(examples=[["body", "count"]])
    msg: str = Field(examples=["Input should be a valid integer"])
    type: str = Field(examples=["int_parsing"])


class Problem(BaseModel):
    """An RFC 9457 problem details document (``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "No resource at /labs/42.",
                    "instance": "/labs/42",
                    "requestId": "6f1c2a9e0b7d4e5f8a3b2c1d0e9f8a7b",
                }
            ]
        },
    )

    type: str = Field(default=ABOUT_BLANK, description="URI reference naming the problem type")
    title: str = Field(description="Short summary of the problem type")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(default=None, description="What went wrong this time")
    instance: str | None = Field(default=None, description="The request path")
    requestId: str | None = Field(default=None, description="The request id (X-Request-ID)")
    errors: list[FieldError] | None = Field(default=None, description="Each invalid field (validation)")


class ProblemResponse(JSONResponse):
    """A JSON response with the ``application/problem+json`` media type."""

    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    detail: str | None = None,
    *,
    type: str = ABOUT_BLANK,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """A problem details response; ``title`` defaults to the HTTP status phrase.

    ``requestId`` is the current request's id unless given; ``extensions`` become
    further members (RFC 9457, section 3.2), e.g. ``errors=[...]``.
    """
    body: dict[str, Any] = {
        "type": type,
        "title": title if title is not None else _phrase(status),
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    extensions.setdefault("requestId", request_id_var.get())
    body.update({k: v for k, v in extensions.items() if v is not None})
    return ProblemResponse(body, status_code=status, headers=headers)


def internal_error(instance: str | None = None) -> ProblemResponse:
    """The 500 answer: says only that the error is logged under the request id."""
    return problem(
        500,
        "The error was logged; quote the request id when reporting it.",
        instance=instance,
    )


def body_too_large(limit: int, instance: str | None = None) -> ProblemResponse:
    """The 413 answer for a request body over ``limit`` bytes."""
    return problem(413, f"The request body exceeds the limit of {limit} bytes.", instance=instance)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # registered for it; narrows the type
        raise exc
    path = request.url.path
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 404 and exc.detail == _phrase(404):
        detail: str | None = f"No resource at {safe_text(path)}."
    elif exc.status_code == 405 and exc.detail == _phrase(405):
        allowed = headers.get("Allow", "") if headers else ""
        detail = f"{request.method} is not allowed here; allowed: {allowed}."
    else:
        own = isinstance(exc.detail, str) and exc.detail != _phrase(exc.status_code)
        detail = exc.detail if own else None
    return problem(exc.status_code, detail, instance=path, headers=headers)


def _message(error: Mapping[str, Any]) -> str:
    """A field error's message; a validator's own words without pydantic's "Value error, "."""
    msg = str(error.get("msg", ""))
    return msg.removeprefix("Value error, ") if error.get("type") == "value_error" else msg


async def _validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # registered for it; narrows the type
        raise exc
    errors = [
        {"loc": list(e.get("loc", ())), "msg": _message(e), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return problem(
        422,
        f"The request is invalid: {where}." if where else "The request is invalid.",
        type=PROBLEM_TYPES["validation"],
        title="Invalid request",
        instance=request.url.path,
        errors=errors,
    )


def _status_of(exc: YiluError) -> tuple[int, str, str] | None:
    """(status, type, title) for a Yilu error the caller can act on, or ``None`` for a 500."""
    if isinstance(exc, SecretError):
        return None
    if isinstance(exc, InputTooLargeError):
        return 413, ABOUT_BLANK, _phrase(413)
    if isinstance(exc, InputError):
        return 400, PROBLEM_TYPES["input"], "Unusable input"
    if isinstance(exc, RollbackError):
        return 409, PROBLEM_TYPES["trust-data"], "Trust data rolled back"
    if isinstance(exc, TrustDataError):
        return 422, PROBLEM_TYPES["trust-data"], "Unusable trust data"
    if isinstance(exc, VerificationError):
        return 422, PROBLEM_TYPES["verification"], "Verification failed"
    if isinstance(exc, RemoteUnavailableError):
        return 502, ABOUT_BLANK, _phrase(502)
    return None


async def _yilu_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, YiluError):  # registered for it; narrows the type
        raise exc
    mapped = _status_of(exc)
    if mapped is None:
        log.error("error in %s %s", request.method, request.url.path, exc_info=exc)
        return internal_error(request.url.path)
    status, kind, title = mapped
    extra: dict[str, Any] = {}
    code = getattr(exc, "code", None)
    if code is not None:
        extra["code"] = str(code)
    return problem(status, safe_text(exc, 500), type=kind, title=title, instance=request.url.path, **extra)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer HTTP errors, validation errors and Yilu's errors as problem documents.

    Unexpected exceptions become a 500 in the service middleware (service.app), which
    sits outside these handlers so that it also sees errors raised in them.
    """
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(YiluError, _yilu_error)
