"""Registry service at CNAS's size: bulk import of 18,000 labs with keys, and publishing
their trust list (issue 7, §6: import <= 60 s, publish <= 10 s), on SQLite and, when
``initdb`` is on PATH, on a throwaway PostgreSQL.

``python -m bench.registry [N]`` prints the numbers as JSON; :func:`measure_all` is what
``bench/__main__.py`` can call.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
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


def measure(n: int, database_url: str | None, data_dir: Path) -> dict[str, Any]:
    """Seconds to import ``n`` labs with keys (one request's work) and to publish."""
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
    engine = open_engine(data_dir=data_dir, database_url=database_url)
    body = json.dumps(rows(n)).encode()
    started = time.perf_counter()
    parsed = domain.parse_import(body, media_type="application/json")
    with session(engine) as db:
        domain.import_labs(session=db, now=NOW, actor="bench", rows=parsed)
    imported = time.perf_counter() - started
    key = load_key(data_dir / KEY_FILE, PASSPHRASE)
    started = time.perf_counter()
    with session(engine) as db:
        row = domain.publish_trust_list(
            session=db, now=NOW, actor="bench", key=key, validity=timedelta(days=7)
        )
    published = time.perf_counter() - started
    engine.dispose()
    return {
        "labs": n,
        "import_seconds": round(imported, 2),
        "publish_seconds": round(published, 2),
        "trust_list_bytes": len(row.token),
    }


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


def measure_all(n: int = 18_000) -> dict[str, Any]:
    """The registry figures on SQLite and (if available) PostgreSQL."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="yilu-bench-registry-") as tmp:
        out["sqlite"] = measure(n, None, Path(tmp) / "sqlite")
        with throwaway_postgres() as url:
            out["postgresql"] = measure(n, url, Path(tmp) / "pg") if url else "skipped: no initdb"
    return out


if __name__ == "__main__":
    print(json.dumps(measure_all(int(sys.argv[1]) if len(sys.argv) > 1 else 18_000), indent=2))
