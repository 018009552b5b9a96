"""Fixtures shared by every test package (the helpers themselves live in testkit.py and
servekit.py): the in-memory federation; servers on loopback and the log capture;
databases: every storage test runs on SQLite and on a throwaway PostgreSQL.

``postgres_server`` starts one cluster per test session (per xdist worker) with
``initdb`` + ``pg_ctl`` in a temporary directory, as the ``postgres`` user when the tests
run as root; it listens on a Unix socket in that directory only. Without the binaries
the PostgreSQL half skips, unless ``YILU_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets),
where it fails.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text

from servekit import LogCapture, Served
from service.db import make_engine, migrate
from service.logs import LOGGER_NAME, log_handler
from testkit import World


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *argv]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(argv)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A ``postgresql+psycopg://`` URL of a fresh cluster's ``postgres`` database."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        message = "PostgreSQL binaries (initdb, pg_ctl) not on PATH"
        if os.environ.get("YILU_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message}, and YILU_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    # Directly under /tmp: the postgres user must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="yilu-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, log = base / "data", base / "log"
    port = _free_port()
    try:
        initdb_argv = [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]
        subprocess.run(_as_postgres(initdb_argv), check=True, capture_output=True)
        options = f"-c listen_addresses='' -k {base} -p {port} -c fsync=off"
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o", options, "start"]),
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-2000:]}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}&port={port}"
    finally:
        stop = [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_postgres(stop), check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite in the data directory) or the URL of a new, empty PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.replace("/postgres?", f"/{name}?")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str | None, tmp_path: Path) -> Iterator[Engine]:
    """A migrated engine on each database."""
    engine = make_engine(database_url, data_dir=tmp_path / "data")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], Served]]:
    """Start servers for the test; every one is stopped at its end."""
    started: list[Served] = []

    def start(app: FastAPI) -> Served:
        served = Served(app)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    handler = log_handler(json_lines=True, stream=capture.stream)
    logger = logging.getLogger(LOGGER_NAME)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield capture
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def world() -> World:
    """A fresh in-memory federation with new keys."""
    return World()
