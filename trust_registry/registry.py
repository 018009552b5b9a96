"""The trust registry as a service: ``create_app`` and the local set-up functions.

docs/architecture.md, "Registry service"; issue 7, §3. :func:`init_registry` sets a
registry up on its data directory without HTTP (like Django's ``createsuperuser``): it
migrates the database, stores the identity, writes the signing key encrypted and returns
the first admin token. :func:`create_app` serves it. A service started on a data
directory that was never set up still starts: ``/health`` answers, ``/ready`` reports
``identity: failing`` and every route that needs the identity answers **503** "this
registry is not set up: run `yilu registry init …`" (503, not 409: nothing the caller
sends can fix it; the operator must set the service up).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from sqlalchemy import Engine, text

from protocol.errors import InputError
from protocol.keys import SigningKey
from protocol.names import NamePattern, check_lab_id, check_publication_url
from protocol.storage import check_passphrase, load_key, passphrase, save_key
from protocol.vocabulary import check_country
from service import audit, tokens
from service.app import create_service_app
from service.db import Migrations, make_engine, migrate, session
from service.jobs import Clock, Job
from service.models import Role, TokenPublic
from service.problems import problem
from service.settings import ServiceSettings
from trust_registry import _registry_domain as domain
from trust_registry._registry_models import RegistryIdentity
from trust_registry._registry_routes import Context, make_router

VERSION: Final = "0.1.0"
#: The registry's own migration tree (its tables; the service tree holds tokens, audit, lists).
REGISTRY_MIGRATIONS: Final = Migrations(
    Path(__file__).parent / "registry_migrations", "alembic_version_registry"
)
#: The registry's private signing key in its data directory (encrypted PKCS#8).
KEY_FILE: Final = "registry-key.pem"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def open_engine(*, data_dir: Path, database_url: str | None) -> Engine:
    """The registry's database, migrated to the newest schema."""
    engine = make_engine(database_url, data_dir=data_dir)
    migrate(engine, REGISTRY_MIGRATIONS)
    return engine


def init_registry(
    *,
    data_dir: Path,
    database_url: str | None,
    registry_id: str,
    country: str,
    accreditation_body: str,
    publication_url: str,
    lab_ids: list[str],
    passphrase: str,
    now: datetime,
) -> str:
    """Set a registry up and return the first admin token's secret (shown once).

    Refuses (one-line :class:`InputError`) a bad id, country, URL or pattern, a weak
    passphrase, or a registry already set up."""
    check_lab_id(registry_id, "registry id")
    country = check_country(country)
    if not accreditation_body.strip():
        raise InputError("a registry needs the name of its accreditation body, e.g. CNAS")
    check_publication_url(publication_url)
    patterns = [NamePattern(p).text for p in lab_ids]
    if not patterns:
        raise InputError("give at least one lab id pattern the registry lists, e.g. https://*.example.cn")
    check_passphrase(passphrase)
    engine = open_engine(data_dir=data_dir, database_url=database_url)
    try:
        with session(engine) as db:
            if db.get(RegistryIdentity, 1) is not None:
                raise InputError(f"the registry in {data_dir} is already set up")
            key = SigningKey.generate()
            save_key(data_dir / KEY_FILE, key, passphrase)
            db.add(
                RegistryIdentity(
                    registry_id=registry_id,
                    country=country,
                    accreditation_body=accreditation_body.strip(),
                    publication_url=publication_url,
                    lab_ids=patterns,
                    key_jwk=dict(key.public.jwk),
                    key_valid_from=now,
                    created_at=now,
                    unpublished_changes=True,
                )
            )
            db.flush()
            audit.record(
                session=db,
                actor="local:init",
                action="registry.init",
                subject=registry_id,
                details={"country": country, "labIds": patterns, "kid": key.public.kid},
                at=now,
            )
            secret, _ = tokens.create_token(
                session=db, name="first admin", role=Role.ADMIN, actor="local:init", at=now
            )
        return secret
    finally:
        engine.dispose()


def create_token(
    *,
    data_dir: Path,
    database_url: str | None,
    name: str,
    role: Role | str,
    lab_id: str | None = None,
    now: datetime,
) -> tuple[str, TokenPublic]:
    """A new token (for ``yilu registry token create``): its secret, shown once, and its record."""
    engine = open_engine(data_dir=data_dir, database_url=database_url)
    try:
        with session(engine) as db:
            return tokens.create_token(
                session=db, name=name, role=role, lab_id=lab_id, actor="local:cli", at=now
            )
    finally:
        engine.dispose()


def list_tokens(*, data_dir: Path, database_url: str | None) -> list[TokenPublic]:
    engine = open_engine(data_dir=data_dir, database_url=database_url)
    try:
        with session(engine) as db:
            return tokens.list_tokens(session=db)
    finally:
        engine.dispose()


def revoke_token(*, data_dir: Path, database_url: str | None, token_id: int, now: datetime) -> TokenPublic:
    engine = open_engine(data_dir=data_dir, database_url=database_url)
    try:
        with session(engine) as db:
            return tokens.revoke_token(session=db, token_id=token_id, actor="local:cli", at=now)
    finally:
        engine.dispose()


def verify_audit(*, data_dir: Path, database_url: str | None) -> list[str]:
    """Every problem of the audit chain, one line each (empty when intact)."""
    engine = open_engine(data_dir=data_dir, database_url=database_url)
    try:
        with session(engine) as db:
            return audit.verify_chain(session=db)
    finally:
        engine.dispose()


class _KeyBox:
    """The registry's signing key, opened once on first use (YILU_KEY_PASSPHRASE)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: SigningKey | None = None
        self._lock = threading.Lock()

    def __call__(self) -> SigningKey:
        with self._lock:
            if self._key is None:
                self._key = load_key(self.path, passphrase())
            return self._key


def create_app(settings: ServiceSettings, *, clock: Clock | None = None) -> FastAPI:
    """The registry service on ``settings.data_dir`` / ``settings.database_url``: migrates
    on start, publishes on schedule (``publish`` job every ``publish_interval_seconds``)."""
    now = clock or _utcnow
    engine = open_engine(data_dir=settings.data_dir, database_url=settings.database_url)
    key = _KeyBox(settings.data_dir / KEY_FILE)
    ctx = Context(engine=engine, settings=settings, clock=now, key=key)

    def publish_job(at: datetime) -> str | None:
        with session(engine) as db:
            if db.get(RegistryIdentity, 1) is None:
                return "not set up: nothing to publish"
            return domain.publish_if_due(
                session=db,
                now=at,
                key=key(),
                validity=settings.list_validity(),
                margin=settings.republish_margin(),
            )

    def database_ok() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    def identity_ok() -> bool:
        with session(engine) as db:
            return db.get(RegistryIdentity, 1) is not None

    def key_ok() -> bool:
        key()
        return True

    app = create_service_app(
        settings,
        role="registry",
        version=VERSION,
        checks={"database": database_ok, "identity": identity_ok, "signing-key": key_ok},
        routers=[make_router(ctx)],
        jobs=[Job("publish", timedelta(seconds=settings.publish_interval_seconds), publish_job)],
        clock=now,
        on_shutdown=[engine.dispose],
        description="An accreditation body's trust registry: labs, their scopes, status and keys, "
        "the signed trust list and the labs' mirrored status lists.",
    )
    app.state.engine = engine
    _install_errors(app)
    return app


def _install_errors(app: FastAPI) -> None:
    """The domain's errors as problems: more specific than the service's InputError -> 400."""
    statuses: dict[type[Exception], int] = {
        domain.NotSetUpError: 503,
        domain.NotFoundError: 404,
        domain.ConflictError: 409,
        domain.ForbiddenError: 403,
        domain.ImportRowsError: 400,
    }

    def handler_for(status: int) -> Callable[[Request, Exception], object]:
        def handle(request: Request, exc: Exception) -> object:
            rows = exc.rows if isinstance(exc, domain.ImportRowsError) else None
            return problem(status, str(exc), instance=request.url.path, errors=rows)

        return handle

    for kind, status in statuses.items():
        app.add_exception_handler(kind, handler_for(status))  # type: ignore[arg-type]
