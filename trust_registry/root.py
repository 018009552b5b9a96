"""The federation root as a service: ``create_app(settings)`` (docs/architecture.md,
"Root service").

The alliance secretariat runs it. It admits member registries (their keys, status
history and the lab ids each may list), records recognition agreements, publishes the
signed federation list (re-signed before it expires by a job, without anyone acting),
fetches and checks what its members publish and builds offline bundles from it. Setup is
local: :func:`init_root` (``yilu root init``) makes the identity, the encrypted root key,
``root-keys.json`` and the first admin token.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import Response

from protocol.storage import passphrase
from service import ServiceSettings, create_service_app
from service.db import make_engine, migrate
from service.db import session as db_session
from service.jobs import Clock, Job
from service.problems import problem
from trust_registry import _root_domain as domain
from trust_registry._root_domain import ROOT_MIGRATIONS, init_root
from trust_registry._root_fetch import Fetcher, http_fetcher
from trust_registry._root_routes import members, operations, public

VERSION: Final = "0.1.0"
ROLE: Final = "root"

__all__ = ["ROOT_MIGRATIONS", "create_app", "init_root"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: ServiceSettings, *, clock: Clock | None = None, fetch: Fetcher | None = None
) -> FastAPI:
    """The root service on ``settings`` (its database migrated on the spot). ``clock`` and
    ``fetch`` (how member lists are fetched; httpx by default) are for tests."""
    the_clock = clock or _utcnow
    engine = make_engine(settings.database_url, data_dir=settings.data_dir)
    migrate(engine, ROOT_MIGRATIONS)

    def publish_job(now: datetime) -> str | None:
        if not domain.is_set_up(engine):
            return "not set up: run `yilu root init`"
        with db_session(engine) as session:
            row = domain.identity(session=session)
            if getattr(app.state, "signer", None) is None:
                app.state.signer = domain.load_signer(settings.data_dir, row, passphrase())
            return domain.publish_if_needed(
                session=session,
                signer=app.state.signer,
                now=now,
                validity=settings.list_validity(),
                margin=settings.republish_margin(),
            )

    app = create_service_app(
        settings,
        role=ROLE,
        version=VERSION,
        checks={"database": lambda: _database_ok(engine), "identity": lambda: domain.is_set_up(engine)},
        routers=[public, members, operations],
        jobs=[Job("publish", timedelta(seconds=settings.publish_interval_seconds), publish_job)],
        clock=the_clock,
        on_shutdown=[engine.dispose],
        description="The federation root: member registries, recognition agreements, the "
        "signed federation list and offline bundles.",
    )
    app.state.engine = engine
    app.state.clock = the_clock
    app.state.fetch = fetch or http_fetcher()
    app.state.signer = None

    async def not_found(request: Request, exc: Exception) -> Response:
        return problem(404, str(exc), instance=request.url.path)

    async def not_set_up(request: Request, exc: Exception) -> Response:
        return problem(503, str(exc), instance=request.url.path, title="Not set up")

    async def unpublished(request: Request, exc: Exception) -> Response:
        return problem(409, str(exc), instance=request.url.path, title="Unpublished changes")

    app.add_exception_handler(LookupError, not_found)
    app.add_exception_handler(domain.NotSetUpError, not_set_up)
    app.add_exception_handler(domain.UnpublishedChangesError, unpublished)
    return app


def _database_ok(engine: object) -> bool:
    from sqlalchemy import Engine, text

    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True
