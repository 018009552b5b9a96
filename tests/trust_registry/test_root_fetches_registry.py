"""The root fetches what the registry service really serves (docs/architecture.md, "Root
service", Fetching): the status-list index at ``status-lists`` and each list at its
``href``, relative to the publication URL; an unchanged list is not fetched again; an
index pointing elsewhere, or naming one list and serving another, gains nothing."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from protocol.jws import parse_compact
from protocol.status_list import StatusList
from regkit import LAB_A, PASSPHRASE, REGISTRY_ID, make_registry, status_list
from rootkit import auth, loopback_fetcher, member_body
from servekit import Served
from service.settings import ServiceSettings
from testkit import NOW, World
from trust_registry import root
from trust_registry._root_fetch import Fetched

Serve = Callable[[Any], Served]


def test_the_root_reads_the_registry_services_status_list_index(
    database_url: str | None, tmp_path: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)
    reg = make_registry(tmp_path, database_url, serve, publish_interval_seconds=3600)
    reg.start()
    reg.add_lab()
    key, lab_token = reg.enrol()
    reg.clock.now += timedelta(minutes=5)
    pushed = reg.call("PUT", "/status-lists", lab_token, json={"lists": [status_list(key, at=reg.clock())]})
    assert pushed.status_code == 200, pushed.text
    assert reg.call("POST", "/trust-list/publish").status_code == 200
    (entry,) = reg.http.get("/status-lists").json()
    assert entry["href"].startswith("status-lists/")  # relative to the publication URL

    # The registry publishes under https://cnas.example.cn/yilu/ behind a proxy to loopback.
    asked: list[str] = []
    client = httpx.Client(timeout=10)
    prefix = "https://cnas.example.cn/yilu/"

    def fetch(url: str, etag: str | None) -> Fetched:
        asked.append(url.removeprefix(prefix))
        got = client.get(f"{str(reg.http.base_url).rstrip('/')}/{url.removeprefix(prefix)}")
        return Fetched(got.status_code, got.content, got.headers.get("etag"))

    conf = ServiceSettings(data_dir=tmp_path / "root", database_url=None, publish_interval_seconds=3600)
    admin = root.init_root(
        data_dir=conf.data_dir,
        database_url=None,
        federation_id="https://federation.example",
        passphrase=PASSPHRASE,
        now=NOW,
    )
    fed = serve(root.create_app(conf, clock=reg.clock, fetch=fetch))
    member = fed.client.post("/members/from-url", json={"url": prefix + "registry"}, headers=auth(admin))
    assert member.status_code == 201, member.text
    first = fed.client.post("/fetch", headers=auth(admin)).json()
    assert first == {"kept": 2, "unchanged": 0, "dropped": []}
    assert asked[-2:] == ["status-lists", entry["href"]]
    again = fed.client.post("/fetch", headers=auth(admin)).json()
    assert again["kept"] == 0 and again["dropped"] == []
    assert asked[-1] == "status-lists"  # the index said its sha256 is the one kept
    (listed,) = fed.client.get("/members").json()
    assert listed["id"] == REGISTRY_ID and listed["fetchProblems"] == []
    assert pushed.json()["changed"] == [f"{LAB_A}/status/1"]


@pytest.mark.parametrize(
    ("href", "says"),
    [
        ("https://elsewhere.example/list", "not a path under the publication URL"),
        ("/cn/yilu/status-lists/0", "not a path under the publication URL"),
        ("../../kz/yilu/status-lists/0", "not a path under the publication URL"),
        ("status-lists/0", "the index names https://qdtc.example.cn/other"),
    ],
)
def test_a_status_list_index_pointing_elsewhere_gains_nothing(
    database_url: str | None,
    tmp_path: Path,
    serve: Serve,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    href: str,
    says: str,
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)
    token = world.status_lists(world.labs["cn-food"])[0]
    listed = StatusList.from_credential(parse_compact(token).payload_json())
    claimed = listed.url if says.startswith("not a path") else "https://qdtc.example.cn/other"
    index = [{"url": claimed, "href": href, "sha256": hashlib.sha256(b"x").hexdigest()}]
    rogue = FastAPI()

    @rogue.get("/cn/yilu/trust-list")
    def trust_list() -> Response:
        return Response(world.trust_list("CN"), media_type="application/jwt")

    @rogue.get("/cn/yilu/status-lists")
    def status_lists() -> list[dict[str, str]]:
        return index

    @rogue.get("/cn/yilu/status-lists/0")
    def one() -> Response:
        return Response(token, media_type="application/jwt")

    served = serve(rogue)
    conf = ServiceSettings(
        data_dir=tmp_path / "root", database_url=database_url, publish_interval_seconds=3600
    )
    admin = root.init_root(
        data_dir=conf.data_dir,
        database_url=database_url,
        federation_id="https://federation.example",
        passphrase=PASSPHRASE,
        now=NOW,
    )
    fed = serve(root.create_app(conf, clock=lambda: NOW, fetch=loopback_fetcher(served.url)))
    assert fed.client.post("/members", json=member_body(world, "CN"), headers=auth(admin)).status_code == 201
    report = fed.client.post("/fetch", headers=auth(admin)).json()
    assert report["kept"] == 1  # the trust list only
    (dropped,) = report["dropped"]
    assert dropped.startswith(
        f"a status list of member {world.reg_id('CN')} was dropped"
    ) or dropped.startswith(f"the status lists of member {world.reg_id('CN')} were dropped")
    assert says in dropped


def test_admitting_from_an_unreachable_url_is_a_one_line_400(
    database_url: str | None, tmp_path: Path, serve: Serve
) -> None:
    """With the real fetcher (httpx): a refused connection was a 500 with a logged traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    conf = ServiceSettings(
        data_dir=tmp_path / "root", database_url=database_url, publish_interval_seconds=3600
    )
    admin = root.init_root(
        data_dir=conf.data_dir,
        database_url=database_url,
        federation_id="https://federation.example",
        passphrase=PASSPHRASE,
        now=NOW,
    )
    fed = serve(root.create_app(conf, clock=lambda: NOW))
    url = f"https://127.0.0.1:{port}/registry"
    refused = fed.client.post("/members/from-url", json={"url": url}, headers=auth(admin))
    assert refused.status_code == 400, refused.text
    assert refused.json()["detail"] == f"GET {url} failed (ConnectError): is the registry reachable there?"
