"""Access and bad input on the root service: every write needs a token of an allowed role
(one test over the whole route table, so a new endpoint cannot slip through), and every
bad input is a 4xx problem with a one-line detail (docs/architecture.md, "Root service")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from rootkit import app_for, auth, member_body, set_up
from servekit import Served
from service.db import make_engine, session
from service.models import Role
from service.tokens import create_token
from testkit import NOW, World
from trust_registry._root_routes import members, operations, public

ROUTES = [
    (method, route)
    for router in (public, members, operations)
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods)
]
WRITES = [(m, r.path) for m, r in ROUTES if m != "GET"]


def _allowed_roles(route: APIRoute) -> set[Role]:
    found: set[Role] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        found |= set(getattr(dep.call, "allowed_roles", ()))
        stack.extend(dep.dependencies)
    return found


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    """One set-up root on SQLite, with a token of each role (the other tests cover PostgreSQL)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("YILU_KEY_PASSPHRASE", "correct horse battery staple")
    conf, admin = set_up(tmp_path_factory.mktemp("root"), None)
    engine = make_engine(None, data_dir=conf.data_dir)
    with session(engine) as db:
        operator, _ = create_token(session=db, name="op", role=Role.OPERATOR, at=NOW)
        lab, _ = create_token(session=db, name="lab", role=Role.LAB, lab_id="https://qdtc.example.cn", at=NOW)
    engine.dispose()
    served = Served(app_for(conf))
    world = World()
    for cc in ("CN", "RU"):
        assert (
            served.client.post("/members", json=member_body(world, cc), headers=auth(admin)).status_code
            == 201
        )
    yield served, {"admin": admin, "operator": operator, "lab": lab}
    served.stop()
    mp.undo()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_every_write_needs_a_token_of_an_allowed_role(
    root: tuple[Served, dict[str, str]], method: str, path: str
) -> None:
    served, tokens = root
    route = next(r for m, r in ROUTES if m == method and r.path == path)
    allowed = _allowed_roles(route)
    assert allowed, f"{method} {path} has no requires() dependency"
    url = _concrete(path)
    none = served.client.request(method, url, json={})
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Bearer")
    wrong = next(r for r in (Role.LAB, Role.OPERATOR) if r not in allowed)
    refused = served.client.request(method, url, json={}, headers=auth(tokens[wrong.value]))
    assert refused.status_code == 403 and "may not do this" in refused.json()["detail"]


def test_the_route_table_is_what_the_tests_cover() -> None:
    assert len(WRITES) >= 13
    assert {m for m, _ in ROUTES} == {"GET", "POST", "PUT"}


BAD: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/members", {"country": "china"}, 422, "not an ISO 3166-1 alpha-2 country code"),
    ("POST", "/members", {"country": "XX"}, 422, "use two letters such as CN"),
    ("POST", "/members", {"id": "http://registry.example.kz"}, 422, "registry id"),
    ("POST", "/members", {"publicationUrl": "registry.example.kz/yilu"}, 422, "must be an https:// URL"),
    ("POST", "/members", {"accreditationBody": " "}, 422, "accreditation body"),
    ("POST", "/members", {"labIds": []}, 422, "at least one lab id pattern"),
    ("POST", "/members", {"labIds": ["*.example.kz"]}, 422, "is not https://[*.]host[/path]"),
    ("POST", "/members", {"keys": []}, 422, "at least one public key"),
    ("POST", "/members", {"keys": [{"jwk": {"kty": "RSA", "n": "x", "e": "AQAB"}}]}, 422, "RSA"),
    ("POST", "/members", {"activeSince": "2026-11-27T09:00:00"}, 422, "needs a time zone"),
    (
        "POST",
        "/members",
        {"id": "https://registry.example.cn", "labIds": ["https://*.example.kz"]},
        400,
        "is already a member",
    ),
    ("POST", "/members", {"labIds": ["https://nftc.example.ru"]}, 400, "overlap https://*.example.ru"),
    ("POST", "/members", {"unknownField": 1}, 422, "Extra inputs are not permitted"),
    ("POST", "/agreements", {"country": "Kazakhstan"}, 422, "not an ISO 3166-1 alpha-2 country code"),
    ("POST", "/agreements", {"scopes": ["tea"]}, 422, "unknown scope 'tea'"),
    ("POST", "/agreements", {"accepts": []}, 422, "at least one member registry"),
    ("POST", "/agreements", {"until": "2025-01-01T00:00:00Z"}, 422, "until is before from"),
    ("POST", "/agreements", {"accepts": ["https://registry.example.zz"]}, 400, "not a member registry"),
    ("POST", "/agreements/99/end", {"until": "2027-01-01T00:00:00Z"}, 404, "no agreement 99"),
    (
        "POST",
        "/members/1/status",
        {"status": "paused", "since": "2026-12-01T00:00:00Z"},
        422,
        "is not one of active, suspended, withdrawn",
    ),
    (
        "POST",
        "/members/99/status",
        {"status": "active", "since": "2026-12-01T00:00:00Z"},
        404,
        "no member number 99",
    ),
    (
        "POST",
        "/members/1/keys/nokid/revoke",
        {"at": "2026-12-01T00:00:00Z", "reason": "keyCompromise"},
        404,
        "has no key 'nokid'",
    ),
    (
        "POST",
        "/members/1/keys/x/revoke",
        {"at": "2026-12-01T00:00:00Z", "reason": "lost"},
        422,
        "is not one of keyCompromise",
    ),
    (
        "PUT",
        "/members/1/lab-ids",
        {"labIds": ["https://*.example.cn", "https://qdtc.example.cn"]},
        400,
        "overlap: give each once",
    ),
    ("POST", "/root/keys/rotate", {}, 400, "root key rotation needs protocol support"),
]


@pytest.mark.parametrize(
    ("method", "path", "change", "status", "fragment"), BAD, ids=[b[4][:40] for b in BAD]
)
def test_bad_input_is_a_4xx_problem_with_one_line(
    root: tuple[Served, dict[str, str]],
    method: str,
    path: str,
    change: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    served, tokens = root
    world = World()
    if path == "/members":
        body: dict[str, Any] = member_body(world, "KZ", **change)
    elif path == "/agreements":
        body = {
            "country": "KZ",
            "accepts": [world.reg_id("CN")],
            "scopes": ["food"],
            "from": "2026-01-01T00:00:00Z",
        }
        body.update(change)
    else:
        body = change
    answer = served.client.request(method, path, json=body, headers=auth(tokens["admin"]))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    said = problem["errors"][0]["msg"] if status == 422 else problem["detail"]
    assert fragment in said and "\n" not in said and "\n" not in problem["detail"]
    assert "Traceback" not in answer.text
