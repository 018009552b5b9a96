"""Test kit: a small federation built in memory, with knobs for every failure.

``World`` signs real lists with real keys (no mocks); each test changes one knob and
builds a bundle, so every reason code can be produced on purpose.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protocol.bundle import Bundle
from protocol.credential import build_credential, certificate_id, status_entries
from protocol.encoding import dumps_compact, format_time
from protocol.jws import TYP_VC, parse_compact, sign_compact
from protocol.keys import SigningKey
from protocol.lists import (
    Agreement,
    FederationList,
    KeyRecord,
    Lab,
    Member,
    Scope,
    StatusEvent,
    TrustList,
)
from protocol.names import NamePattern
from protocol.rootchain import sign_rotation
from protocol.status_list import Bitstring, StatusList, slot_indices
from protocol.vocabulary import STATUS_PURPOSES

if TYPE_CHECKING:
    from sqlalchemy import Engine

DATA = Path(__file__).parent / "data"
#: This checkout's sources: subprocesses must run them, not whatever ``yilu`` is installed.
#: The repository root: where the packages are (docs/architecture.md, "Parties and packages").
SRC = Path(__file__).resolve().parents[1]
#: The tests' clock: inside the reference reports' validity (sampled 2026-11-16 and -22, valid
#: until 2027-05-20 and later). No test may depend on the day it runs (docs/testing.md).
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
#: NOW as ``--at`` takes it: the command-line tests pass it to every command that reads the clock.
AT_NOW = format_time(NOW)
FEDERATION = "https://federation.example"
YEAR_AGO = NOW - timedelta(days=365)


def report(name: str = "green-tea-8") -> dict[str, Any]:
    """A reference test report from tests/data (copied from shared/reference)."""
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return loaded


def report_for_today(name: str = "green-tea-8") -> dict[str, Any]:
    """A reference report dated for the real current day (``yilu demo report``), for the
    few tests that run commands at their default clock, now: they hold on any date."""
    from yilu.demo import dated_report

    return dated_report(report(name), today=datetime.now(UTC).date())


@dataclass
class LabSpec:
    id: str
    country: str
    #: Scope categories, or :class:`Scope` entries with a history (``since`` / ``until``).
    scopes: tuple[str | Scope, ...]
    key: SigningKey
    status: list[StatusEvent] = field(default_factory=lambda: [StatusEvent("active", YEAR_AGO)])
    key_from: datetime = YEAR_AGO
    key_until: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    extra_keys: list[KeyRecord] = field(default_factory=list)
    #: Slots k (not bit indices) whose revocation bit 2k / suspension bit 2k + 1 is set.
    revoked: set[int] = field(default_factory=set)
    suspended: set[int] = field(default_factory=set)
    status_valid_until: datetime | None = NOW + timedelta(days=30)
    status_signer: SigningKey | None = None

    def records(self) -> tuple[KeyRecord, ...]:
        main = KeyRecord(
            self.key.public, self.key_from, self.key_until, self.revoked_at, self.revocation_reason
        )
        return (main, *self.extra_keys)

    @property
    def url(self) -> str:
        """The lab's one status list (both purposes)."""
        return f"{self.id}/status"


@dataclass
class World:
    """CN, RU and KZ registries, three labs, the demo's agreements; every part adjustable."""

    root: SigningKey = field(default_factory=SigningKey.generate)
    reg_keys: dict[str, SigningKey] = field(default_factory=dict)
    member_status: dict[str, list[StatusEvent]] = field(default_factory=dict)
    labs: dict[str, LabSpec] = field(default_factory=dict)
    agreements: list[Agreement] = field(default_factory=list)
    federation_expires: datetime = NOW + timedelta(days=30)
    trust_expires: datetime = NOW + timedelta(days=30)
    sequence: int = 1
    #: Every root rotation statement so far (:meth:`rotate_root`); the root version is one more.
    root_chain: list[str] = field(default_factory=list)

    @property
    def root_version(self) -> int:
        return 1 + len(self.root_chain)

    def rotate_root(self, new: SigningKey | None = None) -> SigningKey:
        """Rotate the root to a new key (TUF style: signed by the old key and the new one);
        later lists and bundles are signed with it. Returns the retired key."""
        old, self.root = self.root, new or SigningKey.generate()
        self.root_chain.append(
            sign_rotation(
                FEDERATION,
                self.root_version + 1,
                [old.public],
                [self.root.public],
                old_signer=old,
                old_kid=old.public.kid,
                new_signer=self.root,
                new_kid=self.root.public.kid,
                issued_at=NOW - timedelta(hours=2),
            )
        )
        return old

    def __post_init__(self) -> None:
        for cc in ("CN", "RU", "KZ"):
            self.reg_keys[cc] = SigningKey.generate()
            self.member_status[cc] = [StatusEvent("active", YEAR_AGO)]
        self.labs["cn-food"] = LabSpec(
            "https://qdtc.example.cn", "CN", ("food", "chemicals"), SigningKey.generate()
        )
        self.labs["cn-metals"] = LabSpec(
            "https://sdmt.example.cn", "CN", ("minerals-metals",), SigningKey.generate("ES256")
        )
        self.labs["ru-food"] = LabSpec("https://nftc.example.ru", "RU", ("food",), SigningKey.generate())
        self.agreements = [
            Agreement("KZ", (self.reg_id("CN"),), ("food", "chemicals", "minerals-metals"), YEAR_AGO),
            Agreement("RU", (self.reg_id("CN"),), ("food", "chemicals", "minerals-metals"), YEAR_AGO),
            Agreement("CN", (self.reg_id("RU"), self.reg_id("KZ")), ("food",), YEAR_AGO),
        ]

    @staticmethod
    def reg_id(cc: str) -> str:
        return f"https://registry.example.{cc.lower()}"

    @staticmethod
    def lab_ids(cc: str) -> tuple[NamePattern, ...]:
        """The names each registry may list labs under: ``https://*.example.<cc>``."""
        return (NamePattern(f"https://*.example.{cc.lower()}"),)

    def member(self, cc: str) -> Member:
        return Member(
            self.reg_id(cc),
            cc,
            f"AB-{cc}",
            self.reg_id(cc) + "/yilu/",
            (KeyRecord(self.reg_keys[cc].public, YEAR_AGO),),
            tuple(self.member_status[cc]),
            self.lab_ids(cc),
        )

    def trust_list(self, cc: str) -> str:
        labs = tuple(
            Lab(
                spec.id,
                {"en": f"Lab {name}", "zh": f"实验室 {name}", "ru": f"Лаборатория {name}"},
                cc,
                f"{cc}-{name}",
                tuple(s if isinstance(s, Scope) else Scope(s) for s in spec.scopes),
                tuple(spec.status),
                spec.records(),
            )
            for name, spec in self.labs.items()
            if spec.country == cc
        )
        tl = TrustList(
            self.reg_id(cc), cc, f"AB-{cc}", self.sequence, NOW - timedelta(hours=1), self.trust_expires, labs
        )
        return tl.sign(self.reg_keys[cc], self.reg_keys[cc].public.kid)

    def status_lists(self, spec: LabSpec) -> list[str]:
        """The lab's one signed status list, as a one-element list."""
        bits = Bitstring()
        for slot in spec.revoked:
            bits.set(slot_indices(slot)[0], True)
        for slot in spec.suspended:
            bits.set(slot_indices(slot)[1], True)
        sl = StatusList(
            spec.url, spec.id, STATUS_PURPOSES, bits, NOW - timedelta(hours=1), spec.status_valid_until
        )
        signer = spec.status_signer or spec.key
        return [sl.sign(signer, signer.public.kid)]

    def federation(self) -> str:
        fed = FederationList(
            FEDERATION,
            self.sequence,
            NOW - timedelta(hours=1),
            self.federation_expires,
            tuple(self.member(cc) for cc in self.reg_keys),
            tuple(self.agreements),
            root_version=self.root_version,
            root_keys=(self.root.public,),
        )
        return fed.sign(self.root, self.root.public.kid)

    def bundle(
        self,
        *,
        signer: SigningKey | None = None,
        trust_lists: Iterable[str] | None = None,
        status_lists: Iterable[str] | None = None,
        federation: str | None = None,
        sequence: int | None = None,
        created_at: datetime = NOW - timedelta(minutes=30),
        root_chain: Iterable[str] | None = None,
    ) -> bytes:
        """A root-signed bundle: the world's own lists unless others are given (in that order)."""
        signer = signer or self.root
        b = Bundle(
            FEDERATION,
            self.sequence if sequence is None else sequence,
            created_at,
            (dict(self.root.public.jwk),),
            self.federation() if federation is None else federation,
            tuple(self.trust_list(cc) for cc in self.reg_keys) if trust_lists is None else tuple(trust_lists),
            tuple(self.all_status_lists()) if status_lists is None else tuple(status_lists),
            tuple(self.root_chain) if root_chain is None else tuple(root_chain),
        )
        return b.sign(signer, signer.public.kid)

    def all_status_lists(self) -> list[str]:
        return [t for spec in self.labs.values() for t in self.status_lists(spec)]

    def issue(
        self,
        lab: str = "cn-food",
        name: str = "green-tea-8",
        *,
        slot: int = 4242,
        valid_from: datetime = NOW - timedelta(days=1),
        key: SigningKey | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """A signed VC-JWT from ``lab`` (optionally with another key or altered members); its
        status entries are revocation 2 * ``slot`` and suspension 2 * ``slot`` + 1."""
        spec = self.labs[lab]
        rep = report(name)
        if lab == "cn-metals" and name == "green-tea-8":
            rep = report("steel-rebar-6")
        cred = build_credential(
            rep,
            credential_id=certificate_id(spec.id, rep["reportNumber"]),
            issuer=spec.id,
            valid_from=valid_from,
            status=status_entries(slot, spec.url),
        )
        cred.update(overrides or {})
        signer = key or spec.key
        return sign_compact(dumps_compact(cred), signer, kid=signer.public.kid, typ=TYP_VC)


def yilu_env(data_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``yilu`` subprocess (see :func:`run_yilu`)."""
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("YILU_KEY_PASSPHRASE", "YILU_ROOT_KEYS", "YILU_DATA_DIR")
    }
    full["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    full["YILU_DATA_DIR"] = str(data_dir)
    full.update(env or {})
    return full


def run_yilu(
    *args: str,
    data_dir: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    max_memory: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m yilu.cli ARGS`` as a user runs it: this checkout's code, no passphrase or
    root keys from the caller's environment, and ``$YILU_DATA_DIR`` = ``data_dir`` (a fresh
    empty directory unless given, so no installed snapshot is used by accident). Never a
    traceback on stderr, whatever the exit status."""
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="yilu-data-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    full = yilu_env(data_dir, env)

    def limit() -> None:  # pragma: no cover - runs in the child
        if max_memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))

    proc = subprocess.run(
        [sys.executable, "-m", "yilu.cli", *args],
        input=stdin,
        capture_output=True,
        env=full,
        cwd=cwd,
        timeout=timeout,
        check=False,
        preexec_fn=limit if max_memory is not None else None,
    )
    out = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert "Traceback" not in out.stderr, out.stderr
    return out


@dataclass
class SqlRegistry:
    """A registry set up as ``yilu registry init`` does (its database and encrypted key in
    ``directory``), driven in-process through its domain functions: the service's rules
    without HTTP, for tests of those rules."""

    directory: Path
    engine: Engine
    key: SigningKey
    id: str

    def mirror(self, tokens: Iterable[str], *, now: datetime) -> list[str]:
        """Mirror the labs' signed status lists; the URLs whose copy changed."""
        from service.db import session
        from trust_registry import _registry_domain as domain

        with session(self.engine) as db:
            return domain.mirror_status_lists(session=db, now=now, actor="test", lists=list(tokens))

    def mirrored(self) -> dict[str, str]:
        """URL -> token of every mirrored status list."""
        from service.db import session
        from trust_registry import _registry_domain as domain

        with session(self.engine) as db:
            return {r.url: r.token for r in domain.mirrored_lists(session=db)}

    def publish(self, *, now: datetime, validity: timedelta = timedelta(days=7)) -> str:
        """Sign the next trust list; its token."""
        from service.db import session
        from trust_registry import _registry_domain as domain

        with session(self.engine) as db:
            row = domain.publish_trust_list(
                session=db, now=now, actor="test", key=self.key, validity=validity
            )
            return row.token

    def close(self) -> None:
        self.engine.dispose()


def sql_registry(
    directory: Path,
    *,
    passphrase: str,
    since: datetime,
    database_url: str | None = None,
    registry_id: str = "https://cnas.example.cn",
    country: str = "CN",
    body: str = "CNAS",
    lab_ids: Iterable[str] = ("https://*.example.cn",),
) -> SqlRegistry:
    """A registry service's storage set up on ``database_url`` (None: SQLite in ``directory``)."""
    from protocol.storage import load_key
    from trust_registry.registry import KEY_FILE, init_registry, open_engine

    init_registry(
        data_dir=directory,
        database_url=database_url,
        registry_id=registry_id,
        country=country,
        accreditation_body=body,
        publication_url=f"{registry_id}/yilu/",
        lab_ids=list(lab_ids),
        passphrase=passphrase,
        now=since,
    )
    engine = open_engine(data_dir=directory, database_url=database_url)
    return SqlRegistry(directory, engine, load_key(directory / KEY_FILE, passphrase), registry_id)


def enrol(
    registry: SqlRegistry,
    key: SigningKey,
    *,
    lab_id: str,
    since: datetime,
    scopes: tuple[str, ...] = ("food",),
) -> None:
    """Accredit a lab for ``scopes`` from ``since`` and enrol ``key`` as a lab does: a key
    request signed by the key itself (proof of possession), approved, valid from ``since``."""
    from protocol.enrolment import sign_key_request
    from service.db import session
    from trust_registry import _registry_domain as domain
    from trust_registry._registry_models import LabCreate

    lab = LabCreate.model_validate(
        {
            "id": lab_id,
            "names": {"en": "Lab"},
            "country": _country_of(registry),
            "accreditationNumber": "L1",
            "scopes": [{"category": s} for s in scopes],
            "accreditedSince": since,
        }
    )
    with session(registry.engine) as db:
        domain.create_lab(session=db, now=since, actor="test", lab=lab)
        request = sign_key_request(key, lab_id=lab_id, scopes=scopes, now=since)
        enrolled = domain.submit_key_request(
            session=db, now=since, actor="test", lab_id=lab_id, request=request
        )
        domain.approve_key(
            session=db, now=since, actor="test", lab_id=lab_id, kid=enrolled.kid, valid_from=since
        )


def _country_of(registry: SqlRegistry) -> str:
    from service.db import session
    from trust_registry import _registry_domain as domain

    with session(registry.engine) as db:
        return domain.identity(session=db).country


@dataclass
class SqlRoot:
    """A root set up as ``yilu root init`` does (database, encrypted key, root-keys.json in
    ``directory``), driven in-process through its domain functions."""

    directory: Path
    engine: Engine
    passphrase: str

    def signer(self) -> SigningKey:
        from service.db import session
        from trust_registry import _root_domain as domain

        with session(self.engine) as db:
            return domain.load_signer(self.directory, domain.identity(session=db), self.passphrase)

    def admit(self, registry: SqlRegistry, *, since: datetime, lab_ids: Iterable[str] | None = None) -> None:
        """Admit ``registry`` with its key (valid from ``since``) and lab ids (its own by default)."""
        from service.db import session
        from trust_registry import _registry_domain as registry_domain
        from trust_registry import _root_domain as domain
        from trust_registry._root_models import MemberCreate

        with session(registry.engine) as db:
            ident = registry_domain.identity(session=db)
            request = MemberCreate.model_validate(
                {
                    "id": ident.registry_id,
                    "country": ident.country,
                    "accreditationBody": ident.accreditation_body,
                    "publicationUrl": ident.publication_url,
                    "keys": [{"jwk": dict(ident.key_jwk), "validFrom": since}],
                    "labIds": list(ident.lab_ids if lab_ids is None else lab_ids),
                    "activeSince": since,
                }
            )
        with session(self.engine) as db:
            domain.admit_member(session=db, request=request, actor="test", now=since)

    def fetch(self, published: dict[str, str], *, now: datetime, status: Iterable[str] = ()) -> None:
        """Fetch what members publish: ``published`` maps a publication URL to the trust list
        served there; every member serves ``status`` as its status lists."""
        import hashlib

        from service.db import session
        from trust_registry._root_fetch import Fetched, fetch_members

        tokens = [t.strip() for t in status]
        index = [
            {
                "url": StatusList.from_credential(parse_compact(t).payload_json()).url,
                "href": f"status-lists/{i}",
                "sha256": hashlib.sha256(t.encode()).hexdigest(),
            }
            for i, t in enumerate(tokens)
        ]
        status_body = json.dumps(index).encode()

        def fetch(url: str, etag: str | None) -> Fetched:
            for base, token in published.items():
                if url == base + "trust-list":
                    return Fetched(200, token.encode())
                if url == base + "status-lists":
                    return Fetched(200, status_body)
                for i, listed in enumerate(tokens):
                    if url == f"{base}status-lists/{i}":
                        return Fetched(200, listed.encode())
            return Fetched(404, b"")

        with session(self.engine) as db:
            fetch_members(session=db, fetch=fetch, actor="test", now=now)

    def publish(self, *, now: datetime, validity: timedelta = timedelta(days=7)) -> int:
        """Sign the next federation list; its sequence."""
        from service.db import session
        from trust_registry import _root_domain as domain

        with session(self.engine) as db:
            return domain.publish_federation_list(
                session=db, signer=self.signer(), actor="test", now=now, validity=validity
            ).sequence

    def bundle(self, *, now: datetime) -> tuple[bytes, bytes | None]:
        """Build the next bundle: it and the delta from the previous one (None for the first)."""
        from service.db import session
        from trust_registry import _root_domain as domain

        with session(self.engine) as db:
            built = domain.build_bundle(session=db, signer=self.signer(), actor="test", now=now)
            row = domain.get_bundle(session=db, sequence=built.sequence)
            assert row is not None
            return row.data, row.delta

    def close(self) -> None:
        self.engine.dispose()


def sql_root(
    directory: Path, *, passphrase: str, since: datetime, federation_id: str = "https://fed.example"
) -> SqlRoot:
    """A root service's storage set up in ``directory`` (SQLite)."""
    from service.db import make_engine, migrate
    from trust_registry.root import ROOT_MIGRATIONS, init_root

    init_root(
        data_dir=directory, database_url=None, federation_id=federation_id, passphrase=passphrase, now=since
    )
    engine = make_engine(None, data_dir=directory)
    migrate(engine, ROOT_MIGRATIONS)
    return SqlRoot(directory, engine, passphrase)
