"""The command line's HTTP client for a Yilu service (``yilu registry … --url``).

docs/architecture.md, "Service layer". Every answer that is not a success becomes one of
Yilu's errors with one line saying what to do: a problem document's ``detail`` (and its
field errors) for a 4xx, :class:`RemoteUnavailableError` for a service that cannot be
reached or fails (5xx). The token comes from ``--token`` or ``YILU_TOKEN`` and is sent as
a bearer token; it is never printed.
"""

from __future__ import annotations

import os
from typing import Any, Final

import httpx

from protocol.errors import InputError, MalformedInputError, RemoteUnavailableError
from protocol.reasons import safe_text

TOKEN_ENV: Final = "YILU_TOKEN"  # noqa: S105 -- the variable's name, not a secret
DEFAULT_TIMEOUT: Final = 30.0
#: Answers larger than this are refused (a bundle is far smaller; docs/performance.md).
MAX_ANSWER_BYTES: Final = 256 * 1024 * 1024


class ServiceError(InputError):
    """The service refused the request (a 4xx problem); ``status`` and the problem kept."""

    def __init__(self, message: str, *, status: int, problem: dict[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


def _one_line(status: int, body: dict[str, Any]) -> str:
    detail = str(body.get("detail") or body.get("title") or f"HTTP {status}")
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        parts = []
        for e in errors[:5]:
            if isinstance(e, dict):
                loc = ".".join(str(p) for p in e.get("loc", []) if p != "body")
                parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        detail = "; ".join(parts) or detail
    if status == 401:
        detail += f" (give --token or set {TOKEN_ENV})"
    return safe_text(detail, limit=600)


class ServiceClient:
    """Calls one service at ``base_url`` with an optional bearer token."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise MalformedInputError(f"service URL {base_url[:80]!r} must start with http:// or https://")
        token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The successful response, or a one-line Yilu error."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise RemoteUnavailableError(
                f"{self.base_url} did not answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise RemoteUnavailableError(
                    f"{self.base_url} presented a TLS certificate this machine does not trust: "
                    "check its certificate, or name its CA in SSL_CERT_FILE"
                ) from exc
            raise RemoteUnavailableError(
                f"cannot reach {self.base_url} ({type(exc).__name__}): is the service running there?"
            ) from exc
        if len(response.content) > MAX_ANSWER_BYTES:
            raise RemoteUnavailableError(f"{self.base_url} answered more than {MAX_ANSWER_BYTES} bytes")
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500:
            rid = body.get("requestId") or response.headers.get("x-request-id", "?")
            raise RemoteUnavailableError(
                f"{self.base_url} failed ({response.status_code}); "
                f"its operator can find request id {rid} in the logs"
            )
        raise ServiceError(_one_line(response.status_code, body), status=response.status_code, problem=body)

    def get_json(self, path: str, **params: Any) -> Any:
        return _json(self.request("GET", path, params=params or None))

    def post_json(self, path: str, body: Any = None) -> Any:
        return _json(self.request("POST", path, json=body))

    def put_json(self, path: str, body: Any = None) -> Any:
        return _json(self.request("PUT", path, json=body))


def _json(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise RemoteUnavailableError(f"{response.request.url} did not answer JSON") from exc
