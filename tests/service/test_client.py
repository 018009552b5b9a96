"""The command line's client against a real service on loopback: every failure is one
line saying what to do (docs/architecture.md, "Service layer")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from protocol.errors import InputError, MalformedInputError, RemoteUnavailableError
from servekit import Served
from service import ServiceSettings, create_service_app
from service.client import ServiceClient, ServiceError
from service.serve import check_tls


class Lab(BaseModel):
    id: str
    count: int


def app(tmp_path: Path) -> Any:
    router = APIRouter()

    @router.post("/labs")
    def create(lab: Lab) -> Lab:
        if lab.id == "taken":
            raise InputError("lab 'taken' is already in registry https://cnas.example.cn")
        return lab

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail")

    return create_service_app(
        ServiceSettings(data_dir=tmp_path), role="registry", version="1", routers=[router]
    )


@pytest.fixture
def server(tmp_path: Path, serve: Callable[[Any], Served]) -> Served:
    return serve(app(tmp_path))


def test_success_returns_the_json(server: Served) -> None:
    with ServiceClient(server.url, token="yl_x") as client:
        assert client.post_json("/labs", {"id": "a", "count": 1}) == {"id": "a", "count": 1}
        assert client.get_json("/health")["role"] == "registry"


def test_problems_become_one_line_errors(server: Served) -> None:
    with ServiceClient(server.url) as client:
        with pytest.raises(ServiceError, match="already in registry") as caught:
            client.post_json("/labs", {"id": "taken", "count": 1})
        assert caught.value.status == 400
        with pytest.raises(ServiceError, match=r"^count: Input should be a valid integer") as caught:
            client.post_json("/labs", {"id": "a", "count": "many"})
        assert "\n" not in str(caught.value)
        with pytest.raises(ServiceError, match="No resource at /nowhere"):
            client.get_json("/nowhere")
        with pytest.raises(RemoteUnavailableError, match="request id") as failed:
            client.get_json("/boom")
        assert "secret detail" not in str(failed.value)


def test_unreachable_service_says_so() -> None:
    with (
        ServiceClient("http://127.0.0.1:9", timeout=2) as client,
        pytest.raises(RemoteUnavailableError, match=r"cannot reach http://127\.0\.0\.1:9"),
    ):
        client.get_json("/health")
    with pytest.raises(MalformedInputError, match="must start with http"):
        ServiceClient("registry.example.cn")


def test_an_untrusted_tls_certificate_is_not_called_unreachable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed")

    with (
        ServiceClient("https://127.0.0.1:8731", transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(RemoteUnavailableError, match="TLS certificate this machine does not trust") as failed,
    ):
        client.get_json("/registry")
    assert "is the service running" not in str(failed.value)


def test_tls_needs_both_files(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    check_tls(None, None)
    with pytest.raises(InputError, match="both --tls-cert and --tls-key"):
        check_tls(cert, None)
    with pytest.raises(InputError, match=r"TLS key .* is not a readable file"):
        check_tls(cert, tmp_path / "missing.pem")
