"""The database: one engine per service, Alembic migrations applied on start, sessions.

``make_engine(None, data_dir=...)`` is the embedded default, a SQLite file
``service.db`` in the data directory (WAL, foreign keys on, a busy timeout so that a
second writer waits instead of failing). ``postgresql+psycopg://user@host/db`` selects
PostgreSQL through the same models (docs/architecture.md, "Storage"). There is no
module-global engine: every service (and every test) makes its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from protocol.errors import MalformedInputError

#: The file of the embedded default, inside the service's data directory.
SQLITE_FILE: Final = "service.db"
#: How long a SQLite writer waits for another one before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
MIGRATIONS: Final = Path(__file__).parent / "migrations"


def utc(value: datetime) -> datetime:
    """A stored time as aware UTC: every time Yilu stores is UTC, and SQLite gives them
    back naive (PostgreSQL aware)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def make_engine(database_url: str | None, *, data_dir: Path) -> Engine:
    """The engine for ``database_url``, or for ``data_dir/service.db`` if it is None.

    Accepted: ``sqlite:///PATH`` and ``postgresql+psycopg://…``; anything else raises
    :class:`MalformedInputError` with a hint (``postgresql://`` without a driver would
    pick psycopg2, which Yilu does not install)."""
    if database_url is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(f"sqlite:///{data_dir / SQLITE_FILE}")
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise MalformedInputError("database URL is not a URL: use postgresql+psycopg://USER@HOST/DB") from exc
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        return _sqlite_engine(database_url)
    if url.drivername == "postgresql+psycopg":
        return create_engine(url, pool_pre_ping=True)
    raise MalformedInputError(
        f"database URL scheme {url.drivername!r} is not supported: "
        "use postgresql+psycopg://USER@HOST/DB, or leave it unset for SQLite in the data directory"
    )


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS:d}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    return engine


@dataclass(frozen=True, slots=True)
class Migrations:
    """One migration tree: the service's own (tokens, audit log, published lists) or a
    role's tables. Each tree keeps its revision in its own version table, so that a role
    adds migrations without touching the service's (docs/architecture.md, "Storage")."""

    location: Path
    version_table: str


#: The service layer's own tree: tokens, the audit log and published lists.
SERVICE_MIGRATIONS: Final = Migrations(MIGRATIONS, "alembic_version")


def alembic_config(tree: Migrations = SERVICE_MIGRATIONS) -> Config:
    """The Alembic configuration, built in code: no alembic.ini is needed at runtime."""
    config = Config()
    config.set_main_option("script_location", str(tree.location))
    config.attributes["version_table"] = tree.version_table
    return config


def migrate(engine: Engine, *roles: Migrations) -> None:
    """Bring the database to the newest schema: the service's tree, then each role's; a
    no-op when it is already there."""
    for tree in (SERVICE_MIGRATIONS, *roles):
        config = alembic_config(tree)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def run_env(metadata: MetaData) -> None:
    """The body of every tree's ``env.py``: run on the connection :func:`migrate` passed in,
    with the tree's own version table."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through service.db.migrate(engine), not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=context.config.attributes.get("version_table", "alembic_version"),
        # SQLite alters tables by copying them: later migrations use batch operations.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def current_revision(engine: Engine, tree: Migrations = SERVICE_MIGRATIONS) -> str | None:
    """The revision of ``tree`` the database is at (None before the first :func:`migrate`)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": tree.version_table})
        return context.get_current_revision()


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back if it raises.

    The CRUD functions of :mod:`service.tokens` and :mod:`service.audit` only flush, so a
    change and its audit entry are committed together or not at all."""
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
