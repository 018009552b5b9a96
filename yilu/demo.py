"""``yilu demo``: a complete local federation in one directory (DESIGN.md, "Command line contract").

Shape (always the same; keys are fresh each time): a federation root; member registries
for CN, RU and KZ; a CN lab accredited for food and chemicals, a CN lab for
minerals-metals and a RU lab for food; agreements under which KZ and RU recognise CN
for food, chemicals and minerals-metals and CN recognises RU and KZ for food; signed
lists; and a verifier bundle.

The root and the registries are the services' own storage and domain logic
(docs/architecture.md, "Registry service", "Root service"), called in-process on
embedded SQLite databases: no server runs. Layout (docs/architecture.md, "Demo directory")::

    DIR/root/                 the root's data dir: service.db, root-key.pem, root-keys.json
    DIR/registries/{cn,ru,kz}/ each registry's data dir: service.db, registry-key.pem
    DIR/labs/{cn-food,cn-metals,ru-food}/  the labs' issuer directories
    DIR/bundle.ylb, DIR/bundle-delta.ylb   the newest bundle and its delta from the one before
    DIR/demo.json             the layout (for ``demo refresh``) and the first admin tokens

Because the data dirs are the services', ``yilu serve registry --data-dir DIR/registries/cn``
(with ``YILU_KEY_PASSPHRASE`` set to the demo passphrase) serves the same registry.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import click
from sqlalchemy import Engine

from issuer import LabIssuer
from protocol.cli import (
    EXIT_OK,
    at_option,
    err,
    group,
    json_option,
    on_terminal,
    print_json,
    progress,
    table,
    warn,
)
from protocol.enrolment import sign_key_request
from protocol.errors import InputError, MalformedInputError
from protocol.storage import load_key, passphrase, read_json, write_atomic
from service import publication
from service.db import make_engine, migrate, session
from trust_registry import _registry_domain as registries_domain
from trust_registry import _root_domain as root_domain
from trust_registry._registry_models import LabCreate
from trust_registry._root_fetch import STATUS_LISTS_PATH, TRUST_LIST_PATH, Fetched, Fetcher, fetch_members
from trust_registry._root_models import AgreementCreate, MemberCreate
from trust_registry.registry import KEY_FILE as REGISTRY_KEY_FILE
from trust_registry.registry import init_registry, open_engine
from trust_registry.root import init_root

FEDERATION_ID: Final = "https://federation.yilu.example"
#: Who the audit logs name for what the demo does.
ACTOR: Final = "local:demo"
#: The demo's lists stay valid 30 days (docs/formats.md, "Trust list") and are re-signed by
#: ``demo refresh`` once they expire within 10 days; the services default to 7 and 2.
LIST_VALIDITY: Final = timedelta(days=30)
REPUBLISH_MARGIN: Final = timedelta(days=10)
#: ``demo report`` dates a report as sampled this many days before the day it is issued.
SAMPLED_DAYS_BEFORE: Final = 7


@dataclass(frozen=True)
class _RegistrySpec:
    key: str
    id: str
    country: str
    body: str
    lab_ids: tuple[str, ...]


@dataclass(frozen=True)
class _LabSpec:
    key: str
    id: str
    registry: str
    names: dict[str, str]
    number: str
    scopes: tuple[str, ...]


REGISTRIES: Final = (
    _RegistrySpec("cn", "https://cnas.example.cn", "CN", "CNAS", ("https://*.example.cn",)),
    _RegistrySpec("ru", "https://fsa.example.ru", "RU", "Rosaccreditation", ("https://*.example.ru",)),
    _RegistrySpec("kz", "https://nca.example.kz", "KZ", "NCA", ("https://*.example.kz",)),
)
LABS: Final = (
    _LabSpec(
        "cn-food",
        "https://qdtc.example.cn",
        "cn",
        {
            "en": "Qingdao Detection & Testing Centre",
            "zh": "青岛检测中心",
            "ru": "Циндаоский центр испытаний",
        },
        "CNAS L0001",
        ("food", "chemicals"),
    ),
    _LabSpec(
        "cn-metals",
        "https://sdmt.example.cn",
        "cn",
        {
            "en": "Shandong Metals Testing Institute",
            "zh": "山东金属检测研究院",
            "ru": "Шаньдунский институт испытаний металлов",
        },
        "CNAS L0002",
        ("minerals-metals",),
    ),
    _LabSpec(
        "ru-food",
        "https://nftc.example.ru",
        "ru",
        {
            "en": "Novosibirsk Food Testing Centre",
            "zh": "新西伯利亚食品检测中心",
            "ru": "Новосибирский центр испытаний пищевой продукции",
        },
        "RA.RU.21NF01",
        ("food",),
    ),
)
AGREEMENTS: Final = (
    ("KZ", ("cn",), ("food", "chemicals", "minerals-metals")),
    ("RU", ("cn",), ("food", "chemicals", "minerals-metals")),
    ("CN", ("ru", "kz"), ("food",)),
)


class _Stores:
    """The demo's databases (embedded SQLite in each data dir), opened once and migrated."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._engines: dict[str, Engine] = {}

    def root_dir(self) -> Path:
        return self.directory / "root"

    def registry_dir(self, key: str) -> Path:
        return self.directory / "registries" / key

    def root(self) -> Engine:
        if "" not in self._engines:
            engine = make_engine(None, data_dir=self.root_dir())
            migrate(engine, root_domain.ROOT_MIGRATIONS)
            self._engines[""] = engine
        return self._engines[""]

    def registry(self, key: str) -> Engine:
        if key not in self._engines:
            self._engines[key] = open_engine(data_dir=self.registry_dir(key), database_url=None)
        return self._engines[key]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()

    def fetcher(self, keys: list[str]) -> Fetcher:
        """The root's :data:`Fetcher`, in-process: what each registry's service would answer
        at ``publicationUrl`` + ``trust-list`` (its current signed trust list) and
        ``status-lists`` (the index of the lists it mirrors) and ``status-lists/NAME`` (one
        of them), with ETags.
        The root checks what it gets exactly as over HTTP (trust_registry/_root_fetch.py)."""
        bases = {}
        for key in keys:
            with session(self.registry(key)) as db:
                bases[registries_domain.identity(session=db).publication_url] = key

        def fetch(url: str, etag: str | None) -> Fetched:
            key = next((k for base, k in bases.items() if url.startswith(base)), None)
            if key is None:
                return Fetched(404, b"")
            path = url[next(len(b) for b, k in bases.items() if k == key) :]
            with session(self.registry(key)) as db:
                if path == TRUST_LIST_PATH:
                    row = publication.current(session=db, kind=registries_domain.TRUST_LIST)
                    if row is None:
                        return Fetched(404, b"")
                    body = row.token.encode()
                elif path == STATUS_LISTS_PATH:
                    index = registries_domain.status_list_index(session=db)
                    body = json.dumps([e.model_dump(mode="json") for e in index]).encode()
                elif path.startswith(STATUS_LISTS_PATH + "/"):
                    found = registries_domain.mirrored_list(
                        session=db, name=path.removeprefix(STATUS_LISTS_PATH + "/")
                    )
                    if found is None:
                        return Fetched(404, b"")
                    body = found.token.encode()
                else:
                    return Fetched(404, b"")
            tag = f'"{hashlib.sha256(body).hexdigest()}"'
            return Fetched(304, b"", tag) if etag == tag else Fetched(200, body, tag)

        return fetch


@contextmanager
def _stores(directory: Path) -> Iterator[_Stores]:
    stores = _Stores(directory)
    try:
        yield stores
    finally:
        stores.close()


def init(directory: Path, *, now: datetime) -> dict[str, Any]:
    """Build the demo federation in ``directory`` (which must be empty or absent)."""
    if directory.exists() and any(directory.iterdir()):
        raise InputError(f"{directory} is not empty; choose a new directory for the demo")
    secret = passphrase(demo=True)
    since = now - timedelta(days=365)
    # Whole seconds: a status list's validFrom is (issuer/_lab.py), and the key must be valid then.
    key_since = (now - timedelta(days=1)).replace(microsecond=0)
    tokens: dict[str, str] = {}
    with _stores(directory) as stores:
        tokens["root"] = init_root(
            data_dir=stores.root_dir(),
            database_url=None,
            federation_id=FEDERATION_ID,
            passphrase=secret,
            now=since,
        )
        for spec in REGISTRIES:
            tokens[spec.key] = init_registry(
                data_dir=stores.registry_dir(spec.key),
                database_url=None,
                registry_id=spec.id,
                country=spec.country,
                accreditation_body=spec.body,
                publication_url=f"{spec.id}/yilu/",
                lab_ids=list(spec.lab_ids),
                passphrase=secret,
                now=since,
            )
        countries = {spec.key: spec.country for spec in REGISTRIES}
        labs = []
        for lab_spec in LABS:
            country = countries[lab_spec.registry]
            lab = LabIssuer.create(
                directory / "labs" / lab_spec.key,
                lab_id=lab_spec.id,
                names=lab_spec.names,
                country=country,
                passphrase_text=secret,
                now=key_since,
                scopes=lab_spec.scopes,
                demo=True,
            )
            _accredit(
                stores.registry(lab_spec.registry),
                lab,
                lab_spec,
                country,
                since=since,
                key_since=key_since,
                now=now,
            )
            labs.append(
                {
                    "id": lab.id,
                    "dir": str(lab.directory.resolve()),
                    "country": country,
                    "scopes": list(lab_spec.scopes),
                    "registry": lab_spec.registry,
                }
            )
        with session(stores.root()) as db:
            ids = {}
            for spec in REGISTRIES:
                with session(stores.registry(spec.key)) as reg:
                    ident = registries_domain.identity(session=reg)
                    member = MemberCreate.model_validate(
                        {
                            "id": ident.registry_id,
                            "country": ident.country,
                            "accreditationBody": ident.accreditation_body,
                            "publicationUrl": ident.publication_url,
                            "keys": [{"jwk": dict(ident.key_jwk), "validFrom": since}],
                            "labIds": list(ident.lab_ids),
                            "activeSince": since,
                        }
                    )
                ids[spec.key] = member.id
                root_domain.admit_member(session=db, request=member, actor=ACTOR, now=now)
            for country, accepted, scopes in AGREEMENTS:
                agreement = AgreementCreate.model_validate(
                    {
                        "country": country,
                        "accepts": [ids[k] for k in accepted],
                        "scopes": list(scopes),
                        "from": since,
                    }
                )
                root_domain.create_agreement(session=db, request=agreement, actor=ACTOR, now=now)
    manifest = {
        "demo": True,
        "labs": labs,
        "registries": [s.key for s in REGISTRIES],
        # The first admin token of each service, for `yilu serve … --data-dir` on the demo's
        # data dirs; readable by the owner only, like the keys (which are public anyway).
        "adminTokens": tokens,
    }
    write_atomic(directory / "demo.json", json.dumps(manifest, indent=2) + "\n", mode=0o600)
    bundle, _ = refresh(directory, now=now)
    return {
        "bundle": str(bundle.resolve()),
        "rootKeys": str((directory / "root" / root_domain.ROOT_KEYS_FILE).resolve()),
        "labs": [{k: lab[k] for k in ("id", "dir", "country", "scopes")} for lab in labs],
    }


def _accredit(
    engine: Engine,
    lab: LabIssuer,
    spec: _LabSpec,
    country: str,
    *,
    since: datetime,
    key_since: datetime,
    now: datetime,
) -> None:
    """Accredit the lab in its registry and enrol its key as a lab would: a key request
    signed by the key itself (proof of possession), approved by the registry's operator,
    valid from the key's creation (docs/architecture.md, "Registry service")."""
    with session(engine) as db:
        registries_domain.create_lab(
            session=db,
            now=now,
            actor=ACTOR,
            lab=LabCreate.model_validate(
                {
                    "id": lab.id,
                    "names": spec.names,
                    "country": country,
                    "accreditationNumber": spec.number,
                    "scopes": [{"category": s} for s in spec.scopes],
                    "accreditedSince": since,
                }
            ),
        )
        request = sign_key_request(lab.key, lab_id=lab.id, scopes=spec.scopes, now=now)
        key = registries_domain.submit_key_request(
            session=db, now=now, actor=f"lab:{lab.id}", lab_id=lab.id, request=request
        )
        registries_domain.approve_key(
            session=db, now=now, actor=ACTOR, lab_id=lab.id, kid=key.kid, valid_from=key_since
        )


def refresh(directory: Path, *, now: datetime) -> tuple[Path, list[str]]:
    """Bring the demo federation up to date and build a new bundle; returns its path and
    what devices will not be able to use in it (bundle warnings).

    Each lab re-signs its status list if it expires soon; each registry mirrors its labs'
    current lists and publishes its trust list if it changed or expires soon; the root
    fetches what its members publish, publishes its federation list if needed and builds
    the next bundle (``bundle.ylb``) and the delta from the previous one (``bundle-delta.ylb``)."""
    manifest = read_json(directory / "demo.json") if (directory / "demo.json").exists() else None
    if not isinstance(manifest, dict) or "labs" not in manifest or "registries" not in manifest:
        raise MalformedInputError(f"{directory} is not a demo directory (demo.json is missing)")
    secret = passphrase(demo=True)
    validity, margin = LIST_VALIDITY, REPUBLISH_MARGIN
    keys = [str(k) for k in manifest["registries"]]
    with _stores(directory) as stores:
        for lab_info in manifest["labs"]:
            lab = LabIssuer.open(Path(lab_info["dir"]))
            lab.republish(now=now)
            with session(stores.registry(lab_info["registry"])) as db:
                registries_domain.mirror_status_lists(
                    session=db, now=now, actor=f"lab:{lab.id}", lists=lab.status_list_tokens()
                )
        for key in keys:
            signer = load_key(stores.registry_dir(key) / REGISTRY_KEY_FILE, secret)
            with session(stores.registry(key)) as db:
                registries_domain.publish_if_due(
                    session=db, now=now, key=signer, validity=validity, margin=margin
                )
        with session(stores.root()) as db:
            fetch_members(session=db, fetch=stores.fetcher(keys), actor=ACTOR, now=now)
        with session(stores.root()) as db:
            signer = root_domain.load_signer(stores.root_dir(), root_domain.identity(session=db), secret)
            root_domain.publish_if_needed(
                session=db, signer=signer, now=now, validity=validity, margin=margin
            )
            built = root_domain.build_bundle(session=db, signer=signer, actor=ACTOR, now=now)
            row = root_domain.get_bundle(session=db, sequence=built.sequence)
            assert row is not None
            full, delta = row.data, row.delta
    bundle = directory / "bundle.ylb"
    write_atomic(bundle, full)
    if delta is not None:
        write_atomic(directory / "bundle-delta.ylb", delta)
    return bundle, list(built.warnings)


def dated_report(report: dict[str, Any], *, today: date) -> dict[str, Any]:
    """A copy of ``report`` dated for ``today``: its sampling date and ``validUntil`` move by
    the same whole number of days, so that it was sampled :data:`SAMPLED_DAYS_BEFORE` days
    before ``today`` and stays valid as long after sampling as the original.

    The reference reports (tests/data) carry fixed dates and expire; the demo signs such a
    copy so that it works on any date. Everything else is kept as it is."""
    from protocol.encoding import format_time, parse_time

    sampling = report.get("sampling")
    sampled = sampling.get("date") if isinstance(sampling, dict) else None
    try:
        day = date.fromisoformat(sampled) if isinstance(sampled, str) and len(sampled) == 10 else None
    except ValueError:
        day = None
    if day is None or not isinstance(sampling, dict):
        raise MalformedInputError("report invalid at sampling.date: a YYYY-MM-DD date is needed to date it")
    valid_until = parse_time(report.get("validUntil"), "validUntil")
    shift = (today - timedelta(days=SAMPLED_DAYS_BEFORE)) - day
    try:
        moved_day, moved_until = day + shift, valid_until + shift
    except OverflowError as exc:
        raise MalformedInputError("report invalid at validUntil: it cannot be dated that late") from exc
    return {
        **report,
        "validUntil": format_time(moved_until),
        "sampling": {**sampling, "date": moved_day.isoformat()},
    }


# -- yilu demo ------------------------------------------------------------------------------------

cli = group(
    "demo",
    help="A complete local federation in one directory, to try Yilu (DESIGN.md, "
    '"Command line contract"; keys use a fixed, public demo passphrase).',
    example="yilu demo init demo && yilu demo refresh demo",
)


@cli.command(
    "init",
    help="Build a complete local federation in DIR: a root, registries for CN, RU and KZ, three "
    "labs, agreements, signed lists and a verifier bundle.",
    short_help="build a complete local federation in DIR",
    example="yilu demo init demo\nyilu demo init demo --json | jq -r .bundle",
)
@click.argument("directory", metavar="DIR", help="where to build it (empty or absent)")
@json_option('{"bundle", "rootKeys", "labs"}')
@at_option()
def cli_init(directory: str, as_json: bool, at: str | None) -> int:
    from protocol.cli import now

    when = now(at)
    with progress("building the demo federation…"):
        info = init(Path(directory), now=when)
    if as_json:
        print_json(info)
        return EXIT_OK
    print(f"demo federation in {directory}")
    if on_terminal(sys.stdout):
        table(
            "labs",
            ("id", "country", "scopes", "directory"),
            [(lab["id"], lab["country"], ", ".join(lab["scopes"]), lab["dir"]) for lab in info["labs"]],
        )
    else:
        for lab in info["labs"]:
            print(f"  lab {lab['id']} ({lab['country']}: {', '.join(lab['scopes'])}) -> {lab['dir']}")
    print(f"  verifier bundle: {info['bundle']}")
    print(f"  root keys to pin: {info['rootKeys']}")
    return EXIT_OK


@cli.command(
    "refresh",
    help="Republish the demo federation's lists (after revocations or other changes) and rebuild its bundle.",
    short_help="republish the demo's lists and rebuild its bundle",
    example="yilu revoke QDTC-2026-FT-004512 --lab demo/labs/cn-food && yilu demo refresh demo",
)
@click.argument("directory", metavar="DIR", help="a directory made by yilu demo init")
@at_option()
def cli_refresh(directory: str, at: str | None) -> int:
    from protocol.cli import now

    when = now(at)
    with progress("republishing the demo's lists…"):
        bundle, warnings = refresh(Path(directory), now=when)
    for warning in warnings:
        warn(warning)
    print(f"republished the demo lists; bundle: {bundle}")
    return EXIT_OK


@cli.command(
    "report",
    help="Print a copy of a test report dated today: its sampling date becomes "
    f"{SAMPLED_DAYS_BEFORE} days ago and validUntil keeps its distance from it. The reference "
    "reports (tests/data) carry fixed dates and expire; make run signs such a copy, so that "
    "the demo works on any date.",
    short_help="print a copy of a test report dated today",
    example="yilu demo report tests/data/green-tea-8.json > demo/green-tea-8.json",
)
@click.argument("report", help="the test report (JSON)")
@at_option()
def cli_report(report: str, at: str | None) -> int:
    from protocol.cli import UsageError, now

    body = read_json(Path(report))
    if not isinstance(body, dict):
        raise UsageError(f"{report} does not hold a JSON object (a test report)")
    dated = dated_report(body, today=now(at).date())
    print_json(dated)
    err(f"dated {report}: sampled {dated['sampling']['date']}, valid until {dated['validUntil']}")
    return EXIT_OK
