"""Publication, access and jobs of the service layer, over real HTTP on both databases
(docs/architecture.md, "Publication" and "Access")."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from servekit import Served
from service import ServiceSettings, create_service_app
from service import publication as pub
from service.db import make_engine, migrate, session
from service.deps import DbSession, Principal, requires
from service.jobs import Job
from service.models import Role
from service.tokens import create_token, revoke_token

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def signer(text: str = "list") -> pub.SignFor:
    def sign(sequence: int) -> tuple[str, datetime, datetime]:
        return f"{text}.{sequence}.sig", NOW, NOW + timedelta(days=7)

    return sign


def app_for(settings: ServiceSettings, engine: Engine, jobs: tuple[Job, ...] = ()) -> Any:
    router = APIRouter()

    @router.get("/list")
    def get_list(request: Request, db: DbSession) -> Response:
        return pub.respond(request, pub.current(session=db, kind="demo"), what="demo list")

    @router.get("/list/{sequence}")
    def get_version(request: Request, sequence: int, db: DbSession) -> Response:
        return pub.respond(
            request, pub.at_sequence(session=db, kind="demo", sequence=sequence), what="version"
        )

    @router.post("/publish")
    def publish(
        db: DbSession, who: Annotated[Principal, Depends(requires(Role.ADMIN, Role.OPERATOR))]
    ) -> dict[str, Any]:
        row = pub.publish(session=db, kind="demo", sign=signer())
        return {"sequence": row.sequence, "by": who.actor}

    @router.post("/labs/{lab}/push")
    def push(lab: str, who: Annotated[Principal, Depends(requires(Role.LAB, Role.ADMIN))]) -> dict[str, str]:
        who.require_lab(f"https://{lab}")
        return {"ok": lab}

    app = create_service_app(settings, role="registry", version="1", routers=[router], jobs=jobs)
    app.state.engine = engine
    return app


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(data_dir=tmp_path / "data")


def token(engine: Engine, role: Role, lab_id: str | None = None) -> tuple[int, str]:
    with session(engine) as db:
        secret, made = create_token(session=db, name=f"t-{role.value}", role=role, lab_id=lab_id, at=NOW)
    return made.id, secret


def test_sequences_only_grow_and_every_version_stays(engine: Engine) -> None:
    with session(engine) as db:
        assert pub.current(session=db, kind="demo") is None
        assert [pub.publish(session=db, kind="demo", sign=signer()).sequence for _ in range(3)] == [1, 2, 3]
        pub.publish(session=db, kind="other", sign=signer())
    with session(engine) as db:
        row = pub.current(session=db, kind="demo")
        assert row is not None and row.sequence == 3 and row.token == "list.3.sig"
        first = pub.at_sequence(session=db, kind="demo", sequence=1)
        assert first is not None and first.token == "list.1.sig"
        assert [v.sequence for v in pub.list_versions(session=db, kind="demo")] == [3, 2, 1]
        assert [v.sequence for v in pub.list_versions(session=db, kind="demo", before=3, limit=1)] == [2]
        assert pub.expires_at(session=db, kind="demo") == NOW + timedelta(days=7)


def test_served_with_etag_304_and_by_sequence_across_restarts(
    database_url: str | None, tmp_path: Path, serve: Callable[[Any], Served]
) -> None:
    settings = ServiceSettings(data_dir=tmp_path / "data", database_url=database_url)
    engine = make_engine(database_url, data_dir=settings.data_dir)
    migrate(engine)
    _, admin = token(engine, Role.ADMIN)
    server = serve(app_for(settings, engine))
    missing = server.client.get("/list")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    auth = {"Authorization": f"Bearer {admin}"}
    assert server.client.post("/publish", headers=auth).json()["sequence"] == 1
    assert server.client.post("/publish", headers=auth).json()["sequence"] == 2
    got = server.client.get("/list")
    assert got.status_code == 200 and got.text == "list.2.sig" and got.headers["x-yilu-sequence"] == "2"
    etag = got.headers["etag"]
    assert server.client.get("/list", headers={"If-None-Match": etag}).status_code == 304
    assert server.client.get("/list", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert server.client.get("/list", headers={"If-None-Match": '"other"'}).status_code == 200
    assert server.client.get("/list/1").text == "list.1.sig"
    assert server.client.get("/list/9").status_code == 404
    server.stop()
    engine.dispose()
    # A restarted service (a new engine on the same database) goes on from 2, never back.
    engine = make_engine(database_url, data_dir=settings.data_dir)
    migrate(engine)
    server = serve(app_for(settings, engine))
    assert server.client.get("/list").headers["etag"] == etag
    assert server.client.post("/publish", headers=auth).json()["sequence"] == 3
    engine.dispose()


def test_writes_need_a_token_of_an_allowed_role(
    engine: Engine, settings: ServiceSettings, serve: Any
) -> None:
    server = serve(app_for(settings, engine))
    none = server.client.post("/publish")
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in none.json()["detail"]
    assert (
        server.client.post("/publish", headers={"Authorization": "Bearer yl_" + "x" * 43}).status_code == 401
    )
    assert server.client.post("/publish", headers={"Authorization": "Basic abc"}).status_code == 401
    _, lab = token(engine, Role.LAB, "https://qdtc.example.cn")
    wrong = server.client.post("/publish", headers={"Authorization": f"Bearer {lab}"})
    assert wrong.status_code == 403
    assert wrong.json()["detail"] == "A token with the role lab may not do this; it needs: admin, operator."
    # A lab token acts for its own lab only.
    own = server.client.post("/labs/qdtc.example.cn/push", headers={"Authorization": f"Bearer {lab}"})
    assert own.status_code == 200
    other = server.client.post("/labs/sdmt.example.cn/push", headers={"Authorization": f"Bearer {lab}"})
    assert other.status_code == 403 and "acts for https://qdtc.example.cn" in other.json()["detail"]
    # A revoked token is as good as none.
    op_id, operator = token(engine, Role.OPERATOR)
    assert server.client.post("/publish", headers={"Authorization": f"Bearer {operator}"}).status_code == 200
    with session(engine) as db:
        revoke_token(session=db, token_id=op_id, actor="test", at=NOW)
    assert server.client.post("/publish", headers={"Authorization": f"Bearer {operator}"}).status_code == 401


def test_jobs_run_on_start_and_on_schedule_and_show_in_health(
    engine: Engine, settings: ServiceSettings, serve: Any
) -> None:
    runs: list[datetime] = []

    def republish(now: datetime) -> str:
        runs.append(now)
        if len(runs) == 2:
            raise RuntimeError("the key file is unreadable")
        return f"run {len(runs)}"

    server = serve(app_for(settings, engine, jobs=(Job("republish", timedelta(seconds=0.2), republish),)))
    deadline = time.monotonic() + 10
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(runs) >= 3, "the job did not run on its schedule"
    state = server.client.get("/health").json()["jobs"]["republish"]
    assert state["nextRun"] is not None and state["lastRun"] is not None
    # The failing second run did not stop the third.
    assert state["lastError"] is None and state["lastResult"].startswith("run ")
