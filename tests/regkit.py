"""Helpers of the registry service tests: a registry set up on a data directory, served by
real uvicorn, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from protocol.enrolment import sign_key_request
from protocol.keys import SigningKey
from protocol.status_list import Bitstring, StatusList
from servekit import Served
from service.settings import ServiceSettings
from trust_registry.registry import create_app, create_token, init_registry

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PASSPHRASE = "tea leaves from qingdao harbour"
REGISTRY_ID = "https://cnas.example.cn"
LAB_A = "https://qdtc.example.cn"
LAB_B = "https://bjtc.example.cn"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Reg:
    """A registry service under test."""

    settings: ServiceSettings
    clock: Clock
    serve: Callable[[Any], Served]
    admin: str
    served: Served | None = None
    secrets: dict[str, str] = field(default_factory=dict)

    def start(self) -> Served:
        self.served = self.serve(create_app(self.settings, clock=self.clock))
        return self.served

    @property
    def http(self) -> httpx.Client:
        assert self.served is not None
        return self.served.client

    def token(self, role: str, lab_id: str | None = None) -> str:
        secret, _ = create_token(
            data_dir=self.settings.data_dir,
            database_url=self.settings.database_url,
            name=f"{role}-{lab_id}",
            role=role,
            lab_id=lab_id,
            now=self.clock(),
        )
        return secret

    def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.admin}"} | kw.pop("headers", {})
        return self.http.request(method, path, headers=headers, **kw)

    def add_lab(
        self, lab_id: str = LAB_A, scopes: tuple[str, ...] = ("food",), **more: Any
    ) -> httpx.Response:
        body = lab_body(lab_id, scopes) | more
        return self.call("POST", "/labs", json=body)

    def enrol(
        self, lab_id: str = LAB_A, key: SigningKey | None = None, scopes: tuple[str, ...] = ("food",)
    ) -> tuple[SigningKey, str]:
        """Enrol and approve a key for ``lab_id`` (a lab token submits, the admin approves)."""
        key = key or SigningKey.generate()
        request = sign_key_request(key, lab_id=lab_id, scopes=list(scopes), now=self.clock())
        ref = lab_id.removeprefix("https://")
        lab_token = self.token("lab", lab_id)
        r = self.call("POST", f"/labs/{ref}/keys", lab_token, json={"request": request})
        assert r.status_code == 201, r.text
        r = self.call("POST", f"/labs/{ref}/keys/{key.public.kid}/approve", json={})
        assert r.status_code == 200, r.text
        return key, lab_token


def lab_body(lab_id: str = LAB_A, scopes: tuple[str, ...] = ("food",)) -> dict[str, Any]:
    return {
        "id": lab_id,
        "names": {"en": "Qingdao Tea Testing Centre", "zh": "青岛茶叶检测中心"},
        "country": "CN",
        "accreditationNumber": "CNAS L1234",
        "scopes": [{"category": s} for s in scopes],
        "accreditedSince": (NOW - timedelta(days=30)).isoformat(),
    }


def make_registry(
    tmp_path: Path, database_url: str | None, serve: Callable[[Any], Served], **settings: Any
) -> Reg:
    data_dir = tmp_path / "registry"
    admin = init_registry(
        data_dir=data_dir,
        database_url=database_url,
        registry_id=REGISTRY_ID,
        country="CN",
        accreditation_body="CNAS",
        publication_url="https://cnas.example.cn/yilu/",
        lab_ids=["https://*.example.cn"],
        passphrase=PASSPHRASE,
        now=NOW,
    )
    config = ServiceSettings(data_dir=data_dir, database_url=database_url, **settings)
    return Reg(config, Clock(), serve, admin)


def status_list(
    key: SigningKey,
    *,
    issuer: str = LAB_A,
    url: str | None = None,
    revoked: tuple[int, ...] = (),
    at: datetime = NOW,
) -> str:
    bits = Bitstring()
    for index in revoked:
        bits.set(index, True)
    listed = StatusList(url or f"{issuer}/status/1", issuer, ("revocation",), bits, at, None)
    return listed.sign(key, key.public.kid)
