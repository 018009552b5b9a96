"""Helpers of the root service tests: a set-up root on either database, a movable clock,
and a tiny real registry publication server (until the registry service is in main)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from protocol.jws import parse_compact
from protocol.status_list import StatusList
from service import ServiceSettings
from testkit import NOW, YEAR_AGO, World
from trust_registry._root_fetch import Fetched, Fetcher
from trust_registry.root import create_app, init_root

PASSPHRASE = "correct horse battery staple"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def set_up(tmp_path: Path, database_url: str | None, **settings: Any) -> tuple[ServiceSettings, str]:
    """A root set up on ``database_url`` (None: SQLite in the data dir) and its admin token."""
    conf = ServiceSettings(data_dir=tmp_path / "root", database_url=database_url, **settings)
    secret = init_root(
        data_dir=conf.data_dir,
        database_url=database_url,
        federation_id="https://federation.example",
        passphrase=PASSPHRASE,
        now=NOW,
    )
    return conf, secret


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def member_body(world: World, cc: str, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": world.reg_id(cc),
        "country": cc,
        "accreditationBody": f"AB-{cc}",
        "publicationUrl": world.reg_id(cc) + "/yilu/",
        "keys": [{"jwk": dict(world.reg_keys[cc].public.jwk), "validFrom": YEAR_AGO.isoformat()}],
        "labIds": [p.text for p in world.lab_ids(cc)],
        "activeSince": YEAR_AGO.isoformat(),
    }
    body.update(change)
    return body


@dataclass
class Publications:
    """What each fake member serves: its trust list and its status lists (compact JWS),
    in the registry service's format (the status lists as an index, each at its href)."""

    trust: dict[str, str] = field(default_factory=dict)
    status: dict[str, list[str]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        router = APIRouter()

        def answer(request: Request, body: bytes, media_type: str) -> Response:
            etag = f'"{hashlib.sha256(body).hexdigest()}"'
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers={"ETag": etag})
            return Response(body, media_type=media_type, headers={"ETag": etag})

        @router.get("/{cc}/yilu/trust-list")
        def trust(request: Request, cc: str) -> Response:
            if cc not in self.trust:
                return Response(status_code=404)
            return answer(request, self.trust[cc].encode(), "application/jwt")

        @router.get("/{cc}/yilu/status-lists")
        def status(cc: str) -> list[dict[str, str]]:
            """The index the registry service serves (GET /status-lists)."""
            index = []
            for number, token in enumerate(self.status.get(cc, [])):
                listed = StatusList.from_credential(parse_compact(token).payload_json())
                index.append(
                    {
                        "url": listed.url,
                        "issuer": listed.issuer,
                        "validFrom": listed.valid_from.isoformat(),
                        "href": f"status-lists/{number}",
                        "sha256": hashlib.sha256(token.encode()).hexdigest(),
                    }
                )
            return index

        @router.get("/{cc}/yilu/status-lists/{number}")
        def one_status_list(request: Request, cc: str, number: int) -> Response:
            tokens = self.status.get(cc, [])
            if number >= len(tokens):
                return Response(status_code=404)
            return answer(request, tokens[number].encode(), "application/jwt")

        app = FastAPI()
        app.include_router(router)
        return app


def loopback_fetcher(base: str) -> Fetcher:
    """Real HTTP to the loopback server for ``https://registry.example.<cc>/yilu/…`` URLs."""
    client = httpx.Client(timeout=10)

    def fetch(url: str, etag: str | None) -> Fetched:
        prefix = "https://registry.example."
        assert url.startswith(prefix), url
        cc, rest = url[len(prefix) :].split("/", 1)
        answer = client.get(f"{base}/{cc}/{rest}", headers={"If-None-Match": etag} if etag else {})
        return Fetched(answer.status_code, answer.content, answer.headers.get("etag"))

    return fetch


def app_for(conf: ServiceSettings, clock: Clock | None = None, fetch: Fetcher | None = None) -> FastAPI:
    return create_app(conf, clock=clock or Clock(), fetch=fetch)
