"""The whole chain over real HTTP (issue 7, Acceptance): a federation root and two member
registries (CN, KZ) served by uvicorn on loopback, each on its own database (SQLite
files, or separate PostgreSQL databases on one server); a lab with the issuer package.

The root admits the registries from their own ``GET /registry`` documents and records
that KZ accepts CN for food; the CN registry accredits a lab, which enrols its key with
proof of possession, an operator approves it, the lab issues a certificate and pushes its
signed status list; the root fetches, builds a bundle, and a KZ inspector's device pinned
with ``GET /root-keys`` accepts the certificate. Then a key rotation (both certificates
accept), a compromise of the old key (its certificate KEY_REVOKED, the new one still
accepted), a revocation through the status list (REVOKED) and a replayed older bundle
(refused). Time moves with the services' injected clocks, never by sleeping.

Only set-up is local, as the command line does it (``init_registry``, ``init_root``,
tokens); everything else is HTTP with bearer tokens. The registries publish under
``https://<registry>/yilu/``; the root reaches those names through a fetcher that sends
them to the loopback servers (a reverse proxy mounting each registry under ``/yilu/``),
because the root, rightly, admits only https publication URLs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from issuer import LabIssuer
from protocol.enrolment import sign_key_request
from protocol.errors import RollbackError
from protocol.keys import SigningKey, VerifyKey
from regkit import NOW, Clock, lab_body
from servekit import Served
from service.db import make_engine, session
from service.settings import ServiceSettings
from service.tokens import create_token as create_service_token
from testkit import report
from trust_registry import registry, root
from trust_registry._root_fetch import Fetched, Fetcher
from verifier import Verifier
from verifier.store import SnapshotStore

Serve = Callable[[Any], Served]
PASSPHRASE = "tea leaves from qingdao harbour"
FEDERATION = "https://federation.example"
CN = "https://cnas.example.cn"
KZ = "https://nca.example.kz"
LAB = "https://qdtc.example.cn"
LAB_REF = "qdtc.example.cn"
# The jobs would re-publish on their own; the test publishes on demand instead.
QUIET = {"publish_interval_seconds": 3600}


@pytest.fixture
def databases(database_url: str | None) -> Iterator[Callable[[], str | None]]:
    """Another empty database for each service: None (SQLite in its own data directory) or
    a new PostgreSQL database on the server ``database_url`` is on."""
    made: list[str] = []
    admin = None if database_url is None else create_engine(database_url, isolation_level="AUTOCOMMIT")
    current = database_url.split("/", 3)[3].split("?")[0] if database_url else ""

    def another() -> str | None:
        if database_url is None or admin is None:
            return None
        name = f"t_{uuid.uuid4().hex}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return database_url.replace(f"/{current}?", f"/{name}?")

    yield another
    if admin is not None:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Party:
    """One served service: its client and a bearer token."""

    served: Served
    token: str
    settings: ServiceSettings

    def call(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.served.client.request(method, path, headers=headers, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        answer = self.call(method, path, **kw)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


def proxy(routes: dict[str, str]) -> Fetcher:
    """GET ``https://<registry>/yilu/<path>`` from the loopback server serving it."""
    client = httpx.Client(timeout=10, follow_redirects=False)

    def fetch(url: str, etag: str | None) -> Fetched:
        (prefix,) = [p for p in routes if url.startswith(p)]
        answer = client.get(
            routes[prefix] + url[len(prefix) :], headers={"If-None-Match": etag} if etag else {}
        )
        return Fetched(answer.status_code, answer.content, answer.headers.get("etag"))

    return fetch


def start_registry(
    tmp_path: Path, database_url: str | None, serve: Serve, clock: Clock, rid: str, country: str, ab: str
) -> Party:
    data_dir = tmp_path / country
    admin = registry.init_registry(
        data_dir=data_dir,
        database_url=database_url,
        registry_id=rid,
        country=country,
        accreditation_body=ab,
        publication_url=f"{rid}/yilu/",
        lab_ids=[f"https://*.example.{country.lower()}"],
        passphrase=PASSPHRASE,
        now=clock(),
    )
    settings = ServiceSettings(data_dir=data_dir, database_url=database_url, **QUIET)
    return Party(serve(registry.create_app(settings, clock=clock)), admin, settings)


def registry_token(party: Party, role: str, lab_id: str | None = None, *, now: datetime) -> str:
    secret, _ = registry.create_token(
        data_dir=party.settings.data_dir,
        database_url=party.settings.database_url,
        name=f"{role} {lab_id or ''}".strip(),
        role=role,
        lab_id=lab_id,
        now=now,
    )
    return secret


def root_operator_token(settings: ServiceSettings, *, now: datetime) -> str:
    """As `yilu root token create --role operator` will: a token in the root's database."""
    engine = make_engine(settings.database_url, data_dir=settings.data_dir)
    try:
        with session(engine) as db:
            secret, _ = create_service_token(
                session=db, name="operator", role="operator", actor="local:cli", at=now
            )
        return secret
    finally:
        engine.dispose()


def enrol(cn: Party, lab_token: str, operator: str, key: SigningKey, now: datetime) -> None:
    """The lab proves possession of ``key``; an operator approves it from ``now``."""
    request = sign_key_request(key, lab_id=LAB, scopes=["food"], now=now)
    pending = cn.ok("POST", f"/labs/{LAB_REF}/keys", 201, token=lab_token, json={"request": request})
    assert pending["kid"] == key.public.kid and pending["state"] == "pending"
    assert [k["kid"] for k in cn.ok("GET", "/keys/pending", token=operator)] == [key.public.kid]
    approved = cn.ok(
        "POST",
        f"/labs/{LAB_REF}/keys/{key.public.kid}/approve",
        token=operator,
        json={"validFrom": now.isoformat()},
    )
    assert approved["state"] == "approved"


def verdict(result: Any) -> tuple[str, list[str]]:
    return result.verdict, [str(r.code) for r in result.reasons]


def test_root_registries_lab_and_verifier_over_http(
    database_url: str | None,
    databases: Callable[[], str | None],
    tmp_path: Path,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both services open their signing keys with YILU_KEY_PASSPHRASE, as in production.
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)
    clock = Clock(NOW)

    # 1. Set-up (local, as `yilu registry init` / `yilu root init`), then serve.
    cn = start_registry(tmp_path, databases(), serve, clock, CN, "CN", "CNAS")
    kz = start_registry(tmp_path, databases(), serve, clock, KZ, "KZ", "NCA")
    root_settings = ServiceSettings(data_dir=tmp_path / "root", database_url=databases(), **QUIET)
    root_admin = root.init_root(
        data_dir=root_settings.data_dir,
        database_url=root_settings.database_url,
        federation_id=FEDERATION,
        passphrase=PASSPHRASE,
        now=clock(),
    )
    fetch = proxy({f"{CN}/yilu/": f"{cn.served.url}/", f"{KZ}/yilu/": f"{kz.served.url}/"})
    fed = Party(serve(root.create_app(root_settings, clock=clock, fetch=fetch)), root_admin, root_settings)
    root_operator = root_operator_token(root_settings, now=clock())

    # 2. The root admits both registries from their own documents, binding their lab ids,
    #    records that KZ accepts CN's food results, and publishes.
    for rid, cc in ((CN, "cn"), (KZ, "kz")):
        member = fed.ok(
            "POST",
            "/members/from-url",
            201,
            json={"url": f"{rid}/yilu/registry", "labIds": [f"https://*.example.{cc}"]},
        )
        assert member["id"] == rid and member["publicationUrl"] == f"{rid}/yilu/"
    fed.ok(
        "POST",
        "/agreements",
        201,
        json={"country": "KZ", "accepts": [CN], "scopes": ["food"], "from": NOW.isoformat()},
    )
    assert fed.ok("POST", "/federation-list/publish", token=root_operator)["sequence"] >= 1

    # 3. CN accredits a lab; the lab enrols its key with proof of possession, an operator
    #    approves it; the lab issues a certificate and pushes its signed status list.
    cn_operator = registry_token(cn, "operator", now=clock())
    lab_token = registry_token(cn, "lab", LAB, now=clock())
    cn.ok("POST", "/labs", 201, token=cn_operator, json=lab_body(LAB, ("food",)))
    lab = LabIssuer.create(
        tmp_path / "lab",
        lab_id=LAB,
        names={"en": "Qingdao Tea Testing Centre"},
        country="CN",
        passphrase_text=PASSPHRASE,
        now=clock(),
        scopes=("food",),
    )
    enrol(cn, lab_token, cn_operator, lab.key, clock())
    clock.now += timedelta(hours=1)
    first = lab.issue(report("green-tea-8"), now=clock())
    push(cn, lab_token, lab.publish_status_lists(now=clock()))
    cn.ok("POST", "/trust-list/publish", token=cn_operator)

    # 4. The root fetches over HTTP and builds a bundle; a KZ device pinned with the root
    #    keys served at /root-keys installs it and accepts the certificate.
    fetched = fed.ok("POST", "/fetch", token=root_operator)
    assert fetched["dropped"] == [] and fetched["kept"] == 3  # CN's and KZ's lists, the lab's status list
    device = Device(tmp_path / "device", fed)
    device.install_latest(fed, clock())
    assert verdict(device.verify(first.jws, "KZ", clock())) == ("accept", ["ACCEPTED"])
    assert verdict(device.verify(first.jws, "UZ", clock())) == ("reject", ["NOT_RECOGNISED"])

    # 5. Rotation: a second key enrolled with proof of possession and approved, the old
    #    one retired from then on; a certificate with the new key. Both verify.
    clock.now += timedelta(days=1)
    new_key = SigningKey.generate()
    enrol(cn, lab_token, cn_operator, new_key, clock())
    old_kid = lab.kid
    cn.ok(
        "POST",
        f"/labs/{LAB_REF}/keys/{old_kid}/retire",
        token=cn_operator,
        json={"until": clock().isoformat()},
    )
    # The issuer has no key rotation of its own yet: the same lab directory and register,
    # signing with the new key from now on.
    rotated = LabIssuer(lab.directory, {**lab.config, "kid": new_key.public.kid}, new_key)
    clock.now += timedelta(hours=1)
    second = rotated.issue(report("green-tea-3"), now=clock())
    push(cn, lab_token, rotated.publish_status_lists(now=clock()))
    cn.ok("POST", "/trust-list/publish", token=cn_operator)
    fed.ok("POST", "/fetch", token=root_operator)
    built = fed.ok("POST", "/bundles", 201, token=root_operator)
    delta = fed.served.client.get(f"/bundles/{built['sequence']}/delta")
    assert delta.status_code == 200
    assert device.store.install(delta.content, now=clock()).snapshot.sequence == built["sequence"]
    device.reload()
    assert verdict(device.verify(first.jws, "KZ", clock())) == ("accept", ["ACCEPTED"])
    assert verdict(device.verify(second.jws, "KZ", clock())) == ("accept", ["ACCEPTED"])
    replay = fed.served.client.get(f"/bundles/{built['sequence']}").content
    assert len(delta.content) < len(replay)
    # The retired key signs nothing new: a certificate it signs after its retirement fails.
    late = lab.issue(report("green-tea-40"), now=clock())
    assert verdict(device.verify(late.jws, "KZ", clock())) == ("reject", ["KEY_NOT_VALID_AT_ISSUANCE"])

    # 6. The old key is compromised: revoked for keyCompromise, everything it signed is void.
    clock.now += timedelta(days=1)
    cn.ok(
        "POST",
        f"/labs/{LAB_REF}/keys/{old_kid}/revoke",
        token=cn_operator,
        json={"reason": "keyCompromise", "at": clock().isoformat()},
    )
    cn.ok("POST", "/trust-list/publish", token=cn_operator)
    fed.ok("POST", "/fetch", token=root_operator)
    device.install_latest(fed, clock())
    assert verdict(device.verify(first.jws, "KZ", clock())) == ("reject", ["KEY_REVOKED"])
    assert verdict(device.verify(second.jws, "KZ", clock())) == ("accept", ["ACCEPTED"])

    # 7. The lab revokes the second certificate in its status list and pushes it; after the
    #    next bundle it is REVOKED. An older bundle replayed to the device is refused.
    clock.now += timedelta(hours=1)
    assert rotated.set_status(second.id, purpose="revocation", value=True, now=clock())
    push(cn, lab_token, rotated.status_list_tokens()[0])
    fed.ok("POST", "/fetch", token=root_operator)
    device.install_latest(fed, clock())
    assert verdict(device.verify(second.jws, "KZ", clock())) == ("reject", ["REVOKED"])
    with pytest.raises(RollbackError):
        device.store.install(replay, now=clock())
    assert verdict(device.verify(second.jws, "KZ", clock())) == ("reject", ["REVOKED"])


def push(cn: Party, lab_token: str, token: str) -> None:
    changed = cn.ok("PUT", "/status-lists", token=lab_token, json={"lists": [token]})
    assert changed["changed"] == [f"{LAB}/status"]


class Device:
    """A KZ inspector's verifier: a snapshot store pinned with the root keys fetched once."""

    def __init__(self, directory: Path, fed: Party) -> None:
        keys = [VerifyKey.from_jwk(j) for j in fed.served.client.get("/root-keys").json()]
        self.store = SnapshotStore(directory, pinned_roots=keys)
        self.snapshot: Any = None

    def install_latest(self, fed: Party, now: datetime) -> None:
        built = fed.ok("POST", "/bundles", 201)
        latest = fed.served.client.get("/bundles/latest")
        assert latest.status_code == 200
        assert latest.headers["x-yilu-sequence"] == str(built["sequence"])
        self.snapshot = self.store.install(latest.content, now=now).snapshot
        assert self.snapshot.sequence == built["sequence"]

    def reload(self) -> None:
        self.snapshot = self.store.current()

    def verify(self, certificate: str, country: str, now: datetime) -> Any:
        return Verifier(self.snapshot, country=country).verify(certificate, at=now)
