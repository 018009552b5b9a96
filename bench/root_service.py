"""The root service at scale (issue 7 §6): 50 member registries and N labs.

``python -m bench.root_service N [--postgres]`` measures, through the root's domain
functions on a fresh database (SQLite in a temporary data directory, or a throwaway
PostgreSQL cluster started with initdb + pg_ctl as tests/conftest.py does; without
initdb it prints ``{"skipped": …}``), and prints the figures as JSON on its last line:

* admitting 50 members (each with its key and a ``https://*.rK.labs.example`` pattern:
  every admission runs the overlap check against all members before it),
* 50 recognition agreements,
* publishing the federation list,
* fetching the 50 trust lists and N status lists and keeping them
  (:func:`trust_registry._root_fetch.fetch_members`, the service's own fetch step, served
  from memory instead of HTTP: every list is verified before it is kept),
* building the bundle (and, after 1 % of the labs changed, fetching again, the next
  bundle and its delta).

The labs are bench/federation.py's synthetic ones (names, scopes, history, two keys each),
renamed under 50 registries; their lists are signed once before the clock starts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import federation as fb
from bench.registry import NO_POSTGRES, throwaway_postgres
from protocol.keys import SigningKey
from protocol.lists import TrustList
from protocol.vocabulary import SCOPES
from service.db import make_engine, migrate
from service.db import session as db_session
from trust_registry import _root_domain as domain
from trust_registry._root_fetch import Fetched, fetch_members
from trust_registry._root_models import AgreementCreate, KeyIn, MemberCreate

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


class Publications:
    """What the 50 members serve, answered from memory as the registry service would over
    HTTP: ``trust-list``, the ``status-lists`` index and each ``status-lists/<j>``."""

    def __init__(self, trust: list[str], status: list[list[str]], by_member: list[list[Any]]) -> None:
        self.lists: dict[str, str] = {}
        self.index: dict[str, list[dict[str, str]]] = {}
        self.where: dict[str, str] = {}  # status list URL -> its href URL
        for k in range(MEMBERS):
            base = registry(k) + "/yilu/"
            self.lists[base + "trust-list"] = trust[k]
            entries = []
            for j, (spec, token) in enumerate(zip(by_member[k], status[k], strict=True)):
                href = f"status-lists/{j}"
                self.lists[base + href] = token
                self.where[spec.url] = base + href
                entries.append({"url": spec.url, "href": href, "sha256": _sha(token)})
            self.index[base + "status-lists"] = entries

    def replace_status(self, url: str, token: str) -> None:
        where = self.where[url]
        self.lists[where] = token
        base, href = where.rsplit("status-lists/", 1)
        for entry in self.index[base + "status-lists"]:
            if entry["href"] == "status-lists/" + href:
                entry["sha256"] = _sha(token)

    def __call__(self, url: str, etag: str | None) -> Fetched:
        """The body with its ETag, or 304 when ``etag`` is still current (as the registry
        service answers ``If-None-Match``)."""
        if url in self.index:
            body = json.dumps(self.index[url]).encode()
        elif url in self.lists:
            body = self.lists[url].encode()
        else:
            return Fetched(404, b"")
        tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return Fetched(304, b"", tag) if etag == tag else Fetched(200, body, tag)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
        served = Publications(trust, status, by_member)
        del status  # the publications hold them now
        step = time.perf_counter()
        with db_session(engine) as s:
            report = fetch_members(session=s, fetch=served, actor="bench", now=now)
        out["fetch_and_keep_lists_s"] = round(time.perf_counter() - step, 2)
        out["lists_kept"] = report.kept
        out["lists_dropped"] = len(report.dropped)
        step = time.perf_counter()
        with db_session(engine) as s:
            built = domain.build_bundle(session=s, signer=signer, actor="bench", now=now)
        out["build_bundle_s"] = round(time.perf_counter() - step, 2)
        out["bundle_bytes"] = built.size
        out["bundle_warnings"] = len(built.warnings)
        # The next day: 1 % of the labs have a new status list; fetch again (the unchanged
        # lists cost a digest), then the next bundle and its delta.
        for k in range(MEMBERS):
            for spec in by_member[k][: max(1, n // 100 // MEMBERS)]:
                new = replace(spec, revoked=spec.revoked | {7}, lists_from=fb.NEXT_DAY - timedelta(hours=1))
                served.replace_status(new.url, fb.make_status_lists(new, new.key)[0])
        step = time.perf_counter()
        with db_session(engine) as s:
            report = fetch_members(session=s, fetch=served, actor="bench", now=fb.NEXT_DAY)
        out["refetch_after_1pc_s"] = round(time.perf_counter() - step, 2)
        out["lists_kept_next_day"] = report.kept
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
        with throwaway_postgres() as url:
            result = ({"skipped": NO_POSTGRES} if url is None else measure(args.n, url)) | {
                "database": "postgresql"
            }
    else:
        result = measure(args.n) | {"database": "sqlite"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
