"""The registry service over real HTTP on SQLite and PostgreSQL: set-up, labs, key
enrolment with proof of possession, publication, restarts and the audit chain
(docs/architecture.md, "Registry service"; issue 7, §3 and §5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text

from protocol.jws import parse_compact, verify_signature
from protocol.keys import VerifyKey
from protocol.lists import TrustList
from regkit import LAB_A, LAB_B, NOW, PASSPHRASE, make_registry
from servekit import Served
from service.db import make_engine
from service.settings import ServiceSettings
from trust_registry.registry import create_app, create_token, verify_audit


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)


Serve = Callable[[Any], Served]


def fetch_trust_list(reg: Any) -> TrustList:
    """The current trust list over HTTP, its signature checked with the registry's key."""
    info = reg.http.get("/registry").json()
    key = VerifyKey.from_jwk(info["keys"][0]["jwk"])
    response = reg.http.get("/trust-list")
    assert response.status_code == 200, response.text
    parsed = parse_compact(response.text)
    verify_signature(parsed, key)
    return TrustList.from_json(parsed.payload_json())


def test_full_flow(tmp_path: Path, database_url: str | None, serve: Serve) -> None:
    reg = make_registry(tmp_path, database_url, serve)
    reg.start()
    assert reg.add_lab(scopes=("food", "chemicals")).status_code == 201
    key, _ = reg.enrol(scopes=("food", "chemicals"))
    published = reg.call("POST", "/trust-list/publish")
    assert published.status_code == 200, published.text
    trust_list = fetch_trust_list(reg)
    assert trust_list.sequence == published.json()["sequence"]
    assert trust_list.expires_at - trust_list.issued_at == reg.settings.list_validity()
    (lab,) = trust_list.labs
    assert lab.id == LAB_A and lab.names["zh"] == "青岛茶叶检测中心"
    assert {s.category for s in lab.scopes} == {"food", "chemicals"}
    assert [e.status for e in lab.status] == ["active"]
    assert [k.kid for k in lab.keys] == [key.public.kid]
    # ETag / 304, versions by sequence.
    first = reg.http.get("/trust-list")
    again = reg.http.get("/trust-list", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    reg.clock.now += timedelta(minutes=1)
    reg.call("POST", "/trust-list/publish")
    versions = reg.http.get("/trust-list/versions").json()
    assert [v["sequence"] for v in versions][:2] == [trust_list.sequence + 1, trust_list.sequence]
    old = reg.http.get(f"/trust-list/{trust_list.sequence}")
    assert old.status_code == 200 and old.text == first.text
    assert reg.http.get("/trust-list/999").status_code == 404
    assert reg.http.get("/labs/qdtc.example.cn").json()["keys"][0]["state"] == "approved"
    assert verify_audit(data_dir=reg.settings.data_dir, database_url=database_url) == []


def test_scope_history_status_and_key_lifecycle(
    tmp_path: Path, database_url: str | None, serve: Serve
) -> None:
    reg = make_registry(tmp_path, database_url, serve)
    reg.start()
    reg.add_lab(scopes=("food",))
    old_key, _ = reg.enrol(scopes=("food", "textiles"))
    reg.clock.now += timedelta(days=1)
    # Rotation: a new key approved while the old one keeps verifying what it signed.
    new_key, _ = reg.enrol(scopes=("food", "textiles"))
    retire = reg.call("POST", f"/labs/qdtc.example.cn/keys/{old_key.public.kid}/retire", json={})
    assert retire.status_code == 200 and retire.json()["validUntil"]
    # Scope history: textiles added, then ended; re-adding opens a new period.
    assert reg.call("POST", "/labs/qdtc.example.cn/scopes", json={"category": "textiles"}).status_code == 200
    ended = reg.call("POST", "/labs/qdtc.example.cn/scopes/textiles/end", json={})
    assert ended.status_code == 200
    reg.clock.now += timedelta(days=1)
    reg.call("POST", "/labs/qdtc.example.cn/scopes", json={"category": "textiles"})
    # Revocation (superseded) and suspension ending the remaining key.
    revoke = reg.call(
        "POST", f"/labs/qdtc.example.cn/keys/{old_key.public.kid}/revoke", json={"reason": "superseded"}
    )
    assert revoke.json()["revocationReason"] == "superseded"
    suspend_at = reg.clock.now + timedelta(hours=1)
    r = reg.call(
        "POST", "/labs/qdtc.example.cn/status", json={"status": "suspended", "since": suspend_at.isoformat()}
    )
    assert r.status_code == 200, r.text
    reg.call("POST", "/trust-list/publish")
    (lab,) = fetch_trust_list(reg).labs
    textiles = [s for s in lab.scopes if s.category == "textiles"]
    assert len(textiles) == 2 and textiles[0].until is not None and textiles[1].until is None
    assert [e.status for e in lab.status] == ["active", "suspended"]
    keys = {k.kid: k for k in lab.keys}
    assert keys[new_key.public.kid].valid_until == suspend_at
    assert keys[old_key.public.kid].revocation_reason == "superseded"
    # Append-only: a for-cause withdrawal is final.
    assert (
        reg.call(
            "POST", "/labs/qdtc.example.cn/status", json={"status": "withdrawn", "forCause": True}
        ).status_code
        == 200
    )
    final = reg.call("POST", "/labs/qdtc.example.cn/status", json={"status": "active"})
    assert final.status_code == 409 and "final" in final.json()["detail"]


def test_restart_keeps_sequence_and_audit_chain(
    tmp_path: Path, database_url: str | None, serve: Serve
) -> None:
    reg = make_registry(tmp_path, database_url, serve)
    served = reg.start()
    reg.add_lab()
    reg.call("POST", "/trust-list/publish")
    reg.call("POST", "/trust-list/publish")
    last = reg.http.get("/trust-list").headers["X-Yilu-Sequence"]
    served.stop()
    reg.start()
    assert reg.http.get("/trust-list").headers["X-Yilu-Sequence"] == last
    assert reg.call("POST", "/trust-list/publish").json()["sequence"] == int(last) + 1
    assert verify_audit(data_dir=reg.settings.data_dir, database_url=database_url) == []
    engine = make_engine(database_url, data_dir=reg.settings.data_dir)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 3"))
    engine.dispose()
    problems = verify_audit(data_dir=reg.settings.data_dir, database_url=database_url)
    assert problems and "row 3" in problems[0]


def test_publish_job_resigns_before_expiry(tmp_path: Path, database_url: str | None, serve: Serve) -> None:
    reg = make_registry(tmp_path, database_url, serve, publish_interval_seconds=0.1)
    reg.start()

    def sequence() -> int:
        response = reg.http.get("/trust-list")
        return int(response.headers["X-Yilu-Sequence"]) if response.status_code == 200 else 0

    deadline = time.monotonic() + 10
    while sequence() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sequence() == 1  # the first list, without anyone acting
    time.sleep(0.3)
    assert sequence() == 1  # nothing changed, far from expiry: not re-signed
    reg.clock.now += timedelta(days=5, hours=1)  # within the 2-day margin of the 7-day list
    while sequence() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sequence() == 2
    assert fetch_trust_list(reg).issued_at == reg.clock.now
    job = reg.http.get("/health").json()["jobs"]["publish"]
    assert job["nextRun"] and job["lastError"] is None


def test_not_set_up_starts_and_says_so(tmp_path: Path, database_url: str | None, serve: Serve) -> None:
    settings = ServiceSettings(data_dir=tmp_path / "empty", database_url=database_url)
    served = serve(create_app(settings))
    assert served.client.get("/health").json()["status"] == "ok"
    ready = served.client.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["identity"] == "failing"
    assert "not set up" in served.client.get("/registry").json()["detail"]
    secret, _ = create_token(
        data_dir=settings.data_dir, database_url=database_url, name="a", role="admin", now=NOW
    )
    r = served.client.post("/labs", json=_lab(), headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 503 and "yilu registry init" in r.json()["detail"]


def _lab(**more: Any) -> dict[str, Any]:
    from regkit import lab_body

    return lab_body() | more


def api_routes(routes: Any) -> list[APIRoute]:
    """Every APIRoute of a route table, inside included routers too (no prefixes are used)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def test_every_write_needs_a_token_of_the_right_role(
    tmp_path: Path, database_url: str | None, serve: Serve
) -> None:
    """The whole route table: every non-GET route has a ``requires`` dependency, answers 401
    without a token and 403 with a token of a role it does not allow."""
    reg = make_registry(tmp_path, database_url, serve)
    served = reg.start()
    tokens = {
        role: reg.token(role, LAB_B if role == "lab" else None) for role in ("admin", "operator", "lab")
    }
    app = served.server.config.app
    checked = 0
    for route in api_routes(app.routes):
        allowed = {
            role.value
            for dep in route.dependant.dependencies
            for role in getattr(dep.call, "allowed_roles", ())
        }
        path = route.path.replace("{lab_ref:path}", "qdtc.example.cn")
        for name in ("kid", "category", "sequence", "name"):
            path = path.replace("{" + name + "}", "1")
        for method in route.methods - {"GET", "HEAD"}:
            assert allowed, f"{method} {route.path} has no requires(...) dependency"
            r = served.client.request(method, path)
            assert r.status_code == 401, f"{method} {route.path} without a token: {r.status_code}"
            for role, secret in tokens.items():
                if role not in allowed:
                    r = served.client.request(method, path, headers={"Authorization": f"Bearer {secret}"})
                    assert r.status_code == 403, f"{method} {route.path} as {role}: {r.status_code}"
            checked += 1
    assert checked >= 12


def test_openapi_documents_every_route(tmp_path: Path, database_url: str | None, serve: Serve) -> None:
    reg = make_registry(tmp_path, database_url, serve)
    schema = reg.start().client.get("/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary") and operation.get("description"), f"{method} {path}"
    for name in ("LabCreate", "KeyPublic", "LabPublic", "RegistryPublic", "StatusIn"):
        assert schema["components"]["schemas"][name].get("examples"), name
