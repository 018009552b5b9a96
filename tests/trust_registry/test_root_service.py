"""The federation root service over real HTTP (uvicorn on loopback), on SQLite and
PostgreSQL: setup, members and the binding rule, agreements, publication, restarts, the
audit chain and the publish job (docs/architecture.md, "Root service")."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from protocol.jws import parse_compact, verify_raw
from protocol.keys import VerifyKey
from protocol.lists import FederationList
from rootkit import Clock, app_for, auth, member_body, set_up
from servekit import Served
from service import ServiceSettings
from service.db import make_engine
from testkit import NOW, World

Serve = Callable[[Any], Served]


def test_a_root_never_set_up_starts_and_says_what_to_run(
    database_url: str | None, tmp_path: Path, serve: Serve
) -> None:
    server = serve(app_for(ServiceSettings(data_dir=tmp_path / "empty", database_url=database_url)))
    assert server.client.get("/health").json()["status"] == "ok"
    ready = server.client.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["identity"] == "failing"
    refused = server.client.post("/members", json={})
    assert refused.status_code == 503
    assert "this root is not set up: run `yilu root init" in refused.json()["detail"]
    assert server.client.get("/federation-list").status_code == 404


def test_members_agreements_publication_and_restart(
    database_url: str | None, tmp_path: Path, serve: Serve, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", "correct horse battery staple")
    conf, admin = set_up(tmp_path, database_url)
    assert (conf.data_dir / "root-keys.json").exists()
    assert b"PRIVATE KEY" in (conf.data_dir / "root-key.pem").read_bytes()
    assert b"ENCRYPTED" in (conf.data_dir / "root-key.pem").read_bytes()
    server = serve(app_for(conf))
    assert server.client.get("/ready").json()["checks"] == {"database": "ok", "identity": "ok"}
    wait_for_sequence(server, 1)  # the publish job signs a first (empty) list on start
    cn = server.client.post("/members", json=member_body(world, "CN"), headers=auth(admin))
    assert cn.status_code == 201, cn.text
    assert cn.json()["labIds"] == ["https://*.example.cn"] and cn.json()["number"] == 1
    ru = server.client.post("/members", json=member_body(world, "RU"), headers=auth(admin))
    assert ru.status_code == 201
    # The binding rule: a third member claiming CN's labs is refused, naming the clash.
    rogue = member_body(world, "KZ", labIds=["https://qdtc.example.cn"])
    clash = server.client.post("/members", json=rogue, headers=auth(admin))
    assert clash.status_code == 400
    assert clash.json()["detail"] == (
        "lab ids https://qdtc.example.cn overlap https://*.example.cn of AB-CN "
        "(https://registry.example.cn): every lab id must belong to one registry"
    )
    # Changing a member's patterns later is overlap-checked and audited.
    moved = server.client.put(
        "/members/2/lab-ids", json={"labIds": ["https://*.example.cn"]}, headers=auth(admin)
    )
    assert moved.status_code == 400 and "overlap" in moved.json()["detail"]
    widened = server.client.put(
        "/members/2/lab-ids",
        json={"labIds": ["https://*.example.ru", "https://*.labs.example"]},
        headers=auth(admin),
    )
    assert widened.status_code == 200 and widened.json()["labIds"][1] == "https://*.labs.example"
    agreement = {
        "country": "KZ",
        "accepts": [world.reg_id("CN")],
        "scopes": ["food"],
        "from": "2026-01-01T00:00:00Z",
        "until": "2027-12-31T00:00:00Z",
    }
    made = server.client.post("/agreements", json=agreement, headers=auth(admin))
    assert made.status_code == 201 and made.json()["from"] == "2026-01-01T00:00:00Z"
    ended = server.client.post(
        f"/agreements/{made.json()['id']}/end", json={"until": "2027-06-30T00:00:00Z"}, headers=auth(admin)
    )
    assert ended.status_code == 200 and ended.json()["until"] == "2027-06-30T00:00:00Z"
    assert server.client.get("/agreements").json()[0]["until"] == "2027-06-30T00:00:00Z"
    assert server.client.get("/root").json()["unpublishedChanges"] == 5
    published = server.client.post("/federation-list/publish", headers=auth(admin))
    assert published.status_code == 200 and published.json()["sequence"] == 2
    assert server.client.get("/root").json()["unpublishedChanges"] == 0
    # A device fetches the list over HTTP and checks it with the pinned root key.
    keys = [VerifyKey.from_jwk(j) for j in server.client.get("/root-keys").json()]
    got = server.client.get("/federation-list")
    assert got.status_code == 200 and got.headers["x-yilu-sequence"] == "2"
    parsed = parse_compact(got.text)
    assert any(verify_raw(parsed, k) for k in keys)
    fed = FederationList.from_json(parsed.payload_json())
    assert [m.id for m in fed.registries] == [world.reg_id("CN"), world.reg_id("RU")]
    assert fed.agreements[0].until is not None and fed.expires_at == NOW + timedelta(days=7)
    assert (
        server.client.get("/federation-list", headers={"If-None-Match": got.headers["etag"]}).status_code
        == 304
    )
    assert [v["sequence"] for v in server.client.get("/federation-list/versions").json()] == [2, 1]
    assert server.client.get("/federation-list/2").text == got.text
    assert server.client.get("/federation-list/3").status_code == 404
    server.stop()
    # A restart keeps the sequence and the audit chain.
    server = serve(app_for(conf))
    assert server.client.get("/federation-list").headers["etag"] == got.headers["etag"]
    suspended = server.client.post(
        "/members/2/status",
        json={"status": "suspended", "since": "2026-12-01T00:00:00Z"},
        headers=auth(admin),
    )
    assert suspended.status_code == 200 and [s["status"] for s in suspended.json()["status"]] == [
        "active",
        "suspended",
    ]
    assert server.client.post("/federation-list/publish", headers=auth(admin)).json()["sequence"] == 3
    check = server.client.get("/audit/verify", headers=auth(admin)).json()
    assert check["problems"] == []
    actions = [e["action"] for e in server.client.get("/audit", headers=auth(admin)).json()]
    assert actions[:5] == [
        "root.init",
        "token.create",
        "federation-list.publish",
        "member.admit",
        "member.admit",
    ]
    assert "member.lab-ids" in actions and actions[-1] == "federation-list.publish"
    # A changed audit row is detected.
    engine = make_engine(database_url, data_dir=conf.data_dir)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 4"))
    engine.dispose()
    problems = server.client.get("/audit/verify", headers=auth(admin)).json()["problems"]
    assert problems == ["row 4: content does not match its hash: the row was changed"]


def wait_for_sequence(server: Served, n: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.client.get("/root").json()["publishedSequence"] == n:
            return
        time.sleep(0.05)
    raise AssertionError(f"no federation list {n}: {server.client.get('/health').json()}")


def test_the_publish_job_signs_changes_and_renews_before_expiry(
    database_url: str | None, tmp_path: Path, serve: Serve, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", "correct horse battery staple")
    conf, admin = set_up(tmp_path, database_url, publish_interval_seconds=0.1)
    clock = Clock()
    server = serve(app_for(conf, clock))

    def sequence_becomes(n: int) -> None:
        wait_for_sequence(server, n)

    sequence_becomes(1)  # the first run publishes: there was no list
    assert (
        server.client.post("/members", json=member_body(world, "CN"), headers=auth(admin)).status_code == 201
    )
    sequence_becomes(2)  # a change is signed without anyone acting
    time.sleep(0.3)
    assert server.client.get("/root").json()["publishedSequence"] == 2  # nothing to do: nothing signed
    clock.now = NOW + timedelta(days=5, hours=1)  # within the 2-day margin of the 7-day list
    sequence_becomes(3)
    renewed = server.client.get("/federation-list/versions").json()[0]
    assert renewed["expiresAt"] == "2026-12-09T10:00:00Z"
    job = server.client.get("/health").json()["jobs"]["publish"]
    assert job["nextRun"] is not None and job["lastError"] is None
