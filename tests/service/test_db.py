"""The engine, migrations and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from protocol.errors import MalformedInputError
from service.db import current_revision, make_engine, migrate, session
from service.tokens import create_token, list_tokens
from testkit import NOW


def test_migrate_creates_the_tables_at_head(engine: Engine) -> None:
    assert current_revision(engine) == "0002"
    assert {"token", "audit_entry", "alembic_version"} <= set(inspect(engine).get_table_names())


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    with session(engine) as db:
        create_token(session=db, name="ops", role="operator", at=NOW)
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == "0002"
    with session(engine) as db:
        assert [t.name for t in list_tokens(session=db)] == ["ops"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_a_session_that_raises_commits_nothing(engine: Engine) -> None:
    def fail_midway() -> None:
        with session(engine) as db:
            create_token(session=db, name="lost", role="admin", at=NOW)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_midway()
    with session(engine) as db:
        assert list_tokens(session=db) == []


def test_sqlite_default_is_a_wal_file_in_the_data_dir(tmp_path: Path) -> None:
    engine = make_engine(None, data_dir=tmp_path / "data")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 30_000
    engine.dispose()
    assert (tmp_path / "data" / "service.db").is_file()


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "postgresql://u@h/db", "postgresql+psycopg2://u@h/db", "not a url"]
)
def test_unsupported_database_urls_are_refused_with_a_hint(url: str, tmp_path: Path) -> None:
    with pytest.raises(MalformedInputError, match=r"postgresql\+psycopg://"):
        make_engine(url, data_dir=tmp_path)


def test_engine_speaks_the_database_it_was_given(engine: Engine, database_url: str | None) -> None:
    assert engine.dialect.name == ("sqlite" if database_url is None else "postgresql")
