"""The shared service layer over HTTP: a real uvicorn server on loopback (docs/architecture.md,
"Service layer")."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, field_validator

from protocol.errors import InputError, RollbackError, SecretError, TrustDataError
from servekit import LogCapture, Served
from service import ServiceSettings, create_service_app

LIMIT = 1000
PROBLEM = "application/problem+json"


class Order(BaseModel):
    name: str
    count: int

    @field_validator("name")
    @classmethod
    def _no_bang(cls, value: str) -> str:
        if value.startswith("!"):
            raise ValueError("a name may not start with '!'")
        return value


def routes(seen: list[int]) -> APIRouter:
    router = APIRouter()

    @router.post("/echo")
    def echo(order: Order) -> Order:
        seen.append(order.count)
        return order

    @router.post("/input-error")
    def input_error() -> None:
        raise InputError("country 'china' is not an ISO 3166-1 alpha-2 code; use CN")

    @router.post("/rollback")
    def rollback() -> None:
        raise RollbackError("sequence 3 is older than the installed 5")

    @router.post("/trust-data")
    def trust_data() -> None:
        raise TrustDataError("the list is not signed by a registry key")

    @router.post("/secret")
    def secret() -> None:
        raise SecretError("wrong passphrase for /keys/hunter2.pem")

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret-sauce at 0xdeadbeef")

    return router


@pytest.fixture
def seen() -> list[int]:
    return []


@pytest.fixture
def app(seen: list[int]) -> FastAPI:
    settings = ServiceSettings(max_body_bytes=LIMIT)
    return create_service_app(settings, role="registry", version="9.9.9", routers=[routes(seen)])


@pytest.fixture
def server(serve: Callable[[FastAPI], Served], app: FastAPI) -> Served:
    return serve(app)


def assert_problem(response: object, status: int) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["type"], str)
    assert body["requestId"] == response.headers["x-request-id"]
    return dict(body)


def test_health_says_role_and_version(server: Served) -> None:
    response = server.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "role": "registry", "version": "9.9.9", "jobs": {}}


def test_unknown_route_is_a_404_problem(server: Served) -> None:
    body = assert_problem(server.client.get("/labs/42"), 404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["instance"] == "/labs/42"


def test_wrong_method_is_a_405_problem_that_keeps_allow(server: Served) -> None:
    response = server.client.delete("/health")
    body = assert_problem(response, 405)
    assert response.headers["allow"] == "GET"
    assert "GET" in str(body["detail"])


def test_invalid_body_is_a_422_problem_naming_each_field(server: Served, seen: list[int]) -> None:
    response = server.client.post("/echo", json={"count": "many"})
    body = assert_problem(response, 422)
    assert body["type"] == "urn:yilu:problem:validation"
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {tuple(e["loc"]): e["type"] for e in errors} == {
        ("body", "name"): "missing",
        ("body", "count"): "int_parsing",
    }
    assert "many" not in response.text, "the problem does not echo input values"
    assert seen == []


def test_a_validator_message_reads_without_pydantic_prefix(server: Served) -> None:
    # A validator's own message ("did you mean CN?") is what the caller reads, without
    # pydantic's "Value error, " in front of it.
    body = assert_problem(server.client.post("/echo", json={"name": "!x", "count": 1}), 422)
    assert body["errors"] == [
        {"loc": ["body", "name"], "msg": "a name may not start with '!'", "type": "value_error"}
    ]


def test_valid_body_reaches_the_route(server: Served, seen: list[int]) -> None:
    response = server.client.post("/echo", json={"name": "x" * (LIMIT - 40), "count": 3})
    assert response.status_code == 200
    assert seen == [3]


def test_body_over_the_limit_by_content_length_is_413(server: Served, seen: list[int]) -> None:
    response = server.client.post("/echo", json={"name": "x" * LIMIT, "count": 1})
    assert int(response.request.headers["content-length"]) > LIMIT
    body = assert_problem(response, 413)
    assert str(LIMIT) in str(body["detail"])
    assert seen == []


def test_streamed_body_over_the_limit_is_413(server: Served, seen: list[int], logs: LogCapture) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"count": 1, "name": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    response = server.client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413)
    assert seen == []
    line = logs.wait_for(lambda r: r.get("path") == "/echo")
    assert line["status"] == 413


def test_streamed_body_under_the_limit_passes(server: Served, seen: list[int]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"count": 2, '
        yield b'"name": "small"}'

    response = server.client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert seen == [2]


def test_input_error_is_a_400_problem_with_its_message(server: Served) -> None:
    body = assert_problem(server.client.post("/input-error"), 400)
    assert body["type"] == "urn:yilu:problem:input"
    assert body["detail"] == "country 'china' is not an ISO 3166-1 alpha-2 code; use CN"


def test_trust_data_errors_are_422_and_a_rollback_409(server: Served) -> None:
    body = assert_problem(server.client.post("/trust-data"), 422)
    assert body["type"] == "urn:yilu:problem:trust-data"
    assert body["detail"] == "the list is not signed by a registry key"
    body = assert_problem(server.client.post("/rollback"), 409)
    assert body["detail"] == "sequence 3 is older than the installed 5"


def test_secret_error_is_the_operators_a_500_without_its_text(server: Served, logs: LogCapture) -> None:
    response = server.client.post("/secret")
    assert_problem(response, 500)
    assert "hunter2" not in response.text and "passphrase" not in response.text
    logs.wait_for(lambda r: r["level"] == "ERROR" and "hunter2" in r.get("exception", ""))


def test_unexpected_error_is_a_500_without_traceback_logged_with_the_request_id(
    server: Served, logs: LogCapture
) -> None:
    response = server.client.get("/boom", headers={"X-Request-ID": "req-500.a:b"})
    body = assert_problem(response, 500)
    assert body["requestId"] == "req-500.a:b"
    for leak in ("secret-sauce", "deadbeef", "Traceback", "RuntimeError", "test_app.py"):
        assert leak not in response.text
    error = logs.wait_for(lambda r: r["level"] == "ERROR")
    assert error["request_id"] == "req-500.a:b"
    assert "Traceback" in error["exception"] and "secret-sauce at 0xdeadbeef" in error["exception"]
    access = logs.wait_for(lambda r: r.get("path") == "/boom")
    assert access["status"] == 500 and access["request_id"] == "req-500.a:b"


def test_request_id_is_echoed(server: Served) -> None:
    response = server.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


@pytest.mark.parametrize(
    "sent", [None, "", "has space", "x" * 129, "new\u2028line".encode(), b"caf\xe9", "<script>"]
)
def test_request_id_is_made_when_missing_or_not_sane(server: Served, sent: str | bytes | None) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    first = server.client.get("/health", headers=headers).headers["x-request-id"]
    second = server.client.get("/health", headers=headers).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_access_log_is_one_json_line_per_request(server: Served, logs: LogCapture) -> None:
    server.client.get("/health", headers={"X-Request-ID": "log-1"})
    server.client.get("/nowhere", headers={"X-Request-ID": "log-2"})
    first = logs.wait_for(lambda r: r["request_id"] == "log-1")
    second = logs.wait_for(lambda r: r["request_id"] == "log-2")
    assert first["method"] == "GET" and first["path"] == "/health" and first["status"] == 200
    assert second["path"] == "/nowhere" and second["status"] == 404
    for line in (first, second):
        assert {"time", "level", "request_id", "method", "path", "status", "duration_ms"} <= set(line)
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["level"] == "INFO"
    assert len(logs.lines()) == 2
    assert all(line.startswith("{") for line in logs.lines())


def test_ready_without_checks_and_with_passing_checks(serve: Callable[[FastAPI], Served]) -> None:
    app = create_service_app(
        ServiceSettings(), role="root", version="1", checks={"database": lambda: True, "keys": lambda: True}
    )
    response = serve(app).client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}


def test_ready_names_the_failing_checks(serve: Callable[[FastAPI], Served], logs: LogCapture) -> None:
    def raises() -> bool:
        raise OSError("disk /srv/secret-path gone")

    checks = {"database": lambda: True, "keys": lambda: False, "disk": raises}
    app = create_service_app(ServiceSettings(), role="root", version="1", checks=checks)
    response = serve(app).client.get("/ready")
    body = assert_problem(response, 503)
    assert body["type"] == "urn:yilu:problem:not-ready"
    assert body["checks"] == {"database": "ok", "keys": "failing", "disk": "failing"}
    assert body["detail"] == "Failing checks: keys, disk."
    assert "secret-path" not in response.text
    logs.wait_for(lambda r: "secret-path" in r.get("exception", ""))


def test_openapi_describes_operations_and_problems(server: Served) -> None:
    response = server.client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert {"/health", "/ready", "/echo"} <= set(doc["paths"])
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    health = doc["paths"]["/health"]["get"]["responses"]
    assert health["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}
    assert doc["components"]["schemas"]["Health"]["examples"][0]["status"] == "ok"
    not_ready = doc["paths"]["/ready"]["get"]["responses"]["503"]["content"]
    assert not_ready[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert not_ready[PROBLEM]["example"]["status"] == 503
    echo = doc["paths"]["/echo"]["post"]["responses"]
    for status in ("413", "422", "500"):
        assert list(echo[status]["content"]) == [PROBLEM]
        assert echo[status]["content"][PROBLEM]["example"]["status"] == int(status)
    assert echo["422"]["content"][PROBLEM]["example"]["errors"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_each_app_is_its_own(seen: list[int]) -> None:
    one = create_service_app(ServiceSettings(), role="issuer", version="1")
    two = create_service_app(ServiceSettings(), role="verifier", version="2", routers=[routes(seen)])
    assert one is not two
    assert "/echo" not in one.openapi()["paths"] and "/echo" in two.openapi()["paths"]


def test_declared_length_over_the_limit_is_413_before_the_body_is_read(server: Served) -> None:
    """A client announcing a huge body gets its 413 at once, without sending the body."""
    host, port = server.url.removeprefix("http://").split(":")
    head = (
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000000\r\nX-Request-ID: declared-1\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert b"application/problem+json" in rest.lower()
