"""Registry service at CNAS's size: bulk import of 18,000 labs with keys, adding one lab
to a registry of 1,000 and of 18,000 (the cost must not grow with the registry), and
publishing the trust list (issue 7, §6: import <= 60 s, publish <= 10 s), on SQLite and,
when ``initdb`` is on PATH, on a throwaway PostgreSQL.

``python -m bench.registry [N] [--small M] [--db sqlite|postgresql]`` prints the numbers
as JSON (its last line); ``python -m bench`` runs one process per database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from protocol.keys import SigningKey
from protocol.storage import load_key
from service.db import session
from trust_registry import _registry_domain as domain
from trust_registry._registry_models import LabCreate
from trust_registry.registry import KEY_FILE, init_registry, open_engine

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PASSPHRASE = "bench passphrase, not secret"  # noqa: S105 -- a throwaway benchmark key


def rows(n: int) -> list[dict[str, Any]]:
    """``n`` labs as an import would give them, each with its own public key."""
    jwk = [dict(SigningKey.generate().public.jwk) for _ in range(n)]
    return [
        {
            "id": f"https://lab{i:06d}.example.cn",
            "name_en": f"Testing Lab {i}",
            "name_zh": f"检测实验室 {i}",
            "country": "CN",
            "accreditation_number": f"CNAS L{i:06d}",
            "scopes": "food;chemicals",
            "accredited_since": "2026-01-01T00:00:00Z",
            "key_jwk": jwk[i],
        }
        for i in range(n)
    ]


#: Labs added one by one after the import; the median is reported.
ADDS = 5


def _lab(i: int) -> LabCreate:
    return LabCreate.model_validate(
        {
            "id": f"https://new{i:06d}.example.cn",
            "names": {"en": f"New Lab {i}", "zh": f"新实验室 {i}"},
            "country": "CN",
            "accreditationNumber": f"CNAS N{i:06d}",
            "scopes": [{"category": "food"}],
            "accreditedSince": "2026-01-01T00:00:00Z",
        }
    )


def add_one(engine: Any, first: int) -> dict[str, float]:
    """Milliseconds (median of :data:`ADDS`) to add one lab (``POST /labs``: no key) and
    to import one lab with its key (a one-row import), each in its own transaction."""
    create, imported = [], []
    for i in range(first, first + ADDS):
        started = time.perf_counter()
        with session(engine) as db:
            domain.create_lab(session=db, now=NOW, actor="bench", lab=_lab(i))
        create.append(time.perf_counter() - started)
        row = rows(1)[0] | {"id": f"https://one{i:06d}.example.cn", "accreditation_number": f"CNAS O{i}"}
        started = time.perf_counter()
        with session(engine) as db:
            domain.import_labs(session=db, now=NOW, actor="bench", rows=[row])
        imported.append(time.perf_counter() - started)
    return {
        "add_lab_ms": round(statistics.median(create) * 1000, 1),
        "import_one_lab_ms": round(statistics.median(imported) * 1000, 1),
    }


def _setup(database_url: str | None, data_dir: Path) -> Any:
    init_registry(
        data_dir=data_dir,
        database_url=database_url,
        registry_id="https://cnas.example.cn",
        country="CN",
        accreditation_body="CNAS",
        publication_url="https://cnas.example.cn/trust-list",
        lab_ids=["https://*.example.cn"],
        passphrase=PASSPHRASE,
        now=NOW,
    )
    return open_engine(data_dir=data_dir, database_url=database_url)


def _import(engine: Any, n: int) -> float:
    body = json.dumps(rows(n)).encode()
    started = time.perf_counter()
    parsed = domain.parse_import(body, media_type="application/json")
    with session(engine) as db:
        domain.import_labs(session=db, now=NOW, actor="bench", rows=parsed)
    return time.perf_counter() - started


def measure(n: int, database_url: str | None, data_dir: Path, *, small: int = 1_000) -> dict[str, Any]:
    """Seconds to import ``n`` labs with keys (one request's work) and to publish, and the
    cost of adding one lab at ``small`` labs and at ``n`` labs (each on its own database)."""
    out: dict[str, Any] = {"labs": n, "small": small}
    engine = _setup(database_url, data_dir / "small")
    _import(engine, small)
    out["at_small"] = add_one(engine, 0)
    engine.dispose()
    if database_url is not None:  # one cluster: empty it for the big registry
        _reset(database_url)
    engine = _setup(database_url, data_dir / "big")
    out["import_seconds"] = round(_import(engine, n), 2)
    key = load_key(data_dir / "big" / KEY_FILE, PASSPHRASE)
    started = time.perf_counter()
    with session(engine) as db:
        row = domain.publish_trust_list(
            session=db, now=NOW, actor="bench", key=key, validity=timedelta(days=7)
        )
    out["publish_seconds"] = round(time.perf_counter() - started, 2)
    out["trust_list_bytes"] = len(row.token)
    out["at_n"] = add_one(engine, ADDS)
    engine.dispose()
    return out


def _reset(database_url: str) -> None:
    """Drop everything in the cluster's ``public`` schema (a throwaway cluster's)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """A ``postgresql+psycopg://`` URL of a fresh cluster (as tests/conftest.py starts one),
    or None without the binaries."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="yilu-bench-pg-", dir="/tmp"))
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    data = base / "data"
    try:
        subprocess.run(
            [*as_pg, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses='' -k {base} -p {port} -c fsync=off"
        subprocess.run(
            [*as_pg, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(
            [*as_pg, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


NO_POSTGRES = "PostgreSQL not available (no initdb / pg_ctl on PATH)"


def measure_on(n: int, database: str, *, small: int = 1_000) -> dict[str, Any]:
    """The registry figures on one database (``sqlite`` or ``postgresql``)."""
    with tempfile.TemporaryDirectory(prefix="yilu-bench-registry-") as tmp:
        if database == "sqlite":
            return measure(n, None, Path(tmp), small=small) | {"database": "sqlite"}
        with throwaway_postgres() as url:
            if url is None:
                return {"skipped": NO_POSTGRES, "database": "postgresql"}
            return measure(n, url, Path(tmp), small=small) | {"database": "postgresql"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=18_000, help="labs to import (18000)")
    parser.add_argument("--small", type=int, default=1_000, help="the small registry for add-one (1000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    print(json.dumps(measure_on(args.n, args.db, small=args.small)))


if __name__ == "__main__":
    main()
