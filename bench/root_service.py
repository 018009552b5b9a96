"""The root service at scale (issue 7 §6): 50 member registries and N labs.

``python -m bench.root_service N [--postgres]`` measures, through the root's domain
functions on a fresh database (SQLite in a temporary data directory, or a throwaway
PostgreSQL cluster started with initdb + pg_ctl as tests/conftest.py does):

* admitting 50 members (each with its key and a ``https://*.rK.labs.example`` pattern:
  every admission runs the overlap check against all members before it),
* 50 recognition agreements,
* publishing the federation list,
* keeping the 50 trust lists and N status lists as if fetched (verified as the fetch
  step verifies them: :func:`trust_registry._root_rules.check_trust_list` /
  ``check_status_list``),
* building the bundle (and, after 1 % of the labs changed, the next bundle and its delta).

The labs are bench/federation.py's synthetic ones (names, scopes, history, two keys each),
renamed under 50 registries; their lists are signed once before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from bench import federation as fb
from protocol.keys import SigningKey
from protocol.lists import TrustList
from protocol.vocabulary import SCOPES
from service.db import make_engine, migrate
from service.db import session as db_session
from trust_registry import _root_domain as domain
from trust_registry._root_models import AgreementCreate, FetchedListRow, KeyIn, MemberCreate, MemberRow
from trust_registry._root_rules import check_status_list, check_trust_list

MEMBERS = 50
COUNTRIES = ("CN", "RU", "KZ", "UZ", "KG", "TJ", "PK", "IN", "IR", "MN")
PASSPHRASE = "bench passphrase, not a secret"  # noqa: S105


def registry(k: int) -> str:
    return f"https://registry{k:02d}.example"


def _signed(n: int) -> tuple[list[SigningKey], list[str], list[list[str]], list[Any]]:
    """Registry keys, trust lists and per-registry status lists of N labs over 50 members."""
    fed = fb.build(n)
    keys = [SigningKey.generate() for _ in range(MEMBERS)]
    by_member: list[list[Any]] = [[] for _ in range(MEMBERS)]
    for i, spec in enumerate(fed.labs):
        k = i % MEMBERS
        by_member[k].append(replace(spec, id=f"https://lab{i:06d}.r{k:02d}.labs.example"))
    trust, status = [], []
    for k, labs in enumerate(by_member):
        cc = COUNTRIES[k % len(COUNTRIES)]
        tl = TrustList(
            registry(k),
            cc,
            f"AB-{k}",
            1,
            fb.NOW - timedelta(hours=1),
            fb.NOW + fb.LIST_VALIDITY,
            tuple(replace(spec.listing(), country=cc) for spec in labs),
        )
        trust.append(tl.sign(keys[k], keys[k].public.kid))
        status.append([t for spec in labs for t in fb.make_status_lists(spec, spec.key)])
    return keys, trust, status, by_member


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway cluster (as tests/conftest.py starts one)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        raise SystemExit("initdb / pg_ctl not on PATH")
    base = Path(tempfile.mkdtemp(prefix="yilu-bench-pg-", dir="/tmp"))
    as_pg: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    subprocess.run(
        [*as_pg, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses='' -k {base} -p 5499 -c fsync=off"
    subprocess.run(
        [*as_pg, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}&port=5499"
    finally:
        subprocess.run(
            [*as_pg, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def measure(n: int, database_url: str | None = None) -> dict[str, Any]:
    """Seconds each step takes for 50 members and ``n`` labs (lists signed beforehand)."""
    t0 = time.perf_counter()
    keys, trust, status, by_member = _signed(n)
    out: dict[str, Any] = {"labs": n, "members": MEMBERS, "sign_lists_s": round(time.perf_counter() - t0, 2)}
    work = Path(tempfile.mkdtemp(prefix="yilu-bench-root-"))
    try:
        domain.init_root(
            data_dir=work,
            database_url=database_url,
            federation_id="https://federation.example",
            passphrase=PASSPHRASE,
            now=fb.NOW,
        )
        engine = make_engine(database_url, data_dir=work)
        migrate(engine, domain.ROOT_MIGRATIONS)
        with db_session(engine) as s:
            signer = domain.load_signer(work, domain.identity(session=s), PASSPHRASE)
        now = fb.NOW
        step = time.perf_counter()
        for k in range(MEMBERS):
            with db_session(engine) as s:
                domain.admit_member(
                    session=s,
                    actor="bench",
                    now=now,
                    request=MemberCreate(
                        id=registry(k),
                        country=COUNTRIES[k % len(COUNTRIES)],
                        accreditation_body=f"AB-{k}",
                        publication_url=registry(k) + "/yilu/",
                        keys=[KeyIn(jwk=dict(keys[k].public.jwk), valid_from=now - timedelta(days=900))],
                        lab_ids=[f"https://*.r{k:02d}.labs.example"],
                        active_since=now - timedelta(days=900),
                    ),
                )
        out["admit_50_s"] = round(time.perf_counter() - step, 2)
        step = time.perf_counter()
        for k in range(MEMBERS):
            with db_session(engine) as s:
                domain.create_agreement(
                    session=s,
                    actor="bench",
                    now=now,
                    request=AgreementCreate.model_validate(
                        {
                            "country": COUNTRIES[k % len(COUNTRIES)],
                            "accepts": [registry(j) for j in range(MEMBERS) if j != k],
                            "scopes": list(SCOPES),
                            "from": (now - timedelta(days=900)).isoformat(),
                        }
                    ),
                )
        out["agreements_50_s"] = round(time.perf_counter() - step, 2)
        step = time.perf_counter()
        with db_session(engine) as s:
            domain.publish_federation_list(
                session=s, signer=signer, actor="bench", now=now, validity=timedelta(days=7)
            )
        out["publish_s"] = round(time.perf_counter() - step, 2)
        step = time.perf_counter()
        with db_session(engine) as s:
            members = {m.registry_id: m for m in s.exec(select(MemberRow))}
            for k in range(MEMBERS):
                row = members[registry(k)]
                assert row.number is not None
                record = domain.member_object(s, row)
                tl, text = check_trust_list(trust[k], record, now=now)
                labs = {lab.id: lab for lab in tl.labs}
                s.add(
                    FetchedListRow(
                        member=row.number,
                        kind="trust",
                        name=registry(k),
                        version=1,
                        token=text,
                        fetched_at=now,
                    )
                )
                for token in status[k]:
                    sl, kept = check_status_list(token, labs, now=now)
                    s.add(
                        FetchedListRow(
                            member=row.number,
                            kind="status",
                            name=sl.url,
                            version=int(sl.valid_from.timestamp()),
                            token=kept,
                            fetched_at=now,
                        )
                    )
        out["verify_and_keep_lists_s"] = round(time.perf_counter() - step, 2)
        step = time.perf_counter()
        with db_session(engine) as s:
            built = domain.build_bundle(session=s, signer=signer, actor="bench", now=now)
        out["build_bundle_s"] = round(time.perf_counter() - step, 2)
        out["bundle_bytes"] = built.size
        out["bundle_warnings"] = len(built.warnings)
        # The next day: 1 % of the labs have a new status list; the next bundle and its delta.
        with db_session(engine) as s:
            rows = {r.name: r for r in s.exec(select(FetchedListRow))}
            for k in range(MEMBERS):
                for spec in by_member[k][: max(1, n // 100 // MEMBERS)]:
                    new = replace(
                        spec, revoked=spec.revoked | {7}, lists_from=fb.NEXT_DAY - timedelta(hours=1)
                    )
                    row = rows[new.url]
                    row.token = fb.make_status_lists(new, new.key)[0]
                    s.add(row)
        step = time.perf_counter()
        with db_session(engine) as s:
            second = domain.build_bundle(session=s, signer=signer, actor="bench", now=fb.NEXT_DAY)
        out["build_next_bundle_with_delta_s"] = round(time.perf_counter() - step, 2)
        out["delta_bytes"] = second.delta_size
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="the root service with 50 members and N labs")
    parser.add_argument("n", type=int, nargs="?", default=120_000)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    if args.postgres:
        with postgres() as url:
            result = measure(args.n, url) | {"database": "postgresql"}
    else:
        result = measure(args.n) | {"database": "sqlite"}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
