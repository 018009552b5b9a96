"""The installed index (verifier/_index.py) as a file a device keeps: what its tables hold
(docs/verifying.md, "What is installed"), what reading it back gives, and how a damaged or
foreign index is refused."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from protocol.errors import TrustDataError
from protocol.jws import ParsedJWS, parse_compact
from protocol.keys import SigningKey, VerifyKey
from protocol.lists import KeyRecord, Member
from protocol.status_list import StatusList
from testkit import NOW, YEAR_AGO, LabSpec, World
from verifier import _index, _snapshot
from verifier._index import (
    MAX_SKIPPED_KEPT,
    SCHEMA_VERSION,
    damaged,
    open_index,
    read_installed_at,
    read_pin,
    read_record,
    read_verified,
    write_index,
)
from verifier._snapshot import Snapshot, load_bundle
from verifier.store import SnapshotStore

QDTC, NFTC = "https://qdtc.example.cn", "https://nftc.example.ru"


class CompromisedCN(World):
    """The federation list says the CN registry's key was compromised: its trust list is dropped."""

    def member(self, cc: str) -> Member:
        member = super().member(cc)
        if cc != "CN":
            return member
        record = KeyRecord(self.reg_keys[cc].public, YEAR_AGO, None, NOW, "keyCompromise")
        return replace(member, keys=(record,))


def install(world: World, tmp_path: Path, **kw: object) -> tuple[SnapshotStore, Snapshot]:
    store = SnapshotStore(tmp_path / "trust", pinned_roots=[world.root.public])
    store.install(world.bundle(**kw), now=NOW)  # type: ignore[arg-type]
    current = store.current()
    assert current is not None
    return store, current


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def change(path: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(sql, args)
        db.commit()
    finally:
        db.close()


def test_schema_version_is_the_documented_one() -> None:
    """docs/verifying.md, "What is installed": the index schema is version 3."""
    assert SCHEMA_VERSION == 3


def test_index_of_another_schema_is_refused_but_its_record_is_kept(world: World, tmp_path: Path) -> None:
    store, _ = install(world, tmp_path)
    change(store.path, "UPDATE meta SET value = ? WHERE name = 'schema'", json.dumps(SCHEMA_VERSION - 1))
    with pytest.raises(TrustDataError, match="was written by another version of Yilu"):
        store.current()
    record = read_record(store.path)
    assert record is not None and record["bundle"]["sequence"] == 1


def test_skipped_parts_kept_is_the_documented_count() -> None:
    """docs/verifying.md, "What is installed": the first 1,000 dropped parts, and their count."""
    assert MAX_SKIPPED_KEPT == 1000


@pytest.mark.parametrize("dropped", [1000, 1001])
def test_index_keeps_the_first_1000_dropped_parts(world: World, tmp_path: Path, dropped: int) -> None:
    """docs/verifying.md, "What is installed": the first 1,000 dropped parts, and their count.
    Written straight from a loaded snapshot (no install): short enough for the mutation tool."""
    snap = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    snap.skipped[:] = [_snapshot.Skipped(f"status list #{i}", "malformed: not a JWS") for i in range(dropped)]
    path = tmp_path / "index.db"
    write_index(path, snap, parts=("zlib", b""), record=snap.versions.to_json(), verified=set())
    opened = open_index(path, (world.root.public,))
    assert [s.part for s in opened.skipped] == [f"status list #{i}" for i in range(1000)]
    assert opened.skipped_total == dropped


def test_index_keeps_the_first_skipped_parts_and_their_count(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_index, "MAX_SKIPPED_KEPT", 2)
    _, current = install(world, tmp_path, status_lists=["a", "b", "c", *world.all_status_lists()])
    assert [s.part for s in current.skipped] == ["status list #1", "status list #2"]
    assert current.skipped_total == 3


def test_index_keeps_every_skipped_part_under_the_limit(world: World, tmp_path: Path) -> None:
    snap = load_bundle(world.bundle(status_lists=["a", "b", "c"]), pinned_roots=[world.root.public])
    _, current = install(world, tmp_path, status_lists=["a", "b", "c"])
    assert current.skipped == snap.skipped and current.skipped_total == 3


def test_labs_table_holds_each_listing_as_its_registry_signed_it(world: World, tmp_path: Path) -> None:
    """UTF-8 JSON, compact, exactly the registry's listing (docs/verifying.md, "What is installed")."""
    store, current = install(world, tmp_path)
    signed = {
        lab["id"]: json.dumps(lab, ensure_ascii=False, separators=(",", ":"))
        for cc in world.reg_keys
        for lab in parse_compact(world.trust_list(cc)).payload_json()["labs"]
    }
    assert dict(rows(store.path, "SELECT id, lab FROM labs")) == signed
    assert "实验室" in signed[QDTC]
    assert current.labs[QDTC].lab.names["zh"] == "实验室 cn-food"


def test_index_of_a_snapshot_without_the_registrys_json_serialises_its_labs(
    world: World, tmp_path: Path
) -> None:
    snap = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    snap.lab_json.clear()
    path = tmp_path / "index.db"
    write_index(path, snap, parts=("zlib", b""), record=snap.versions.to_json(), verified=set())
    opened = open_index(path, (world.root.public,))
    assert {k: opened.labs[k].lab for k in snap.labs} == {k: e.lab for k, e in snap.labs.items()}
    assert sorted(opened.labs) == sorted(snap.labs)


def test_dropped_parts_are_read_back_from_the_index(tmp_path: Path) -> None:
    world = CompromisedCN()
    rogue = SigningKey.generate()
    world.labs["ru-food"].status_signer = rogue  # a known lab's list, signed by another key
    snap = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    store, current = install(world, tmp_path)
    assert snap.dropped_kids and snap.dropped_status  # the world drops something of each kind
    assert dict(current.dropped_kids) == dict(snap.dropped_kids)
    assert dict(current.dropped_status) == dict(snap.dropped_status)
    kid = world.labs["cn-food"].key.public.kid
    assert current.dropped_kids[kid] == snap.dropped_kids[kid]
    assert current.dropped_status[(NFTC, NFTC + "/status")].reason == f"not signed by a key of {NFTC}"
    assert sorted(r[0] for r in rows(store.path, "SELECT id FROM dropped_labs")) == sorted(snap.dropped_labs)
    assert snap.dropped_labs == {QDTC, "https://sdmt.example.cn"}


def test_index_without_its_version_record_is_damaged(world: World, tmp_path: Path) -> None:
    store, _ = install(world, tmp_path)
    change(store.path, "DELETE FROM meta WHERE name = 'versions'")
    with pytest.raises(TrustDataError, match="is damaged: delete it and install a full bundle"):
        read_record(store.path)


@pytest.mark.parametrize("value", ["[]", '"record"', "7"])
def test_version_record_that_is_no_object_is_damaged(world: World, tmp_path: Path, value: str) -> None:
    store, _ = install(world, tmp_path)
    change(store.path, "UPDATE meta SET value = ? WHERE name = 'versions'", value)
    with pytest.raises(TrustDataError, match="is damaged"):
        read_record(store.path)


def test_an_opened_index_answers_from_another_thread(world: World, tmp_path: Path) -> None:
    """A verifier may open the snapshot once and verify on worker threads."""
    _, current = install(world, tmp_path)
    found: list[object] = []

    def look() -> None:
        found.append(current.labs[NFTC].member.id)
        found.append(current.status_lists[(NFTC, NFTC + "/status")].valid_until)

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert found == [World.reg_id("RU"), NOW + timedelta(days=30)]


def test_installed_at_is_read_back(world: World, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "trust", pinned_roots=[world.root.public])
    assert store.installed_at() is None  # nothing installed
    store.install(world.bundle(), now=NOW)
    assert store.installed_at() == NOW
    change(store.path, "UPDATE meta SET value = ? WHERE name = 'versions'", json.dumps({"installedAt": 7}))
    assert store.installed_at() is None
    store.path.write_text("not an index")
    assert store.installed_at() is None


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, None])
def test_pin_of_no_root_version_is_damaged(world: World, tmp_path: Path, version: object) -> None:
    store, _ = install(world, tmp_path)
    pin = json.loads(rows(store.path, "SELECT value FROM meta WHERE name = 'pin'")[0][0])  # type: ignore[arg-type]
    assert read_pin(store.path) == ((world.root.public,), 1)
    change(
        store.path,
        "UPDATE meta SET value = ? WHERE name = 'pin'",
        json.dumps({**pin, "rootVersion": version}),
    )
    with pytest.raises(TrustDataError, match="is damaged"):
        read_pin(store.path)
    with pytest.raises(TrustDataError, match="is damaged"):
        store.current()


def test_lazy_maps_list_what_the_loaded_snapshot_holds(tmp_path: Path) -> None:
    world = CompromisedCN()
    world.labs["ru-food"].status_signer = SigningKey.generate()
    world.labs["kz-food"] = LabSpec("https://almaty.example.kz", "KZ", ("food",), SigningKey.generate())
    world.labs["kz-food"].status_valid_until = None
    snap = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    _, current = install(world, tmp_path)
    for name in ("labs", "keys_by_kid", "status_lists", "dropped_kids", "dropped_status"):
        loaded, opened = getattr(snap, name), getattr(current, name)
        assert sorted(opened) == sorted(loaded) and len(opened) == len(loaded), name
    assert {
        k: [(e.record, e.owner.lab, e.owner.member) for e in v] for k, v in current.keys_by_kid.items()
    } == {k: [(e.record, e.owner.lab, e.owner.member) for e in v] for k, v in snap.keys_by_kid.items()}

    def status(sl: StatusList) -> tuple[object, ...]:
        return (
            sl.url,
            sl.issuer,
            sl.purposes,
            len(sl.bits),
            sl.bits.set_indices(),
            sl.valid_from,
            sl.valid_until,
        )

    assert {k: status(v) for k, v in current.status_lists.items()} == {
        k: status(v) for k, v in snap.status_lists.items()
    }
    assert current.lab_counts() == snap.lab_counts() == {World.reg_id("KZ"): 1, World.reg_id("RU"): 1}
    assert sorted(current.status_validity(), key=str) == sorted(snap.status_validity(), key=str)
    assert ("https://almaty.example.kz/status", None) in current.status_validity()


def test_lazy_maps_refuse_what_they_do_not_hold_and_any_change(world: World, tmp_path: Path) -> None:
    _, current = install(world, tmp_path)
    kid = world.labs["cn-food"].key.public.kid
    assert [e.owner.lab.id for e in current.keys_by_kid[kid]] == [QDTC]
    for mapping, key in (
        (current.labs, "https://nowhere.example.cn"),
        (current.labs, 7),
        (current.keys_by_kid, "no-such-kid"),
        (current.keys_by_kid, 7),
        (current.status_lists, (QDTC, QDTC + "/other")),
        (current.dropped_kids, kid),
        (current.dropped_status, (QDTC, QDTC + "/status")),
        (current.revoked_before, (QDTC, QDTC + "/status")),
    ):
        with pytest.raises(KeyError):
            mapping[key]
    assert current.labs.get("https://lab.example.cn/\ud800") is None  # a lone surrogate is no stored text
    assert current.keys_by_kid.get("kid\ud800") is None
    assert current.status_lists.get((QDTC, QDTC + "/\ud800")) is None
    assert current.root_keys == (world.root.public,) and current.root_version == 1
    with pytest.raises(TypeError, match="read-only"):
        current.labs[QDTC] = current.labs[QDTC]
    with pytest.raises(TypeError, match="read-only"):
        del current.labs[QDTC]


def test_revocations_on_record_are_read_back(world: World, tmp_path: Path) -> None:
    world.labs["cn-food"].revoked = {3, 5}
    data = world.bundle()
    store = SnapshotStore(tmp_path / "trust", pinned_roots=[world.root.public])
    store.install(data, now=NOW)
    store.check_not_older(snap := load_bundle(data, pinned_roots=[world.root.public]))
    current = store.current()
    assert current is not None
    key = (QDTC, QDTC + "/status")
    assert current.revoked_before[key] == frozenset({6, 10}) == snap.revoked_before[key]
    assert list(current.revoked_before) == [key] and len(current.revoked_before) == 1


def test_a_key_row_past_its_labs_keys_is_ignored(world: World, tmp_path: Path) -> None:
    store, _ = install(world, tmp_path)
    kid = world.labs["cn-food"].key.public.kid
    change(store.path, "UPDATE keys SET idx = 1 WHERE kid = ?", kid)  # the lab has one key: index 0
    current = store.current()
    assert current is not None and kid not in current.keys_by_kid
    change(store.path, "UPDATE keys SET idx = -1 WHERE kid = ?", kid)
    current = store.current()
    assert current is not None and kid not in current.keys_by_kid


def test_damaged_says_which_index_and_what_to_do() -> None:
    tail = (
        ": delete it and install a full bundle (this device then forgets which versions and "
        "revocations it had seen)"
    )
    assert (
        damaged(Path("/data/trust/index.db")) == "the installed index /data/trust/index.db is damaged" + tail
    )
    assert damaged(None) == "the installed index is damaged" + tail
    assert damaged(None, "is gone") == "the installed index is gone" + tail


def test_signature_checks_are_kept_for_the_next_install(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index remembers what install verified, so that installing again checks only the
    bundle and its federation list (docs/verifying.md, "What is installed": ``verified``)."""
    calls: list[str] = []
    real = _snapshot.verify_raw

    def counted(parsed: ParsedJWS, key: VerifyKey) -> bool:
        calls.append(parsed.header.get("typ", ""))
        return real(parsed, key)

    monkeypatch.setattr(_snapshot, "verify_raw", counted)
    data = world.bundle()
    store = SnapshotStore(tmp_path / "trust", pinned_roots=[world.root.public])
    installed = store.install(data, now=NOW)
    assert read_verified(store.path) == installed.snapshot.verified
    assert len(installed.snapshot.verified) == 6  # three trust lists, three status lists
    first = len(calls)
    calls.clear()
    again = store.install(data, now=NOW)
    assert not again.changed
    assert len(calls) == first - 3  # the trust lists' checks are remembered
    assert read_verified(tmp_path / "nowhere.db") == set()


def test_the_bundle_head_and_parts_are_read_back(world: World, tmp_path: Path) -> None:
    """What the next delta applies to: the installed bundle's head and parts, as installed."""
    store, current = install(world, tmp_path)
    assert (current.sequence, current.created_at, current.bundle.federation) == (
        1,
        NOW - timedelta(minutes=30),
        "https://federation.example",
    )
    parts = store.installed_bundle()
    assert parts is not None
    assert (parts.sequence, parts.created_at, parts.root_keys) == (
        1,
        current.created_at,
        (dict(world.root.public.jwk),),
    )
    assert parts.trust_lists == tuple(world.trust_list(cc) for cc in world.reg_keys)
    assert parts.federation_list == world.federation()
    change(store.path, "DELETE FROM parts")
    with pytest.raises(TrustDataError, match="is damaged"):
        store.installed_bundle()


def test_installed_at_that_is_no_text_or_missing_reads_as_none(world: World, tmp_path: Path) -> None:
    store, _ = install(world, tmp_path)
    assert read_installed_at(store.path) == "2026-11-27T09:00:00Z"
    change(store.path, "UPDATE meta SET value = ? WHERE name = 'versions'", json.dumps({"installedAt": 7}))
    assert read_installed_at(store.path) is None
    change(store.path, "DELETE FROM meta WHERE name = 'versions'")
    assert read_installed_at(store.path) is None
    assert read_installed_at(tmp_path / "nowhere.db") is None
