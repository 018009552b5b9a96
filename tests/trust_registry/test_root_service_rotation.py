"""Root key rotation in the root service, over real HTTP on SQLite and PostgreSQL (issue 7
§4 and its acceptance line "a root key rotation followed by a verifier holding only the
old root key"; docs/formats.md, "Root rotation"; docs/architecture.md, "Root service").

Two rotations; after each the federation list served is signed by the new key and names
its root version. A device that pinned the original root-keys.json installs a bundle
built after both, accepts a certificate and moves its pin to version 3; the bundle from
before is then a rollback. A restart keeps the version, the chain and the new signer. The
old key, stolen, signs nothing the service serves or a device accepts. A crash between
the new key file and the commit leaves the root as it was.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from protocol.bundle import Bundle
from protocol.errors import InputError, MalformedInputError, RollbackError, SecretError, TrustDataError
from protocol.jws import parse_compact, verify_raw
from protocol.keys import SigningKey, VerifyKey
from protocol.lists import FederationList
from protocol.rootchain import walk_root_chain
from protocol.storage import load_key
from rootkit import PASSPHRASE, Publications, app_for, auth, loopback_fetcher, member_body, set_up
from servekit import Served
from service import ServiceSettings
from service.db import alembic_config, current_revision, make_engine, migrate
from service.db import session as db_session
from testkit import NOW, World
from trust_registry import _root_domain as domain
from trust_registry._root_models import RootIdentity
from trust_registry.root import ROOT_MIGRATIONS
from verifier import Verifier
from verifier.store import SnapshotStore, read_root_keys

Serve = Callable[[Any], Served]
FED = "https://federation.example"


def _root_key(server: Served) -> VerifyKey:
    keys = [VerifyKey.from_jwk(j) for j in server.client.get("/root-keys").json()]
    assert len(keys) == 1
    return keys[0]


def _served_list(server: Served) -> tuple[Any, FederationList, str]:
    got = server.client.get("/federation-list")
    assert got.status_code == 200
    parsed = parse_compact(got.text)
    return parsed, FederationList.from_json(parsed.payload_json()), got.headers["x-yilu-sequence"]


def _federation(server: Served, admin: str, world: World) -> None:
    """CN admitted, the world's agreements accepting CN recorded, published and CN's lists fetched."""
    assert (
        server.client.post("/members", json=member_body(world, "CN"), headers=auth(admin)).status_code == 201
    )
    for agreement in (a for a in world.agreements if a.accepts == (world.reg_id("CN"),)):
        body = {
            "country": agreement.country,
            "accepts": list(agreement.accepts),
            "scopes": list(agreement.scopes),
            "from": agreement.since.isoformat(),
        }
        assert server.client.post("/agreements", json=body, headers=auth(admin)).status_code == 201
    assert server.client.post("/federation-list/publish", headers=auth(admin)).status_code == 200
    assert server.client.post("/fetch", headers=auth(admin)).json()["kept"] == 3


def test_two_rotations_then_a_device_pinned_at_the_first_root_walks_forward(
    database_url: str | None, tmp_path: Path, serve: Serve, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)
    lists = Publications()
    lists.trust["cn"] = world.trust_list("CN")
    lists.status["cn"] = [t for k in ("cn-food", "cn-metals") for t in world.status_lists(world.labs[k])]
    fetch = loopback_fetcher(serve(lists.app()).url)
    conf, admin = set_up(tmp_path, database_url)
    server = serve(app_for(conf, fetch=fetch))
    _federation(server, admin, world)
    first = server.client.post("/bundles", headers=auth(admin))
    assert first.status_code == 201
    before = server.client.get("/bundles/latest").content
    # A device that installed the first bundle, and the root-keys.json given out on day one.
    early = SnapshotStore(tmp_path / "early", pinned_roots=read_root_keys(conf.data_dir / "root-keys.json"))
    assert early.install(before, now=NOW + timedelta(minutes=1)).snapshot.root_version == 1
    shutil.copy(conf.data_dir / "root-keys.json", tmp_path / "original-root-keys.json")
    original = read_root_keys(tmp_path / "original-root-keys.json")
    assert server.client.get("/root").json()["rootVersion"] == 1
    assert server.client.get("/root/chain").json() == []

    previous = original[0]
    for version in (2, 3):
        sequence = server.client.get("/root").json()["publishedSequence"]
        rotated = server.client.post("/root/keys/rotate", headers=auth(admin))
        assert rotated.status_code == 200, rotated.text
        answer = rotated.json()
        assert answer["rootVersion"] == version and answer["federationListSequence"] == sequence + 1
        new = _root_key(server)
        assert answer["kid"] == new.kid != previous.kid
        assert read_root_keys(conf.data_dir / "root-keys.json") == (new,)
        # The federation list served now is the first of the new version, signed by its key only.
        parsed, fed, served_sequence = _served_list(server)
        assert served_sequence == str(sequence + 1) and parsed.header["kid"] == new.kid
        assert verify_raw(parsed, new) and not verify_raw(parsed, previous)
        assert fed.root_version == version and fed.root_keys == (new,)
        root = server.client.get("/root").json()
        assert (root["rootVersion"], root["chainLength"], root["unpublishedChanges"]) == (
            version,
            version - 1,
            0,
        )
        chain = server.client.get("/root/chain").json()
        assert len(chain) == version - 1
        assert walk_root_chain(original, 1, chain, FED) == ((new,), version)
        # The new key is saved encrypted to a file of its own; the old files stay.
        pem = (conf.data_dir / f"root-key-v{version}-{new.kid}.pem").read_bytes()
        assert b"ENCRYPTED" in pem
        previous = new
    assert (conf.data_dir / "root-key.pem").exists()
    rotations = [
        e["details"]
        for e in server.client.get("/audit", headers=auth(admin)).json()
        if e["action"] == "root.rotate"
    ]
    assert [(d["oldKid"], d["rootVersion"]) for d in rotations] == [
        (original[0].kid, 2),
        (rotations[0]["newKid"], 3),
    ]
    assert rotations[1]["newKid"] == previous.kid

    # A bundle built after both rotations: a device holding only the original root key
    # walks the chain, accepts a certificate, and its pin moves to version 3.
    built = server.client.post("/bundles", headers=auth(admin))
    assert built.status_code == 201 and built.json()["warnings"] == []
    after = server.client.get("/bundles/latest").content
    store = SnapshotStore(tmp_path / "device", pinned_roots=original)
    installed = store.install(after, now=NOW + timedelta(minutes=5))
    assert installed.snapshot.root_version == 3
    assert store.pin() == ((previous,), 3)
    verdict = Verifier(installed.snapshot, country="KZ").verify(
        world.issue("cn-food"), at=NOW + timedelta(hours=1)
    )
    assert verdict.verdict == "accept", verdict
    # The bundle from before the rotations is now a rollback, and changes nothing.
    with pytest.raises(RollbackError):
        store.install(before, now=NOW + timedelta(minutes=6))
    assert store.pin() == ((previous,), 3)
    # The device that installed the first bundle takes the delta and walks forward too.
    delta = server.client.get("/bundles/2/delta")
    assert delta.status_code == 200
    assert early.install(delta.content, now=NOW + timedelta(minutes=7)).snapshot.root_version == 3
    assert early.pin() == ((previous,), 3)

    # A restart keeps the root version, the chain and signs with the new key file.
    server.stop()
    server = serve(app_for(conf, fetch=fetch))
    root = server.client.get("/root").json()
    assert (root["rootVersion"], root["chainLength"]) == (3, 2)
    assert server.client.get("/root/chain").json() == chain
    republished = server.client.post("/federation-list/publish", headers=auth(admin))
    assert republished.status_code == 200
    parsed, fed, _ = _served_list(server)
    assert verify_raw(parsed, previous) and fed.root_version == 3
    assert server.client.post("/bundles", headers=auth(admin)).status_code == 201
    fresh = SnapshotStore(tmp_path / "fresh", pinned_roots=original)
    assert (
        fresh.install(
            server.client.get("/bundles/latest").content, now=NOW + timedelta(minutes=8)
        ).snapshot.root_version
        == 3
    )
    assert server.client.get("/audit/verify", headers=auth(admin)).json()["problems"] == []

    # The old key file alone signs nothing the service serves or a device accepts.
    stolen = load_key(conf.data_dir / "root-key.pem", PASSPHRASE)
    assert stolen.public == original[0]
    with pytest.raises(MalformedInputError, match="signed by one of its own rootKeys"):
        FederationList(FED, 99, NOW, NOW + timedelta(days=7), root_version=3, root_keys=(previous,)).sign(
            stolen, stolen.public.kid
        )
    forged = FederationList(
        FED,
        99,
        NOW,
        NOW + timedelta(days=7),
        fed.registries,
        fed.agreements,
        root_version=1,
        root_keys=(stolen.public,),
    ).sign(stolen, stolen.public.kid)
    for carried, refusal in (((), "rollback of the federation root"), (tuple(chain), "root version 3")):
        rogue = Bundle(
            FED, 99, NOW, (dict(stolen.public.jwk),), forged, (lists.trust["cn"],), (), root_chain=carried
        )
        with pytest.raises(TrustDataError, match=refusal):
            store.install(rogue.sign(stolen, stolen.public.kid), now=NOW + timedelta(minutes=9))
    assert store.pin() == ((previous,), 3)
    # Pointed at the old key file, the service refuses to sign with it.
    server.stop()
    engine = make_engine(database_url, data_dir=conf.data_dir)
    with engine.begin() as connection:
        connection.execute(text("UPDATE root_identity SET key_file = 'root-key.pem'"))
    engine.dispose()
    server = serve(app_for(conf, fetch=fetch))
    refused = server.client.post("/federation-list/publish", headers=auth(admin))
    assert refused.status_code == 400 and "root-key.pem is not a key of this root" in refused.json()["detail"]
    parsed, _, _ = _served_list(server)
    assert verify_raw(parsed, previous)


def test_a_crash_before_the_commit_leaves_the_root_as_it_was(
    database_url: str | None, tmp_path: Path, serve: Serve
) -> None:
    conf, _ = set_up(tmp_path, database_url)
    pinned = (conf.data_dir / "root-keys.json").read_text()
    engine = make_engine(database_url, data_dir=conf.data_dir)
    validity = timedelta(days=7)
    try:
        with db_session(engine) as session:
            old = domain.load_signer(conf.data_dir, domain.identity(session=session), PASSPHRASE)
        rotate = {"data_dir": conf.data_dir, "actor": "test", "now": NOW, "validity": validity}

        def crash_before_commit() -> None:
            with db_session(engine) as session:
                domain.rotate_root_key(session=session, old_signer=old, new_passphrase=PASSPHRASE, **rotate)
                raise RuntimeError("power cut before the commit")

        with pytest.raises(RuntimeError, match="power cut"):
            crash_before_commit()
        orphans = sorted(conf.data_dir.glob("root-key-v2-*.pem"))
        assert len(orphans) == 1  # the new key file was written first ...
        with db_session(engine) as session:
            row = domain.identity(session=session)
            assert (row.root_version, row.root_chain, row.key_file) == (1, [], "root-key.pem")
            assert domain.load_signer(conf.data_dir, row, PASSPHRASE).public == old.public
        assert (conf.data_dir / "root-keys.json").read_text() == pinned  # ... nothing else changed
        # Refusals change nothing either: a weak passphrase for the new key, a foreign signer.
        with pytest.raises(SecretError, match="too weak"), db_session(engine) as session:
            domain.rotate_root_key(session=session, old_signer=old, new_passphrase="aaaaaaaaaaaa", **rotate)
        with (
            pytest.raises(InputError, match="is not a key of this root's version 1"),
            db_session(engine) as session,
        ):
            domain.rotate_root_key(
                session=session, old_signer=SigningKey.generate(), new_passphrase=PASSPHRASE, **rotate
            )
        assert len(list(conf.data_dir.glob("root-key-v2-*.pem"))) == 1
        # The rotation that commits: root-keys.json follows only once the commit succeeded.
        with db_session(engine) as session:
            done = domain.rotate_root_key(
                session=session, old_signer=old, new_passphrase=PASSPHRASE, **rotate
            )
            assert (conf.data_dir / "root-keys.json").read_text() == pinned
        assert done.root_version == 2 and done.federation_list_sequence == 1
        assert json.loads((conf.data_dir / "root-keys.json").read_text())[0] != json.loads(pinned)[0]
        assert conf.data_dir / domain.key_file_for(2, done.kid) not in orphans
        # A crash after the commit but before root-keys.json: the service rewrites it on start.
        (conf.data_dir / "root-keys.json").write_text(pinned)
    finally:
        engine.dispose()
    server = serve(app_for(conf))
    assert [
        VerifyKey.from_jwk(j).kid for j in json.loads((conf.data_dir / "root-keys.json").read_text())
    ] == [done.kid]
    assert server.client.get("/root").json()["rootVersion"] == 2


def test_the_rotation_migration_keeps_a_root_set_up_before_it(
    database_url: str | None, tmp_path: Path
) -> None:
    from alembic import command

    engine = make_engine(database_url, data_dir=tmp_path)
    config = alembic_config(ROOT_MIGRATIONS)
    try:
        migrate(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "root0001")
        jwk = dict(SigningKey.generate().public.jwk)
        identity = sa.table(
            "root_identity",
            sa.column("id", sa.Integer),
            sa.column("federation_id", sa.String),
            sa.column("root_keys", sa.JSON),
            sa.column("key_file", sa.String),
            sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("change_count", sa.Integer),
            sa.column("published_change", sa.Integer),
            sa.column("bundle_sequence", sa.Integer),
        )
        with engine.begin() as connection:
            connection.execute(
                identity.insert().values(
                    id=1,
                    federation_id=FED,
                    root_keys=[jwk],
                    key_file="root-key.pem",
                    created_at=NOW,
                    change_count=4,
                    published_change=3,
                    bundle_sequence=2,
                )
            )
        migrate(engine, ROOT_MIGRATIONS)
        assert current_revision(engine, ROOT_MIGRATIONS) == "root0002"
        with db_session(engine) as session:
            row = session.get(RootIdentity, 1)
            assert row is not None
            assert (row.federation_id, row.root_keys, row.key_file) == (FED, [jwk], "root-key.pem")
            assert (row.change_count, row.published_change, row.bundle_sequence) == (4, 3, 2)
            assert (row.root_version, row.root_chain) == (1, [])
        # And back: the downgrade drops the two columns and keeps the rest.
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "root0001")
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT federation_id, change_count FROM root_identity")).one()
            assert tuple(kept) == (FED, 4)
            columns = {c["name"] for c in sa.inspect(connection).get_columns("root_identity")}
            assert "root_version" not in columns and "root_chain" not in columns
    finally:
        engine.dispose()


def test_the_chain_of_a_root_never_set_up_says_what_to_run(
    database_url: str | None, tmp_path: Path, serve: Serve
) -> None:
    server = serve(app_for(ServiceSettings(data_dir=tmp_path / "empty", database_url=database_url)))
    missing = server.client.get("/root/chain")
    assert missing.status_code == 503 and "yilu root init" in missing.json()["detail"]
