"""Deltas and the installed index: every protection of a full bundle holds for a delta
(docs/verifying.md, "Updates"), and the index answers exactly as the bundle it came from.

Attacks are signed with the keys of the party that mounts them: the root's (a replayed or
misdirected delta), a registry's (a listing outside its names), a lab's (an older list).
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.bundle import TYP_BUNDLE, Bundle, make_delta, read_unchecked
from protocol.errors import RollbackError, StaleTrustDataError, TrustDataError
from protocol.jws import sign_compact
from protocol.keys import SigningKey, VerifyKey
from protocol.reasons import ReasonCode as R
from protocol.status_list import Bitstring, StatusList, slot_indices
from protocol.vocabulary import STATUS_PURPOSES
from testkit import FEDERATION, NOW, LabSpec, World
from verifier import Verifier, load_bundle
from verifier import _snapshot as snapshot_module
from verifier._index import read_record
from verifier.store import SnapshotStore


def parts_of(data: bytes) -> Bundle:
    return read_unchecked(data)


def delta(old: bytes, new: bytes, signer: SigningKey) -> bytes:
    return make_delta(parts_of(old), parts_of(new), signer, signer.public.kid)


def status_list(world: World, lab: str, *, revoked: set[int], minutes_ago: int) -> str:
    spec = world.labs[lab]
    bits = Bitstring()
    for slot in revoked:
        bits.set(slot_indices(slot)[0], True)
    sl = StatusList(
        spec.url,
        spec.id,
        STATUS_PURPOSES,
        bits,
        NOW - timedelta(minutes=minutes_ago),
        NOW + timedelta(days=30),
    )
    return sl.sign(spec.key, spec.key.public.kid)


def statuses(world: World, cn_food: str) -> list[str]:
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    return [cn_food, *others]


def store_for(world: World, path: Path) -> SnapshotStore:
    return SnapshotStore(path, pinned_roots=[world.root.public])


def without_time(record: dict[str, Any] | None) -> dict[str, Any]:
    assert record is not None
    return {k: v for k, v in record.items() if k != "installedAt"}


@pytest.fixture
def day(world: World) -> tuple[bytes, bytes]:
    """Bundle 1, and bundle 2 a day later in which the CN food lab revoked slot 4242."""
    first = world.bundle(
        status_lists=statuses(world, status_list(world, "cn-food", revoked=set(), minutes_ago=60))
    )
    # The same trust lists and federation list: only the lab's status list changes.
    second = world.bundle(
        sequence=2,
        status_lists=statuses(world, status_list(world, "cn-food", revoked={4242}, minutes_ago=10)),
        created_at=NOW - timedelta(minutes=5),
    )
    return first, second


def test_a_delta_installs_exactly_what_the_full_bundle_would(
    world: World, day: tuple[bytes, bytes], tmp_path: Path
) -> None:
    first, second = day
    by_delta, by_full = store_for(world, tmp_path / "a"), store_for(world, tmp_path / "b")
    by_delta.install(first, now=NOW)
    update = delta(first, second, world.root)
    assert len(update) < len(second)
    installed = by_delta.install(update, now=NOW)
    assert installed.changed and installed.snapshot.sequence == 2
    by_full.install(second, now=NOW)
    assert without_time(read_record(by_delta.path)) == without_time(read_record(by_full.path))
    snapshot = by_delta.current()
    assert snapshot is not None
    result = Verifier(snapshot, country="KZ").verify(world.issue("cn-food", slot=4242), at=NOW)
    assert list(result.codes) == [R.REVOKED]


def test_a_delta_to_an_older_status_list_is_a_rollback(
    world: World, day: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """The root (or anyone replaying its deltas) cannot carry a lab's list back in time:
    bundle 3 built from 2 with the lab's unrevoked list of day 1 is refused, store untouched."""
    first, second = day
    store = store_for(world, tmp_path)
    store.install(first, now=NOW)
    store.install(delta(first, second, world.root), now=NOW)
    before = read_record(store.path)
    third = world.bundle(
        sequence=3,
        status_lists=statuses(world, status_list(world, "cn-food", revoked=set(), minutes_ago=60)),
        created_at=NOW - timedelta(minutes=2),
    )
    with pytest.raises(RollbackError, match="status list"):
        store.install(delta(second, third, world.root), now=NOW)
    assert read_record(store.path) == before
    snapshot = store.current()
    assert snapshot is not None and snapshot.sequence == 2


def test_a_replayed_or_misdirected_delta_is_refused(
    world: World, day: tuple[bytes, bytes], tmp_path: Path
) -> None:
    first, second = day
    update = delta(first, second, world.root)
    store = store_for(world, tmp_path)
    with pytest.raises(TrustDataError, match="nothing is installed"):
        store.install(update, now=NOW)
    store.install(first, now=NOW)
    store.install(update, now=NOW)
    with pytest.raises(TrustDataError, match="install a full bundle"):
        store.install(update, now=NOW)  # replayed: it holds bundle 2 already
    other = store_for(world, tmp_path / "other")
    other.install(second, now=NOW)
    with pytest.raises(TrustDataError, match="applies to bundle sequence 1"):
        other.install(update, now=NOW)


def test_a_delta_signed_by_another_root_is_refused(
    world: World, day: tuple[bytes, bytes], tmp_path: Path
) -> None:
    first, second = day
    store = store_for(world, tmp_path)
    store.install(first, now=NOW)
    with pytest.raises(TrustDataError, match="not by your pinned federation root"):
        store.install(delta(first, second, SigningKey.generate()), now=NOW)
    assert read_record(store.path) is not None and store.current() is not None


def test_a_delta_to_a_frozen_federation_is_refused(world: World, tmp_path: Path) -> None:
    first = world.bundle()
    world.sequence = 2
    world.federation_expires = NOW - timedelta(minutes=1)
    stale = world.bundle()
    store = store_for(world, tmp_path)
    store.install(first, now=NOW - timedelta(hours=1))
    with pytest.raises(StaleTrustDataError):
        store.install(delta(first, stale, world.root), now=NOW)


def test_binding_holds_for_a_delta(world: World, tmp_path: Path) -> None:
    """A delta that brings a KZ trust list listing a CN lab (signed with the KZ registry's
    real key) gets that listing dropped, exactly as in a full bundle."""
    first = world.bundle()
    store = store_for(world, tmp_path)
    store.install(first, now=NOW)
    world.labs["cn-food"].country = "KZ"  # the KZ registry now lists the CN lab
    world.sequence = 2
    second = world.bundle()
    installed = store.install(delta(first, second, world.root), now=NOW)
    assert any("may not list this lab" in s.reason for s in installed.snapshot.skipped)
    snapshot = store.current()
    assert snapshot is not None
    assert Verifier(snapshot, country="KZ").verify(world.issue("cn-food"), at=NOW).codes == (R.UNKNOWN_KEY,)


def test_a_second_install_checks_only_new_signatures(
    world: World, day: tuple[bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = day
    store = store_for(world, tmp_path)
    store.install(first, now=NOW)
    calls: list[str] = []
    real = VerifyKey.verify

    def counting(self: VerifyKey, signature: bytes, signing_input: bytes) -> bool:
        calls.append(self.kid)
        return real(self, signature, signing_input)

    monkeypatch.setattr(VerifyKey, "verify", counting)
    store.install(delta(first, second, world.root), now=NOW)
    # The manifest, the federation list (root key, checked directly) and the one new status
    # list: the unchanged trust lists and status lists were verified before.
    assert calls.count(world.labs["cn-food"].key.public.kid) == 1
    assert world.labs["ru-food"].key.public.kid not in calls
    assert not any(k in calls for k in (key.public.kid for key in world.reg_keys.values())), calls


def content(snap: Any) -> dict[Any, Any]:
    return {
        key: (
            sl.url,
            sl.issuer,
            sl.purposes,
            len(sl.bits),
            sl.bits.set_indices(),
            sl.valid_from,
            sl.valid_until,
        )
        for key, sl in snap.status_lists.items()
    }


def test_the_parallel_path_gives_the_same_snapshot(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    data = world.bundle(
        status_lists=[
            *world.all_status_lists(),
            status_list(world, "cn-food", revoked={7}, minutes_ago=5),
            "not.a.list",
            world.status_lists(world.labs["ru-food"])[0].replace("A", "B", 1),
        ]
    )
    plain = load_bundle(data, pinned_roots=[world.root.public])
    monkeypatch.setattr(snapshot_module._Checker, "PARALLEL_FROM", 1)
    pooled = load_bundle(data, pinned_roots=[world.root.public])
    assert content(pooled) == content(plain) and len(content(plain)) == 3
    assert pooled.versions == plain.versions
    assert [str(s) for s in pooled.skipped] == [str(s) for s in plain.skipped]
    assert plain.status_lists[(world.labs["cn-food"].id, world.labs["cn-food"].url)].bits.get(14)


def test_the_index_gives_the_verdicts_the_bundle_gives(world: World, tmp_path: Path) -> None:
    world.labs["cn-food"].revoked = {11}
    world.labs["cn-food"].suspended = {12}
    world.labs["ru-food"].status_valid_until = NOW - timedelta(minutes=1)
    data = world.bundle(status_lists=[*world.all_status_lists(), "junk"])
    loaded = load_bundle(data, pinned_roots=[world.root.public])
    store = store_for(world, tmp_path)
    store.install(data, now=NOW)
    indexed = store.current()
    assert indexed is not None and indexed.index is not None
    certs = [
        world.issue("cn-food"),
        world.issue("cn-food", slot=11),
        world.issue("cn-food", slot=12),
        world.issue("cn-metals"),
        world.issue("ru-food"),
        world.issue("cn-food", key=SigningKey.generate()),
        "YL1:garbage",
    ]
    for country in ("CN", "KZ", "RU"):
        for cert in certs:
            a = Verifier(loaded, country=country).verify(cert, at=NOW)
            b = Verifier(indexed, country=country).verify(cert, at=NOW)
            assert (a.verdict, a.codes, a.issuer) == (b.verdict, b.codes, b.issuer), (country, cert[:30])
            assert a.trust == b.trust
    assert indexed.skipped_total == len(loaded.skipped) == 1


def test_a_damaged_index_is_trust_data_error_not_a_crash(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    db = sqlite3.connect(store.path)
    with db:
        db.execute("DROP TABLE keys")
    db.close()
    snapshot = store.current()
    assert snapshot is not None
    # Found out mid-scan: cannot verify, never a crash and never a reject.
    result = Verifier(snapshot, country="KZ").verify(world.issue(), at=NOW)
    assert result.verdict == "unverifiable" and list(result.codes) == [R.TRUST_DATA_INVALID]
    assert "damaged" in result.reasons[0].message()
    with pytest.raises(TrustDataError, match="damaged"):
        Verifier(snapshot, country="KZ").verify_or_raise(world.issue(), at=NOW)
    store.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(TrustDataError, match="damaged"):
        store.current()
    with pytest.raises(TrustDataError, match="damaged"):
        store.install(world.bundle(), now=NOW)


def test_a_delta_from_another_federation_is_refused(world: World, tmp_path: Path) -> None:
    first = world.bundle()
    store = store_for(world, tmp_path)
    store.install(first, now=NOW)
    foreign = Bundle("https://other.example", 2, NOW, (), world.federation(), (), ())
    with pytest.raises(Exception, match="federations"):
        make_delta(parts_of(first), foreign, world.root, world.root.public.kid)
    assert foreign.federation != FEDERATION


def test_a_version_1_bundle_is_named_as_such(world: World) -> None:
    old = sign_compact(
        b'{"type":"YiluBundle","version":1}', world.root, kid=world.root.public.kid, typ=TYP_BUNDLE
    )
    with pytest.raises(
        TrustDataError, match=r"older format \(version 1\): ask your agency for a current one$"
    ):
        load_bundle(old.encode(), pinned_roots=[world.root.public])


def test_a_damaged_index_says_how_to_start_over(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    store.path.write_bytes(b"\0" * 4096)
    with pytest.raises(TrustDataError, match="delete it and install a full bundle") as info:
        store.install(world.bundle(), now=NOW)
    assert str(store.path) in str(info.value)
    store.path.unlink()
    assert store.install(world.bundle(), now=NOW).changed


def test_an_index_of_another_schema_is_refused_but_its_record_kept(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(sequence=2), now=NOW)
    db = sqlite3.connect(store.path)
    with db:
        db.execute("UPDATE meta SET value = '1' WHERE name = 'schema'")
    db.close()
    with pytest.raises(TrustDataError, match="another version of Yilu: install a full bundle again"):
        store.current()
    # The rollback record survives the schema: an older bundle is still refused, a full one installs.
    with pytest.raises(RollbackError):
        store.install(world.bundle(sequence=1), now=NOW)
    assert store.install(world.bundle(sequence=3), now=NOW).changed
    current = store.current()
    assert current is not None and current.sequence == 3


def test_a_lab_cannot_unrevoke_through_a_delta(
    world: World, day: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """A rogue lab signs (with its real key) a newer list that clears the revoked bit; the
    root carries it in the next delta. The device keeps it revoked and says so."""
    first, second = day
    store = store_for(world, tmp_path)
    store.install(first, now=NOW)
    store.install(delta(first, second, world.root), now=NOW)
    cleared = world.bundle(
        sequence=3,
        status_lists=statuses(world, status_list(world, "cn-food", revoked=set(), minutes_ago=2)),
        created_at=NOW - timedelta(minutes=1),
    )
    installed = store.install(delta(second, cleared, world.root), now=NOW)
    assert any("clears revocations" in w and "8484" in w for w in installed.warnings), installed.warnings
    snapshot = store.current()
    assert snapshot is not None and snapshot.sequence == 3
    result = Verifier(snapshot, country="KZ").verify(world.issue("cn-food", slot=4242), at=NOW)
    assert list(result.codes) == [R.REVOKED]
    # A certificate in another slot of the same list is unaffected.
    assert Verifier(snapshot, country="KZ").verify(world.issue("cn-food", slot=7), at=NOW).accepted


def test_a_rogue_registry_gains_nothing_from_the_parallel_path(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers check status lists against every key a verified trust list names, before
    the binding drops listings. A rogue KZ registry (its real key) lists the CN food lab's
    id with a key of its own, and that key signs a newer list at the CN lab's URL that
    clears the lab's revocation. Pooled or not, the listing is a dropped conflict, the rogue
    list counts for nothing, and the certificate stays revoked."""
    world.labs["cn-food"].revoked = {11}
    rogue = SigningKey.generate()
    spec = world.labs["cn-food"]
    world.labs["kz-rogue"] = LabSpec(spec.id, "KZ", ("food",), rogue)
    cleared = StatusList(
        spec.url, spec.id, STATUS_PURPOSES, Bitstring(), NOW - timedelta(minutes=5), NOW + timedelta(days=30)
    ).sign(rogue, rogue.public.kid)
    genuine = world.status_lists(spec)
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    data = world.bundle(status_lists=[*genuine, cleared, *others])
    plain = load_bundle(data, pinned_roots=[world.root.public])
    monkeypatch.setattr(snapshot_module._Checker, "PARALLEL_FROM", 1)
    pooled = load_bundle(data, pinned_roots=[world.root.public])
    for snap in (plain, pooled):
        assert any("may not list this lab" in s.reason for s in snap.skipped)
        assert snap.labs[spec.id].member.country == "CN"
        result = Verifier(snap, country="KZ").verify(world.issue("cn-food", slot=11), at=NOW)
        assert list(result.codes) == [R.REVOKED]
    assert content(pooled) == content(plain)
    assert [str(s) for s in pooled.skipped] == [str(s) for s in plain.skipped]
